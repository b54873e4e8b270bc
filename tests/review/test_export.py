"""Dossier exports through the review shim (`review.export` → `casework.dossier`): Markdown, JSON,
PDF and FollowTheMoney from a real case on each database, the export audit event, `intake export`
as a subprocess, and the console's download."""

from __future__ import annotations

import getpass
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from intake.app import App
from intake.settings import Settings
from review import export
from review.auth import AuthService
from review.service import Actor, CaseView, ReviewService
from review.web import create_app
from tests.review.conftest import make_case
from tests.review.test_web import login

PERPETRATORS = {
    "perpetrators.0.perp_kind": "person",
    "perpetrators.0.perp_name": "Ivan Petrov",
    "perpetrators.0.perp_name_native": "Иван Петров",
    "perpetrators.0.perp_aliases": "Vanya\nIvan Petroff",
    "perpetrators.0.perp_dob": "1970-03",
    "perpetrators.0.perp_birthplace": "Omsk",
    "perpetrators.0.perp_birth_country": "RU",
    "perpetrators.0.perp_nationality": "RU, BY",
    "perpetrators.0.perp_gender": "male",
    "perpetrators.0.perp_id_docs.0.id_doc_type": "passport",
    "perpetrators.0.perp_id_docs.0.id_doc_number": "AB1234567",
    "perpetrators.0.perp_id_docs.0.id_doc_country": "RU",
    "perpetrators.0.perp_positions.0.pos_title": "Colonel",
    "perpetrators.0.perp_positions.0.pos_employer": "Border Guard Service",
    "perpetrators.0.perp_positions.0.pos_country": "RU",
    "perpetrators.0.perp_positions.0.pos_from": "2015",
    "perpetrators.0.perp_positions.0.pos_current": "yes",
    "perpetrators.0.perp_family.0.fam_name": "Olga Petrova",
    "perpetrators.0.perp_family.0.fam_relation": "wife",
    "perpetrators.1.perp_kind": "company",
    "perpetrators.1.perp_name": "Acme Fishing <b>Ltd</b>",
    "perpetrators.1.ent_reg_number": "0105551234567",
    "perpetrators.1.ent_jurisdiction": "TH",
    "perpetrators.1.ent_incorporated": "2001",
    "perpetrators.1.ent_owners.0.owner_name": "Ivan Petrov",
    "perpetrators.1.ent_owners.0.owner_role": "shareholder",
    "perpetrators.1.ent_owners.0.owner_share": "51",
    "perpetrators.1.perp_role": "1",
    "perpetrators.1.perp_role_detail": "Owned the boats.\n- and paid the recruiters",
}
ENVELOPE_BY = "alice@example.org"


async def dossier_case(app: App, review: ReviewService, alice: Actor) -> tuple[str, CaseView]:
    ref = await make_case(app, "terminal", answers=PERPETRATORS)
    await review.note(alice, ref, "looks strong")
    await review.request_info(alice, ref, "Do you have *the* passport scan?")
    return ref, await review.show(ref, alice)


def envelope(app: App) -> export.Envelope:
    return export.Envelope(exported_at=app.clock(), exported_by=ENVELOPE_BY)


def by_schema(entities: list[dict[str, Any]], schema: str) -> list[dict[str, Any]]:
    return [e for e in entities if e["schema"] == schema]


