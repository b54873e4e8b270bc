"""Helpers shared by the command groups of the `intake` console script."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from intake import app as core
from intake.settings import Settings, SettingsError

console = Console()
err = Console(stderr=True)
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
    return settings


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "aiosqlite", "sqlalchemy.engine", "alembic.runtime.migration", "telegram.ext", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def with_app(settings: Settings, fn: Callable[[core.App], Awaitable[T]]) -> T:
    application = core.build(settings)
    try:
        await application.store.prepare(now=application.clock())
        return await fn(application)
    finally:
        await application.store.close()


def migrate_db(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    core.migrate(settings.sqlalchemy_url)


