"""Staff-side commands: `intake review …` and `intake staff …` (registered by `intake.cli`)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from intake import app as core
from intake.cliutil import console, err, migrate_db, settings_or_exit, with_app
from review.service import ReviewService

review_app = typer.Typer(help="The staff review queue.", no_args_is_help=True)


@review_app.command("list")
def review_list(
    status: Annotated[list[str] | None, typer.Option("--status", help="Only cases in this status (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: int = 100,
    oldest_first: Annotated[bool, typer.Option("--oldest-first")] = False,
) -> None:
    """The queue (submitted and later cases; `--status draft` shows drafts)."""
    settings = settings_or_exit()
    migrate_db(settings)
    statuses = status or ["submitted", "in_review", "needs_info", "accepted", "declined", "escalated", "closed", "withdrawn"]

    async def go(application: core.App) -> Any:
        service = ReviewService(application.store, application.questionnaire, clock=application.clock)
        return await service.queue(statuses=statuses, limit=limit, newest_first=not oldest_first)

    items = asyncio.run(with_app(settings, go))
    if as_json:
        print(json.dumps([asdict(i) for i in items], ensure_ascii=False, indent=2))
        return
    table = Table("reference", "status", "channel", "submitted", "assigned", "title")
    for i in items:
        table.add_row(i.reference, i.status, i.channel, (i.submitted_at or "")[:16], i.assigned_to or "", escape(i.title or ""))
    console.print(table)


@review_app.command("show")
def review_show(
    reference: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_staff: Annotated[str | None, typer.Option("--as", help="Staff email (recorded in the audit)")] = None,
) -> None:
    """One case: answers by section with question texts, attachments, thread, audit."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> Any:
        service = ReviewService(application.store, application.questionnaire, clock=application.clock)
        return await service.show(reference, actor_kind="staff" if as_staff else "cli", actor_id=as_staff, remote="cli")

    view = asyncio.run(with_app(settings, go))
    if view is None:
        err.print(f"no case {reference}")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{view.reference}[/]  {view.status}  via {view.channel}  submitted {view.submitted_at or '-'}")
    for section in view.sections:
        if not section["answers"]:
            continue
        console.print(f"\n[bold]{section['index']}. {section['title']}[/]")
        for line in section["answers"]:
            pad = "  " * (line["depth"] + 1)
            console.print(f"{pad}[dim]{escape(line['label'])}:[/] {escape(line['value'])}", highlight=False)
    if view.attachments:
        console.print("\n[bold]Attachments[/]")
        for a in view.attachments:
            console.print(f"  {a['filename']}  {a['size']} bytes  sha256 {a['sha256']}", highlight=False, markup=False)
    if view.thread:
        console.print("\n[bold]Thread[/]")
        for m in view.thread:
            console.print(f"  {m['created_at'][:16]} {m['direction']} {m['kind']}: {m['body']}", highlight=False, markup=False)
    console.print("\n[bold]Audit[/]")
    for e in view.audit:
        console.print(f"  {e['at'][:19]} {e['action']} by {e['actor_kind']} {e['actor_id'] or ''}", highlight=False, markup=False)