async def test_markdown_dossier(app: App, review: ReviewService, alice: Actor) -> None:
    ref, view = await dossier_case(app, review, alice)
    md = export.render("md", view, app.questionnaire, envelope(app), internal=True)
    assert isinstance(md, str) and md.startswith("# Global Magnitsky sanctions submission\n")
    assert f"| Case reference | {ref} |" in md
    assert "| Status | needs\\_info |" in md and f"{app.clock().isoformat()} by {ENVELOPE_BY}" in md
    for text in ("Recommended individual(s) and entity(ies)", "## 12. Designation checklist", "### Internal notes", "### Thread",
                 "### Audit trail", "### 1\\. Ivan Petrov (person)",
                 "**Name:** Ivan Petrov", "**ID document number:** AB1234567", "**Position title:** Colonel",
                 "**Nationality:**", "(BY)", "**Date of birth:**", "**Registration number:** 0105551234567", "looks strong"):
        assert text in md, text
    assert "case.viewed" in md and "case.info\\_requested" in md
    assert "via terminal: Do you have \\*the\\* passport scan?" in md
    sendable = export.render("md", view, app.questionnaire, envelope(app))
    assert isinstance(sendable, str) and "looks strong" not in sendable and "case.viewed" not in sendable
    # submitted text stays literal: no raw HTML, no list made from a line of an answer
    tokens = MarkdownIt("commonmark").parse(md)
    assert not [t for t in tokens if t.type.startswith("html")]
    assert not [c for t in tokens for c in (t.children or []) if c.type.startswith("html")]
    assert "Acme Fishing \\<b\\>Ltd\\</b\\>" in md and "\\- and paid the recruiters" in md


