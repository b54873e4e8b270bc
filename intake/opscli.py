"""`intake backup`, `intake restore`, `intake audit verify`: the operator's commands."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from intake import app as core
from intake import ops
from intake.cases import normalise_reference
from intake.cliutil import console, err, migrate_db, settings_or_exit, with_app
from intake.clock import utcnow
from storage.auditchain import Verdict, seal, verify

audit_app = typer.Typer(help="The audit log (a hash chain).", no_args_is_help=True)


def backup_command(path: Annotated[Path, typer.Argument(help="A new, empty folder for the backup")]) -> None:
    """Back up the database and the encrypted files (no keys: keep those apart)."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def key_ids(application: core.App) -> list[str]:
        return list(application.store.keys.master.ids)

    ids = asyncio.run(with_app(settings, key_ids))
    try:
        manifest = ops.backup(settings, path, now=utcnow(), revision=core.current_revision(settings.sqlalchemy_url), master_key_ids=ids)
    except ops.BackupError as exc:
        err.print(f"[bold red]Backup failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"backup of the {manifest.database} database and files written to {path} (needs master key(s) {', '.join(ids)})")



def restore_command(
    path: Annotated[Path, typer.Argument(help="A folder written by `intake backup`")],
    force: Annotated[bool, typer.Option("--force", help="Replace the database and files that are there")] = False,
) -> None:
    """Restore a backup into the configured database and data directory, then check the keys."""
    settings = settings_or_exit()
    try:
        manifest = ops.restore(settings, path, force=force)
    except ops.BackupError as exc:
        err.print(f"[bold red]Restore refused:[/] {exc}")
        raise typer.Exit(1) from None
    migrate_db(settings)

    async def check(application: core.App) -> None:
        return None

    asyncio.run(with_app(settings, check))  # exits with one line when a master key is missing
    console.print(f"restored the {manifest.database} backup of {manifest.created_at} from {path}")



@audit_app.command("verify")
def audit_verify() -> None:
    """Seal new events into the chain, then check every link; exit 1 if the chain is broken."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> Verdict:
        async with application.store.db.transaction() as session:
            await seal(session)
        async with application.store.db.read() as session:
            return await verify(session)

    verdict = asyncio.run(with_app(settings, go))
    if verdict.broken_at is not None:
        err.print(f"[bold red]The audit chain is broken at event {verdict.broken_at}[/] ({verdict.sealed} sealed events)")
        raise typer.Exit(1)
    console.print(f"audit chain intact: {verdict.sealed} events, head {verdict.head}")



def purge_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be purged; change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable counts")] = False,
) -> None:
    """Apply the retention rules now (intake run also does it once a day)."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> dict[str, int | bool]:
        return (await application.retention.purge(dry_run=dry_run)).counts()

    counts = asyncio.run(with_app(settings, go))
    if as_json:
        print(json.dumps(counts))
        return
    console.print(("would purge" if dry_run else "purged") + ": " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if k != "dry_run"))



def hold_command(
    reference: Annotated[str, typer.Argument(help="The case reference")],
    as_staff: Annotated[str, typer.Option("--as", help="An admin's staff email (recorded in the audit)")],
    release: Annotated[bool, typer.Option("--release", help="Lift the hold")] = False,
) -> None:
    """Put a case on legal hold (retention never touches it), or lift the hold. Admins only."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> str | None:
        async with application.store.write() as uow:
            staff = await uow.staff.by_email(as_staff.strip().lower())
            if staff is None or staff.role != "admin" or not staff.active:
                return "only an active admin may put a case on legal hold"
            case = await uow.cases.by_reference(normalise_reference(reference))
            if case is None:
                return f"there is no case {reference}"
            await uow.cases.set_hold(case.id, not release)
            await uow.audit.record(
                action="case.hold_released" if release else "case.held", now=application.clock(), actor_kind="staff", actor_id=staff.id,
                case_id=case.id, remote=f"cli:{getpass.getuser()}"[:64],
            )
        return None

    problem = asyncio.run(with_app(settings, go))
    if problem:
        err.print(f"[bold red]{problem}[/]")
        raise typer.Exit(1)
    console.print(f"{reference}: legal hold {'lifted' if release else 'on'}")



def withdraw_command(
    reference: Annotated[str, typer.Argument(help="The case reference")],
    as_staff: Annotated[str, typer.Option("--as", help="An admin's staff email (recorded in the audit)")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the case's content is destroyed for good")] = False,
) -> None:
    """Withdraw a case at its submitter's request (admins): its content is destroyed, a tombstone stays."""
    if not yes:
        err.print("[bold red]Not done:[/] this destroys the case's answers, messages and files for good; add --yes to confirm")
        raise typer.Exit(2)
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> str | None:
        async with application.store.write() as uow:
            staff = await uow.staff.by_email(as_staff.strip().lower())
            if staff is None or staff.role != "admin" or not staff.active:
                return "only an active admin may withdraw a case for its submitter"
            case = await uow.cases.by_reference(normalise_reference(reference))
            if case is None or case.shredded_at is not None:
                return f"there is no case {reference} with content to withdraw"
            await application.cases.shred_in(uow, case, actor_kind="staff", actor_id=staff.id, reason="submitter_request")
        return None

    problem = asyncio.run(with_app(settings, go))
    if problem:
        err.print(f"[bold red]{problem}[/]")
        raise typer.Exit(1)
    console.print(f"{reference}: withdrawn; its content is destroyed, a tombstone stays")
