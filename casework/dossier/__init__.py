"""Dossiers of one case: `md` and `pdf` laid out as a government's sanctions submission form,
`json` (the whole case, answers normalised, with the questionnaire version) and `ftm`
(FollowTheMoney entities). `render` is pure; `export` loads the case (audited) and adds the
stored screening results and cross-case links."""

from __future__ import annotations

import json
import re
from typing import Any

from casework.checklist import checklist
from casework.dossier import casefile, ftm, layout, markdown, pdf
from casework.dossier.forms import FORMS, JURISDICTIONS
from casework.dossier.ftm import entity_id, ftm_entities, to_ftm, validate
from casework.dossier.markdown import md_escape
from casework.dossier.model import DossierCase, Envelope
from intake.app import App
from intake.questionnaire import Questionnaire

FORMATS = ("md", "pdf", "json", "ftm")
FORMAT_VERSION = 2
MEDIA = {  # media type and file suffix of each format
    "md": ("text/markdown; charset=utf-8", "md"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
    "ftm": ("application/x-ndjson", "ftm.jsonl"),
}
PRIVATE = ("thread", "notes", "audit")


class DossierError(Exception):
    """A dossier that cannot be made; the message is safe to show to staff."""


def check_format(fmt: str) -> str:
    if fmt not in MEDIA:
        raise DossierError(f"unknown export format '{fmt}': use one of {', '.join(MEDIA)}")
    return fmt


def check_jurisdiction(code: str) -> str:
    if code not in FORMS:
        raise DossierError(f"unknown jurisdiction '{code}': use one of {', '.join(JURISDICTIONS)}")
    return code


def filename_for(reference: str, fmt: str, jurisdiction: str | None = None) -> str:
    """A download name: `<reference>[-<jurisdiction>].<suffix>` (jurisdiction for md and pdf)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", reference) + (f"-{jurisdiction}" if jurisdiction and fmt in ("md", "pdf") else "")
    return f"{stem}.{MEDIA[check_format(fmt)][1]}"


def filename(view: DossierCase, fmt: str, jurisdiction: str | None = None) -> str:
    return filename_for(view.reference, fmt, jurisdiction)


def to_json(view: DossierCase, questionnaire: Questionnaire, envelope: Envelope, *, internal: bool = True) -> str:
    """The case inside an export envelope, with its questionnaire version and checklist; the
    thread, notes and audit only when `internal`."""
    case = view.to_dict()
    if not internal:
        case = {k: val for k, val in case.items() if k not in PRIVATE}
    doc = {
        "format": "magnitsky-intake/dossier", "version": FORMAT_VERSION, "exported_at": envelope.exported_at.isoformat(),
        "exported_by": envelope.exported_by, "questionnaire": {"id": questionnaire.id, "version": questionnaire.version},
        "internal": internal, "checklist": checklist(questionnaire, view.answers).to_dict(), "case": case,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def render(fmt: str, view: DossierCase, questionnaire: Questionnaire, envelope: Envelope, *, jurisdiction: str = "us",
           internal: bool = False, screening: dict[str, Any] | None = None, links: dict[str, Any] | None = None) -> str | bytes:
    """The dossier of `view` in `fmt` (bytes for pdf, text otherwise)."""
    check_jurisdiction(jurisdiction)
    match check_format(fmt):
        case "json":
            return to_json(view, questionnaire, envelope, internal=internal)
        case "ftm":
            return to_ftm(view)
    doc = layout.build(view, questionnaire, envelope, jurisdiction=jurisdiction, internal=internal, screening=screening, links=links)
    if fmt == "md":
        return markdown.render(doc)
    try:
        return pdf.render(doc, view.reference)
    except pdf.FontsMissing as exc:
        raise DossierError(str(exc)) from None


async def export(app: App, reference: str, *, fmt: str, jurisdiction: str = "us", internal: bool = False, actor_kind: str,
                 actor_id: str | None, actor_name: str, remote: str | None = None, override_reason: str | None = None) -> bytes:
    """Load the case (the export and the view are audited), add its stored screening and links,
    and render it; UTF-8 bytes for the text formats."""
    from casework.links import Linker
    from casework.screening import Screener

    check_format(fmt)
    check_jurisdiction(jurisdiction)
    try:
        view = await casefile.load(app, reference, actor_kind=actor_kind, actor_id=actor_id, remote=remote, fmt=fmt, override_reason=override_reason)
    except (casefile.CaseMissing, casefile.ConsentRefused) as exc:
        raise DossierError(str(exc)) from None
    screening = (await Screener(app).stored(view.reference)).to_dict()
    links = (await Linker(app).links(view.reference)).to_dict() if internal else None
    out = render(fmt, view, app.questionnaire, Envelope(app.clock(), actor_name), jurisdiction=jurisdiction, internal=internal,
                 screening=screening, links=links)
    return out if isinstance(out, bytes) else out.encode("utf-8")


__all__ = [
    "FORMATS", "FORMAT_VERSION", "JURISDICTIONS", "MEDIA", "DossierCase", "DossierError", "Envelope", "check_format", "check_jurisdiction",
    "entity_id", "export", "filename", "filename_for", "ftm", "ftm_entities", "md_escape", "render", "to_ftm", "to_json", "validate",
]