async def test_markdown_lists_attachments_with_sha256(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal")
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        att = await uow.attachments.add(case_id=case.id, filename="contract|1.pdf", data=b"%PDF-1.4 test", now=app.clock(), source="terminal")
    md = export.render("md", await review.show(ref, alice), app.questionnaire, envelope(app))
    assert isinstance(md, str)
    row = next(line for line in md.splitlines() if "contract" in line)
    assert row.startswith("| E") and f"contract\\|1.pdf: {att.sha256}" in row and "received via terminal" in row


async def test_json_round_trips(app: App, review: ReviewService, alice: Actor) -> None:
    _, view = await dossier_case(app, review, alice)
    doc = json.loads(export.render("json", view, app.questionnaire, envelope(app), internal=True))
    assert doc["format"] == "magnitsky-intake/dossier" and doc["version"] == export.FORMAT_VERSION
    assert doc["exported_at"] == app.clock().isoformat() and doc["exported_by"] == ENVELOPE_BY
    assert CaseView(**doc["case"]) == view
    assert doc["case"]["answers"]["perpetrators"][0]["perp_dob"] == {"date": "1970-03", "approx": False}


async def test_ftm_entities(app: App, review: ReviewService, alice: Actor) -> None:
    ref, view = await dossier_case(app, review, alice)
    text = export.render("ftm", view, app.questionnaire, envelope(app))
    entities = [json.loads(line) for line in text.splitlines()]
    assert text.endswith("\n") and len(entities) == len(text.splitlines())
    ids = {e["id"] for e in entities}
    assert len(ids) == len(entities)
    for e in entities:
        assert set(e) == {"id", "schema", "properties"} and len(e["id"]) == 40
        assert all(isinstance(v, list) and v and all(isinstance(s, str) and s for s in v) for v in e["properties"].values()), e
        for prop in ("holder", "post", "owner", "asset", "person", "relative", "organization", "director"):
            for target in e["properties"].get(prop, []):
                assert target in ids, (e, prop)

    [person] = by_schema(entities, "Person")[:1]
    props = person["properties"]
    assert props["name"] == ["Ivan Petrov"]
    assert props["alias"] == ["Иван Петров", "Ivan Petroff"] and props["weakAlias"] == ["Vanya"]
    assert props["birthDate"] == ["1970-03"] and props["birthPlace"] == ["Omsk"] and props["birthCountry"] == ["ru"]
    assert props["nationality"] == ["ru", "by"] and props["gender"] == ["male"]
    assert props["passportNumber"] == ["AB1234567"] and props["position"] == ["Colonel, Border Guard Service"]
    assert person["id"] == export.entity_id(ref, "perpetrators.0")

    [passport] = by_schema(entities, "Passport")
    assert passport["properties"]["holder"] == [person["id"]] and passport["properties"]["number"] == ["AB1234567"]
    assert passport["properties"]["country"] == ["ru"]

    [position] = by_schema(entities, "Position")
    [employer] = by_schema(entities, "Organization")
    assert employer["properties"]["name"] == ["Border Guard Service"]
    assert position["properties"]["organization"] == [employer["id"]] and position["properties"]["country"] == ["ru"]
    [occupancy] = by_schema(entities, "Occupancy")
    assert occupancy["properties"]["holder"] == [person["id"]] and occupancy["properties"]["post"] == [position["id"]]
    assert occupancy["properties"]["startDate"] == ["2015"] and occupancy["properties"]["status"] == ["current"]

    [company] = by_schema(entities, "Company")
    cprops = company["properties"]
    assert cprops["name"] == ["Acme Fishing <b>Ltd</b>"] and cprops["registrationNumber"] == ["0105551234567"]
    assert cprops["jurisdiction"] == ["th"] and cprops["incorporationDate"] == ["2001"]
    [ownership] = by_schema(entities, "Ownership")
    # the owner is named like the person perpetrator: linked to that entity, not a new one
    assert ownership["properties"]["owner"] == [person["id"]] and ownership["properties"]["asset"] == [company["id"]]
    assert ownership["properties"]["percentage"] == ["51"] and ownership["properties"]["role"] == ["shareholder"]

    [family] = by_schema(entities, "Family")
    relative = next(e for e in entities if e["id"] == family["properties"]["relative"][0])
    assert relative["schema"] == "Person" and relative["properties"]["name"] == ["Olga Petrova"]
    assert family["properties"]["person"] == [person["id"]] and family["properties"]["relationship"] == ["wife"]

    # deterministic: the same case exports the same entities
    again = export.render("ftm", await review.show(ref, alice), app.questionnaire, envelope(app))
    assert again == text


def test_ftm_vessel_and_directors() -> None:
    view = CaseView(
        reference="MI-TEST", status="submitted", channel="email", lang="en", questionnaire="default@1", created_at="2026-01-01T00:00:00+00:00",
        submitted_at=None, assigned_to=None, decision=None, decision_reason=None, sections=[], missing=[],
        answers={"perpetrators": [
            {"perp_kind": "vessel", "perp_name": "Sea Star", "vessel_imo": "imo 9123456", "vessel_flag": "PA", "vessel_callsign": "3EXY7",
             "vessel_mmsi": "352001234", "vessel_owner_operator": "Blue Ocean Shipping"},
            {"perp_kind": "organisation", "perp_name": "Recruiters Union", "ent_owners": [{"owner_name": "Kim", "owner_role": "director"}]},
            {"perp_kind": "state_body", "perp_name": "Labour Inspectorate District 4"},
        ]},
    )
    entities = [json.loads(line) for line in export.to_ftm(view).splitlines()]
    [vessel] = by_schema(entities, "Vessel")
    assert vessel["properties"]["imoNumber"] == ["IMO9123456"] and vessel["properties"]["flag"] == ["pa"]
    assert vessel["properties"]["callSign"] == ["3EXY7"] and vessel["properties"]["mmsi"] == ["352001234"]
    operator = next(e for e in entities if e["id"] == vessel["properties"]["operator"][0])
    assert operator["schema"] == "LegalEntity" and operator["properties"]["name"] == ["Blue Ocean Shipping"]
    [directorship] = by_schema(entities, "Directorship")
    assert not by_schema(entities, "Ownership")  # an Organization is not an asset in FollowTheMoney
    [org] = by_schema(entities, "Organization")
    assert directorship["properties"]["organization"] == [org["id"]] and directorship["properties"]["role"] == ["director"]
    assert by_schema(entities, "PublicBody")[0]["properties"]["name"] == ["Labour Inspectorate District 4"]


def test_md_escape_keeps_text_literal() -> None:
    assert export.md_escape("1. one\n 2) two\n- x\n+ y\n12 apples") == "1\\. one\n 2\\) two\n\\- x\n\\+ y\n12 apples"
    assert export.md_escape("a_b *c* <x> [l](u) #h |p|") == "a\\_b \\*c\\* \\<x\\> \\[l\\](u) \\#h \\|p\\|"


async def test_pdf_and_unknown_formats(app: App, review: ReviewService, alice: Actor) -> None:
    _, view = await dossier_case(app, review, alice)
    pdf = export.render("pdf", view, app.questionnaire, envelope(app), jurisdiction="eu")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    with pytest.raises(export.ExportUnavailable, match="unknown export format"):
        export.check_format("docx")
    with pytest.raises(export.ExportUnavailable, match="unknown jurisdiction"):
        export.render("md", view, app.questionnaire, envelope(app), jurisdiction="fr")


# ---- the command -------------------------------------------------------------------------------


def env_for(settings: Settings, tmp_path: Path) -> dict[str, str]:
    assert settings.secret_keys is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_ENV="test", INTAKE_DATA_DIR=str(settings.data_dir), INTAKE_DATABASE_URL=settings.sqlalchemy_url,
               INTAKE_SECRET_KEYS=settings.secret_keys.get_secret_value(), PYTHONUNBUFFERED="1")
    return env


