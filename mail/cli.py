"""`intake mail …`: the failed-mail queue staff can see and retry."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from intake import app as core
from intake.cliutil import console, err, migrate_db, settings_or_exit, with_app

MAIL_CHANNELS = ("email", "staff_email")
mail_app = typer.Typer(help="The email channel: failed inbound and outbound mail.", no_args_is_help=True)


@mail_app.command("failed")
def failed() -> None:
    """List inbound messages that could not be processed and emails that could not be sent."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> None:
        async with application.store.read() as uow:
            inbox = [r for r in await uow.inbox.list(status="failed") if r.channel == "email"]
            outbox = [r for r in await uow.outbox.list(status="failed") if r.channel in MAIL_CHANNELS]
        if not inbox and not outbox:
            console.print("no failed mail")
        for row in inbox:
            console.print(f"inbox  {row.id}  {row.received_at.isoformat()}  attempts={row.attempts}  {row.error or ''}", highlight=False)
        for out in outbox:
            console.print(f"outbox {out.id}  {out.created_at.isoformat()}  attempts={out.attempts}  {out.kind}  {out.last_error or ''}", highlight=False)

    asyncio.run(with_app(settings, go))


@mail_app.command("retry")
def retry(
    ident: Annotated[str | None, typer.Argument(help="An inbox or outbox id from `intake mail failed`")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failed inbound and outbound mail")] = False,
) -> None:
    """Put failed mail back in the queue: processed again by `intake run`'s inbox and delivery workers."""
    if (ident is None) == (not all_):
        err.print("give an id or --all (not both)")
        raise typer.Exit(2)
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> int:
        now = application.clock()
        count = 0
        async with application.store.write() as uow:
            inbox = [r for r in await uow.inbox.list(status="failed", limit=10_000) if r.channel == "email"]
            outbox = [r for r in await uow.outbox.list(status="failed", limit=10_000) if r.channel in MAIL_CHANNELS]
            for row in inbox:
                if all_ or row.id == ident:
                    await uow.inbox.requeue(row.id, now=now)
                    count += 1
            for out in outbox:
                if all_ or out.id == ident:
                    await uow.outbox.requeue(out.id, now=now)
                    count += 1
        return count

    n = asyncio.run(with_app(settings, go))
    if ident is not None and n == 0:
        err.print(f"no failed mail with id {ident}")
        raise typer.Exit(1)
    console.print(f"requeued {n}")
