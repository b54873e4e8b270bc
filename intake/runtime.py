"""Running several long-lived components in one event loop, stopped cleanly on a signal."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Protocol

log = logging.getLogger(__name__)


class Component(Protocol):
    """Something `intake run` serves: an SMTP server, the console, the bot, an outbox worker."""

    name: str

    async def start(self) -> None:
        """Start serving; return once it is up (raise if it cannot start)."""
        ...

    async def stop(self) -> None:
        """Stop serving and release resources; must be safe to call once after start."""
        ...


async def serve(components: list[Component], stop: asyncio.Event | None = None, *, freeze: bool = False) -> None:
    """Start every component, wait for SIGINT/SIGTERM (or `stop`), then stop them in reverse.

    `freeze` (for `intake run`): once everything is up, move what start-up allocated (modules,
    the questionnaire, schemas: most of the heap) out of the collector's reach (`gc.freeze()`), so
    the periodic full collections while serving do not walk it again and again."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    started: list[Component] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("started %s", component.name)
        if freeze:
            gc.collect()
            gc.freeze()
        await stop.wait()
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("error while stopping %s", component.name)
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass
