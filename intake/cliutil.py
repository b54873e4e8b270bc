"""Helpers shared by the command groups of the `intake` console script."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from intake import app as core
from intake.ops import private_files
from intake.settings import Settings, SettingsError
from storage.keys import KeysMissing

console = Console()
err = Console(stderr=True, soft_wrap=True)  # one message, one line (operators grep logs)
T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        settings = Settings()
        settings.check()
    except SettingsError as exc:
        err.print("[bold red]Refusing to start: unsafe or invalid settings[/]")
        for line in str(exc).splitlines():
            err.print(f"  - {line}")
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic validation of a malformed value
        err.print(f"[bold red]Invalid settings:[/] {exc}")
        raise typer.Exit(2) from None
    private_files(settings)  # umask 077 for everything this command creates; data dir 0700, database 0600
    return settings


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "aiosqlite", "sqlalchemy.engine", "alembic.runtime.migration", "telegram.ext", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def with_app(settings: Settings, fn: Callable[[core.App], Awaitable[T]]) -> T:
    """Build the core, check its keys (a missing master key: one line, exit 3), run `fn`."""
    application = core.build(settings)
    try:
        try:
            await application.store.prepare(now=application.clock())
        except KeysMissing as exc:
            err.print(f"[bold red]Refusing to serve:[/] {exc}")
            raise typer.Exit(3) from None
        return await fn(application)
    finally:
        await application.store.close()


def migrate_db(settings: Settings) -> None:
    """Private files first (umask 077, data dir 0700, database 0600), then the migrations."""
    private_files(settings)
    core.migrate(settings.sqlalchemy_url)


