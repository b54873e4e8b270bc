"""Dossiers from a real case on each database: the PDF's extracted text holds Latin, Cyrillic,
Arabic and Chinese names; each jurisdiction's form orders its sections; the FtM lines pass
followthemoney's validation; internal parts only with --internal; exports audited."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from casework import dossier
from casework.dossier.forms import FORMS
from casework.screening import Screener
from intake.app import App
from tests.casework.answers import STRONG
from tests.casework.conftest import add_case

NAMES = {"latin": "Ivan Petrov", "cyrillic": "Иван Петров", "arabic": "عبد الله الراشد", "chinese": "张伟"}


def answers() -> dict:
    a = copy.deepcopy(STRONG)
    a["perpetrators"] += [
        {"perp_kind": "person", "perp_name": NAMES["arabic"], "perp_aliases": "Abdullah Al-Rashid\nnot known", "perp_role": ["ordered"],
         "perp_role_detail": "Ran the recruitment agency that confiscated passports."},
        {"perp_kind": "person", "perp_name": NAMES["chinese"], "perp_name_native": "not known", "perp_role": ["profited"]},
    ]
    a["case_title"] = "Forced labour on the Sea Star"
    return a


async def exported(app: App, ref: str, fmt: str, **kw: object) -> bytes:
    return await dossier.export(app, ref, fmt=fmt, actor_kind="staff", actor_id="staff-1", actor_name="alice@example.org", **kw)  # type: ignore[arg-type]


async def test_pdf_renders_every_script(app: App, tmp_path: Path) -> None:
    ref = await add_case(app, answers())
    data = await exported(app, ref, "pdf", jurisdiction="uk")
    assert data.startswith(b"%PDF-")
    path = tmp_path / "d.pdf"
    path.write_bytes(data)
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    for script, name in NAMES.items():
        if script == "arabic":  # shaped glyphs map back to their letters; the line may come out in visual order
            assert name in text or name[::-1] in text or all(word in text for word in name.split()), text
        else:
            assert name in text, (script, text)
    assert FORMS["uk"].names["targets"] in text and "Internal (staff only)" not in text


async def test_markdown_follows_each_form(app: App) -> None:
    ref = await add_case(app, answers())
    for code, form in FORMS.items():
        md = (await exported(app, ref, "md", jurisdiction=code)).decode()
        heads = [line for line in md.splitlines() if line.startswith("## ")]
        assert heads[: len(form.order)] == [f"## {n}. {form.names[key]}" for n, key in enumerate(form.order, 1)], code
        assert md.startswith(f"# {form.title}")
    md = (await exported(app, ref, "md", jurisdiction="us")).decode()
    assert "| E1 | survivor testimony |" in md and "**Exhibits:** E1, E2" in md
    assert "not known" not in md and "Internal notes" not in md and "## 12. Designation checklist" in md
    internal = (await exported(app, ref, "md", internal=True)).decode()
    assert "### Audit trail" in internal and "case.exported" in internal


async def test_ftm_validates_with_followthemoney(app: App, tmp_path: Path) -> None:
    ref = await add_case(app, answers())
    text = (await exported(app, ref, "ftm")).decode()
    lines = text.splitlines()
    assert dossier.validate(lines) == []
    entities = [json.loads(line) for line in lines]
    people = [e for e in entities if e["schema"] == "Person" and "crime.traffick" in e["properties"].get("topics", [])]
    assert {p["properties"]["name"][0] for p in people} >= {"Ivan Petrov", NAMES["arabic"], NAMES["chinese"]}
    arab = next(p for p in people if p["properties"]["name"] == [NAMES["arabic"]])
    assert arab["properties"]["alias"] == ["Abdullah Al-Rashid"]  # "not known" dropped
    docs = [e for e in entities if e["schema"] == "Document"]
    assert len(docs) == 2 and docs[1]["properties"]["sourceUrl"] == ["https://example.org/contract.pdf"]
    assert len([e for e in entities if e["schema"] == "Documentation"]) == 2 * 4
    # followthemoney's own command re-parses and re-cleans every entity without complaint
    path = tmp_path / "case.ftm.json"
    path.write_text(text, encoding="utf-8")
    ftm = Path(sys.executable).with_name("ftm")
    done = subprocess.run([str(ftm), "validate", "-i", str(path), "-o", str(tmp_path / "out.json")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    again = [json.loads(line) for line in (tmp_path / "out.json").read_text(encoding="utf-8").splitlines()]
    assert {e["id"]: e["properties"] for e in again} == {e["id"]: e["properties"] for e in entities}


async def test_json_and_audit(app: App) -> None:
    ref = await add_case(app, answers())
    doc = json.loads(await exported(app, ref, "json"))
    assert doc["questionnaire"] == {"id": app.questionnaire.id, "version": app.questionnaire.version}
    assert doc["checklist"]["ready"] is True and "audit" not in doc["case"] and doc["internal"] is False
    assert doc["case"]["answers"]["perpetrators"][0]["perp_dob"] == {"date": "1970-03-02", "approx": False}
    full = json.loads(await exported(app, ref, "json", internal=True))
    assert [e["action"] for e in full["case"]["audit"]].count("case.exported") == 2


async def test_screening_results_in_the_dossier(loaded: App, screener: Screener) -> None:
    ref = await add_case(loaded, answers())
    await screener.screen(ref)
    md = (await exported(loaded, ref, "md")).decode()
    assert "Screening against sanctions lists" in md and "fx-petrov" in md and "fx-zhang" in md
