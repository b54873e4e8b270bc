"""Casework commands of the `intake` console script: `intake sanctions load|screen|decide|datasets`,
`intake review links`, and `intake export` (dossiers). `register(cli)` adds them to the root app."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from intake import app as core
from intake.cliutil import console, err, migrate_db, settings_or_exit, with_app

# The matcher (nomenklatura, scikit-learn) and the PDF stack load in seconds: they are imported
# inside the commands that use them, so registering these commands keeps `intake` quick to start.

sanctions_app = typer.Typer(help="Sanctions lists: load OpenSanctions data, screen cases' perpetrators.", no_args_is_help=True)
T = TypeVar("T")
AsOpt = Annotated[str | None, typer.Option("--as", help="Your staff email (recorded in the audit; default: your OS user)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _run(fn: Callable[[core.App], Awaitable[T]]) -> T:
    """Run `fn` over a migrated database; staff-facing errors exit 1."""
    from casework import dossier, lists
    from casework.screening import ScreeningError
    from casework.yente import YenteError

    settings = settings_or_exit()
    migrate_db(settings)
    try:
        return asyncio.run(with_app(settings, fn))
    except (ScreeningError, YenteError, dossier.DossierError, lists.ListFormatError) as exc:
        err.print(f"[bold red]Not done:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


async def actor(application: core.App, email: str | None) -> tuple[str, str, str]:
    """(actor kind, actor id, display name) for the audit: a staff member by email, or the OS user."""
    from casework.screening import ScreeningError

    if email is None:
        user = f"os:{getpass.getuser()}"[:64]
        return "cli", user, user
    async with application.store.read() as uow:
        staff = await uow.staff.by_email(email)
    if staff is None or not staff.active:
        raise ScreeningError(f"no active staff member {email}")
    return "staff", staff.id, staff.email


@sanctions_app.command("load")
def sanctions_load(
    path: Path,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset name (default: the file name without suffixes)")] = None,
    rescreen: Annotated[bool, typer.Option("--rescreen/--no-rescreen", help="Screen every case under review again afterwards")] = True,
) -> None:
    """Import FtM entities (JSON lines) or a targets.simple.csv table; loading a dataset again replaces it."""
    from casework import lists
    from casework.screening import rescreen_all

    if not path.is_file():
        err.print(f"[bold red]No such file:[/] {escape(str(path))}")
        raise typer.Exit(2)
    name = dataset or path.name.split(".")[0]
    size = path.stat().st_size

    async def go(application: core.App) -> tuple[int, int]:
        kind, who, _ = await actor(application, None)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task(f"loading {name}", total=size)
            count = await lists.load(application.store, path, dataset=name, now=application.clock(), by=who,
                                     on_bytes=lambda n: progress.update(task, completed=n))
        screened = await rescreen_all(application) if rescreen else 0
        return count, screened

    count, screened = _run(go)
    console.print(f"dataset {name}: {count} entities loaded" + (f"; {screened} case(s) screened again" if rescreen else ""), highlight=False)


@sanctions_app.command("screen")
def sanctions_screen(reference: str, as_json: JsonOpt = False) -> None:
    """Screen a case's perpetrators now (stored and audited) and print the candidates."""
    from casework.screening import Screener
    from casework.settings import CaseworkSettings


    async def go(application: core.App) -> dict[str, Any]:
        return (await Screener(application, CaseworkSettings()).screen(reference, actor_kind="cli", actor_id=(await actor(application, None))[1])).to_dict()

    report = _run(go)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for perp in report["perpetrators"]:
        table = Table("entity", "caption", "score", "match", "datasets", "decision", title=f"{perp['index']}. {escape(perp['name'])}")
        for c in perp["candidates"]:
            table.add_row(c["entity_id"], escape(c["caption"]), f"{c['score']:.2f}", "yes" if c["match"] else "no",
                          ", ".join(c["datasets"]), c["explanation"].get("decision") or "")
        console.print(table)


@sanctions_app.command("decide")
def sanctions_decide(reference: str, perpetrator: int, entity_id: str, decision: str, as_staff: AsOpt = None) -> None:
    """Confirm or dismiss a candidate (DECISION: confirmed | dismissed); remembered and audited."""
    from casework.screening import Screener
    from casework.settings import CaseworkSettings


    async def go(application: core.App) -> None:
        kind, who, _ = await actor(application, as_staff)
        await Screener(application, CaseworkSettings()).decide(reference, perpetrator, entity_id, decision, actor_id=who, actor_kind=kind, remote=f"cli:{getpass.getuser()}"[:64])

    _run(go)
    console.print(f"{reference} perpetrator {perpetrator}: {entity_id} {decision}", highlight=False)


@sanctions_app.command("datasets")
def sanctions_datasets(as_json: JsonOpt = False) -> None:
    """The imported lists."""
    from storage.casework import SanctionsRepository


    async def go(application: core.App) -> list[dict[str, Any]]:
        async with application.store.read() as uow:
            return await SanctionsRepository(uow.session).datasets()

    rows = _run(go)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        console.print(f"{r['name']}: {r['entities']} entities ({r['source']}, {r['loaded_at'][:16]})", highlight=False)


def links_command(reference: str, as_json: JsonOpt = False) -> None:
    """The same perpetrator in other cases (links scored now and stored)."""
    from casework.links import Linker
    from casework.settings import CaseworkSettings


    async def go(application: core.App) -> dict[str, Any]:
        return (await Linker(application, CaseworkSettings()).link_case(reference)).to_dict()

    report = _run(go)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for link in report["links"]:
        console.print(f"perpetrator {link['perpetrator']} ~ {link['other_reference']} perpetrator {link['other_perpetrator']}: "
                      f"{link['score']:.2f}{' match' if link['match'] else ''}", highlight=False)


def write_private(path: str, data: bytes) -> None:
    """Write `data` to `path`, readable by its owner only (mode 0600, also when it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)


def export_command(
    reference: str,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | pdf | json | ftm (FollowTheMoney JSON lines)")] = "md",
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", "-j", help="us | uk | ca | au | eu: that government's form")] = "us",
    internal: Annotated[bool, typer.Option("--internal", help="Include internal notes and the audit trail")] = False,
    as_staff: AsOpt = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write to this file (mode 0600) instead of standard output")] = None,
    override_consent: Annotated[str | None, typer.Option("--override-consent", help="Admins: export although the submitter did not allow sharing; the reason is kept and audited")] = None,
) -> None:
    """A dossier of one case, laid out as a formal sanctions submission (the export is audited; refused
    when the submitter did not allow sharing with governments, unless an admin overrides it)."""
    from casework import dossier

    try:
        dossier.check_format(fmt)
        dossier.check_jurisdiction(jurisdiction)
    except dossier.DossierError as exc:
        err.print(f"[bold red]Not done:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if fmt == "pdf" and not output and sys.stdout.isatty():
        err.print("[bold red]Not done:[/] a PDF goes to a file: add --output FILE")
        raise typer.Exit(2)

    async def go(application: core.App) -> bytes:
        kind, who, name = await actor(application, as_staff)
        return await dossier.export(application, reference, fmt=fmt, jurisdiction=jurisdiction, internal=internal,
                                    actor_kind=kind, actor_id=who, actor_name=name, remote=f"cli:{getpass.getuser()}"[:64], override_reason=override_consent)

    data = _run(go)
    if output:
        write_private(output, data)
        err.print(f"wrote {escape(output)}", highlight=False)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def register(cli: typer.Typer) -> None:
    """Add the casework commands to the root app: `sanctions`, `export`, and `links` in the `review` group."""
    cli.add_typer(sanctions_app, name="sanctions")
    cli.registered_commands = [c for c in cli.registered_commands if c.name != "export"]
    cli.command(name="export")(export_command)
    review = next((g.typer_instance for g in cli.registered_groups if g.name == "review" and g.typer_instance), None)
    if review is not None:
        review.command(name="links")(links_command)