def intake(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


async def test_export_command(app: App, review: ReviewService, alice: Actor, settings: Settings, tmp_path: Path) -> None:
    ref = await make_case(app, "terminal", answers=PERPETRATORS)
    env = env_for(settings, tmp_path)
    cwd = Path(__file__).resolve().parents[2]

    ftm = intake(["export", ref, "--format", "ftm", "--as", "alice@example.org"], env, cwd)
    assert ftm.returncode == 0, ftm.stderr
    entities = [json.loads(line) for line in ftm.stdout.splitlines()]
    assert {"Person", "Passport", "Position", "Occupancy", "Company", "Ownership", "Family"} <= {e["schema"] for e in entities}

    target = tmp_path / "dossier.md"
    md = intake(["export", ref.lower(), "--format", "md", "--as", "alice@example.org", "--output", str(target)], env, cwd)
    assert md.returncode == 0, md.stderr
    assert md.stdout == "" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8").startswith("# Global Magnitsky sanctions submission")

    pdf_path = tmp_path / "dossier.pdf"
    pdf = intake(["export", ref, "--format", "pdf", "--jurisdiction", "uk", "--as", "alice@example.org", "-o", str(pdf_path)], env, cwd)
    assert pdf.returncode == 0, pdf.stderr
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    bad = intake(["export", ref, "--format", "md", "--jurisdiction", "fr"], env, cwd)
    assert bad.returncode == 2 and "unknown jurisdiction" in bad.stderr
    missing = intake(["export", "MI-NOPE-0000", "--format", "json"], env, cwd)
    assert missing.returncode == 1 and "no case" in missing.stderr

    view = await review.show(ref, alice)
    exports = [e for e in view.audit if e["action"] == "case.exported"]
    CLI = f"cli:{getpass.getuser()}"  # the host account that ran the command, beside the --as name
    # same pinned clock for every event: compare regardless of order (the audit sorts by time, then id)
    assert sorted((e["detail"]["format"], e["actor"], e["remote"]) for e in exports) == [
        ("ftm", "alice@example.org", CLI), ("md", "alice@example.org", CLI), ("pdf", "alice@example.org", CLI),
    ]
    # each export also views the case, and the view is audited as such
    assert sum(e["action"] == "case.viewed" for e in view.audit) == 4


async def test_console_export_download(app: App, auth: AuthService, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal", answers=PERPETRATORS)
    web = create_app(app, review=review, auth=auth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://testserver") as client:
        assert (await client.get(f"/cases/{ref}/export?format=md")).status_code in (302, 303)  # login first
        await login(client, "alice@example.org")
        page = await client.get(f"/cases/{ref}")
        assert f"/cases/{ref}/export?format=ftm" in page.text
        r = await client.get(f"/cases/{ref}/export?format=ftm")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        assert r.headers["content-disposition"].startswith(f'attachment; filename="{ref}.ftm.jsonl"')
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
        assert "Person" in {json.loads(line)["schema"] for line in r.text.splitlines()}
        pdf = await client.get(f"/cases/{ref}/export?format=pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
        assert (await client.get(f"/cases/{ref}/export?format=docx")).status_code == 400
        assert (await client.get("/cases/HT-2222-3333/export?format=md")).status_code == 404
    view = await review.show(ref, alice)
    assert sorted((e["detail"]["format"], e["actor"]) for e in view.audit if e["action"] == "case.exported") == [
        ("ftm", "alice@example.org"), ("pdf", "alice@example.org"),
    ]
