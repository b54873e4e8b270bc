"""Dossier exports now live in `casework.dossier`; this thin shim keeps the review console's and
CLI's callers working. Errors come out as `ExportUnavailable` (a `ReviewError`, so the console
answers 400 with the message)."""

from __future__ import annotations

from casework import dossier
from casework.dossier import FORMAT_VERSION, FORMATS, MEDIA, DossierCase, Envelope, entity_id, ftm_entities, md_escape, to_ftm
from intake.questionnaire import Questionnaire
from review.service import ReviewError


class ExportUnavailable(ReviewError):
    """The requested export format (or jurisdiction) cannot be produced."""


def check_format(fmt: str) -> str:
    """The format name if it can be produced; `ExportUnavailable` otherwise."""
    try:
        return dossier.check_format(fmt)
    except dossier.DossierError as exc:
        raise ExportUnavailable(str(exc)) from None


def render(fmt: str, view: DossierCase, questionnaire: Questionnaire, envelope: Envelope, *, jurisdiction: str = "us",
           internal: bool = False) -> str | bytes:
    """The dossier of `view` in `fmt` (see `casework.dossier.render`)."""
    try:
        return dossier.render(fmt, view, questionnaire, envelope, jurisdiction=jurisdiction, internal=internal)
    except dossier.DossierError as exc:
        raise ExportUnavailable(str(exc)) from None


def filename(view: DossierCase, fmt: str) -> str:
    return dossier.filename(view, check_format(fmt))


def to_json(view: DossierCase, questionnaire: Questionnaire, envelope: Envelope) -> str:
    return dossier.to_json(view, questionnaire, envelope)


__all__ = ["FORMATS", "FORMAT_VERSION", "MEDIA", "Envelope", "ExportUnavailable", "check_format", "entity_id", "filename",
           "ftm_entities", "md_escape", "render", "to_ftm", "to_json"]
