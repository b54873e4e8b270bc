"""The `intake` console script — the composition root: the one module that imports every channel."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from intake import app as core
from intake import languages
from intake.chat import run_chat
from intake.cliutil import console, err, migrate_db, settings_or_exit, setup_logging, with_app
from intake.questionnaire import Group, Question, QuestionnaireError, load, load_default
from intake.settings import Settings
from storage.crypto import generate_key_b64

cli = typer.Typer(help="Magnitsky Intake: NGO trafficking cases in, staff review out.", no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
q_cli = typer.Typer(help="The questionnaire.", no_args_is_help=True)
keys_cli = typer.Typer(help="Encryption keys.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(q_cli, name="questionnaire")
cli.add_typer(keys_cli, name="keys")

log = logging.getLogger("intake")


# ---- run --------------------------------------------------------------------------------------


@cli.command()
def run(
    worker: Annotated[int | None, typer.Option("--worker", hidden=True, help="Internal: run as worker process K of `intake run`")] = None,
) -> None:
    """Apply pending migrations, then serve every configured channel until Ctrl-C."""
    setup_logging()
    settings = settings_or_exit()
    if worker is not None:  # a child of `intake run` (intake.workers): the parent migrated already
        from intake.workers import die_with_parent

        die_with_parent()
        if settings.worker_nice:
            os.nice(settings.worker_nice)  # the edges first: a busy host gives the accepting process the CPU, the inbox waits
        try:
            asyncio.run(_serve(settings, worker=worker))
        except KeyboardInterrupt:  # pragma: no cover
            pass
        log.info("worker process %d stopped", worker)
        # everything is committed and closed: skip the interpreter's final garbage collection of a
        # large heap (seconds on a busy host), so the parent's stop is not held up by it
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    if settings.secret_keys is None:
        log.warning("INTAKE_SECRET_KEYS is not set: using the DEVELOPMENT key in %s — not for real cases", settings.data_dir)
    migrate_db(settings)
    log.info("database at revision %s", core.current_revision(settings.sqlalchemy_url))
    try:
        asyncio.run(_serve(settings))
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        pass
    log.info("stopped")


async def _serve(settings: Settings, *, worker: int | None = None) -> None:
    from intake import runtime

    async def go(application: core.App) -> None:
        stop = asyncio.Event()
        components = await (_components(application) if worker is None else _worker_components(application, worker, stop))
        await runtime.serve(components, stop, freeze=True)

    await with_app(settings, go)


async def _components(application: core.App) -> list[Any]:
    """Every channel's components, as configured. Each channel says once what is on and off.

    The Telegram webhook (when configured) is served by the console's web server: the route
    comes from `bot`, the server from `review`; only this composition root knows both. With
    worker processes (INTAKE_WORKER_PROCESSES, intake.workers) the inbox and delivery workers run
    in children and this process keeps the edges."""
    import bot.runtime
    import mail.runtime
    import review.runtime
    from intake.workers import WorkerPool, worker_count

    settings = application.settings
    extra_routes: list[Any] = []
    if settings.telegram_token is not None and settings.telegram_webhook_url:
        from bot.webhook import webhook_route

        extra_routes.append(webhook_route(application))
    components: list[Any] = []
    # The bot first: its client is up before the core's workers use it (decoder downloads, sender
    # calls) and, stopped in reverse, closed only after they stopped; its poller only stores and
    # acknowledges committed updates, so it may outlive the workers by the milliseconds of a stop.
    components.extend(await bot.runtime.components(application))
    workers = worker_count(settings.worker_processes)
    if workers:
        pool = WorkerPool(workers)
        pool.forward(application.inbox, application.delivery)
        components.extend([application.sealer, application.janitor, pool])
    else:
        components.extend(application.components())
    components.extend(await review.runtime.components(application, extra_routes=extra_routes))
    # channels register their inbox decoder and their sender with the core, and return their edges
    components.extend(await mail.runtime.components(application))
    _say_where_alerts_go(application)
    _casework_follows_changes(application)
    return components


class _Hook:
    """A component made of two callables (a worker process's channel set-up and tear-down)."""

    def __init__(self, name: str, start: Callable[[], Awaitable[Any]] | None, stop: Callable[[], Awaitable[Any]]) -> None:
        self.name = name
        self._start = start
        self._stop = stop

    async def start(self) -> None:
        if self._start is not None:
            await self._start()

    async def stop(self) -> None:
        await self._stop()


async def _worker_components(application: core.App, index: int, stop: asyncio.Event) -> list[Any]:
    """Worker process `index` of `intake run`: the channels' decoders and senders, the inbox worker
    and (process 0 only) the delivery worker; no listener, no poller, no console."""
    from intake.workers import ParentLink

    components: list[Any] = [ParentLink(stop, inbox=application.inbox.wake, delivery=application.delivery.wake)]
    if application.settings.telegram_token is not None:
        import bot.runtime

        telegram = bot.runtime.install(application)  # registers the decoder and the sender; its client only, no poller
        components.append(_Hook("telegram client", telegram.bot.initialize, telegram.bot.shutdown))
    from mail.runtime import MailChannel

    mail_channel = MailChannel(application)  # registers the decoder and the sender; its server is not started
    components.append(_Hook("email channel", None, mail_channel.server.stop))  # stopping it closes the relay connection
    if index == 0:
        components.append(application.delivery)
    components.append(application.inbox)
    _casework_follows_changes(application)
    log.info("worker process %d: inbox worker%s", index, " and delivery worker" if index == 0 else "")
    return components


def _casework_follows_changes(application: core.App) -> None:
    """Screen and link a case's perpetrators after it is submitted or its submitter adds to it."""
    from casework.hooks import case_changed
    from intake.inbound import Result

    async def changed(result: Result) -> None:
        if result.reference:
            await case_changed(application, result.reference)

    application.receiver.listeners.append(changed)


def _say_where_alerts_go(application: core.App) -> None:
    """Start-up says where staff alerts go, and warns when they go nowhere."""
    settings = application.settings
    where = []
    if "staff_telegram" in application.cases.alert_channels:
        where.append("the Telegram staff chat")
    if "staff_email" in application.cases.alert_channels:
        where.append("INTAKE_STAFF_ALERT_EMAIL")
    missing = [c for c in application.cases.alert_channels if c not in application.delivery.channels]
    if missing:
        log.warning("staff alerts: no sender for %s; those alerts will wait in the outbox", ", ".join(missing))
    if where:
        log.info("staff alerts go to: %s", ", ".join(where))
    else:
        log.warning(
            "staff alerts go NOWHERE: set INTAKE_STAFF_ALERT_EMAIL%s to be told of new cases and replies",
            "" if settings.telegram_token is None else " or INTAKE_TELEGRAM_STAFF_CHAT_ID",
        )


# ---- chat -------------------------------------------------------------------------------------


@cli.command()
def chat(
    name: Annotated[str, typer.Option("--as", help="Your identity for resuming the draft later")] = "terminal",
    lang: Annotated[str | None, typer.Option("--lang", help="Language: a code or name (es, Español, العربية)")] = None,
) -> None:
    """The questionnaire in the terminal; prints the case reference at the end."""
    code = languages.from_name(lang) if lang is not None else None
    if lang is not None and code is None:
        known = ", ".join(f"{x.code} ({x.native_name})" for x in languages.LANGUAGES)
        err.print(f"Unknown language {lang!r}. Choose one of: {known}.", markup=False, highlight=False)
        raise typer.Exit(2)
    settings = settings_or_exit()
    migrate_db(settings)

    def out(text: str) -> None:
        print(text, flush=True)

    async def go(application: core.App) -> str | None:
        # input() blocks the loop; the terminal channel runs nothing else, so that is fine
        return await run_chat(application, name, input, out, lang=code)

    asyncio.run(with_app(settings, go))


# ---- questionnaire ----------------------------------------------------------------------------


def _item_dict(item: Question | Group, lang: str) -> dict[str, Any]:
    if isinstance(item, Group):
        return {
            "id": item.id, "kind": "group", "text": item.text.get(lang), "min": item.min, "max": item.max,
            "when": item.when.model_dump(by_alias=True, exclude_none=True) if item.when else None,
            "items": [_item_dict(i, lang) for i in item.items],
        }
    return {
        "id": item.id, "kind": "question", "type": item.type.value, "required": item.required,
        "required_unless": item.optional_when.model_dump(by_alias=True, exclude_none=True) if item.optional_when else None,
        "text": item.text.get(lang), "label": item.short(lang), "help": item.help.get(lang) if item.help else None,
        "options": [{"id": o.id, "text": o.text.get(lang)} for o in item.options],
        "when": item.when.model_dump(by_alias=True, exclude_none=True) if item.when else None,
        "multiple": item.multiple, "range": item.range,
    }


@q_cli.command("show")
def questionnaire_show(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the texts (English fallback)")] = "en",
    path: Annotated[str | None, typer.Option("--file", help="Show (and validate) another questionnaire file")] = None,
) -> None:
    """The active questionnaire: sections, questions, types, options, conditions, repeat groups."""
    try:
        q = load(path) if path else load_default()
    except QuestionnaireError as exc:
        err.print(f"[bold red]Invalid questionnaire[/]\n{exc}")
        raise typer.Exit(2) from None
    data: dict[str, Any] = {
        "id": q.id, "version": q.version, "title": q.title.get(lang),
        "sections": [{"id": s.id, "title": s.title.get(lang), "items": [_item_dict(i, lang) for i in s.items]} for s in q.sections],
    }
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{data['title']}[/] ({q.id} v{q.version})")

    def show(items: list[dict[str, Any]], depth: int) -> None:
        for item in items:
            pad = "  " * depth
            if item["kind"] == "group":
                console.print(f"{pad}[cyan][+] {item['id']}[/] — {item['text']} (min {item['min']}, max {item['max']})" + (f"  if {item['when']}" if item["when"] else ""))
                show(item["items"], depth + 1)
                continue
            req = "R" if item["required"] else "O"
            cond = f"  if {item['when']}" if item["when"] else ""
            console.print(f"{pad}{item['id']} [dim]{item['type']} {req}[/]{cond} — {item['text']}", markup=True, highlight=False)
            for n, option in enumerate(item["options"], 1):
                console.print(f"{pad}    {n}. {option['text']} [dim]({option['id']})[/]", highlight=False)

    for n, section in enumerate(data["sections"], 1):
        console.print(f"\n[bold]{n}. {section['title']}[/]")
        show(section["items"], 1)


# ---- db ---------------------------------------------------------------------------------------


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    core.migrate(settings.sqlalchemy_url, revision)
    console.print(f"database at revision {core.current_revision(settings.sqlalchemy_url)}")


@db_cli.command("current")
def db_current() -> None:
    """The database's current migration revision."""
    settings = settings_or_exit()
    console.print(core.current_revision(settings.sqlalchemy_url) or "(empty database)")


# ---- keys -------------------------------------------------------------------------------------


@keys_cli.command("generate")
def keys_generate() -> None:
    """Print a new random master key (base64 of 32 bytes) for INTAKE_SECRET_KEYS."""
    print(generate_key_b64())


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under the newest master key (the first in INTAKE_SECRET_KEYS).

    Afterwards the older master keys can be removed, which makes older backups unreadable."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> int:
        async with application.store.db.transaction() as session:
            return await application.store.keys.rotate(session)

    n = asyncio.run(with_app(settings, go))
    console.print(f"re-wrapped {n} data keys under the newest master key")


# Command groups of the other packages: each exports Typer apps from its own `cli` module. A
# missing module or attribute is an error at start, never skipped silently.
CHANNEL_COMMANDS = [
    ("review.cli", "review_app", "review"),
    ("review.cli", "staff_app", "staff"),
    ("mail.cli", "mail_app", "mail"),
]


def _register_channels() -> None:
    import importlib

    for module_name, attr, name in CHANNEL_COMMANDS:
        target = getattr(importlib.import_module(module_name), attr)
        if name is None:
            cli.command(name=getattr(target, "command_name", None))(target)
        else:
            cli.add_typer(target, name=name)


_register_channels()

from intake.opscli import audit_app, backup_command, hold_command, purge_command, restore_command, withdraw_command  # noqa: E402 - after the groups above

cli.add_typer(audit_app, name="audit")
cli.command(name="backup")(backup_command)
cli.command(name="restore")(restore_command)
cli.command(name="purge")(purge_command)
cli.command(name="hold")(hold_command)
cli.command(name="withdraw")(withdraw_command)
from casework.cli import register as _register_casework  # noqa: E402  (sanctions, export, review links)

_register_casework(cli)


def main() -> None:
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
