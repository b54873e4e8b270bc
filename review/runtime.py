"""The console as an `intake run` component: uvicorn serving `create_app` inside the running loop.

On the first run with no staff at all, one admin is created and its one-time password printed
once (to the terminal, never to the log), together with the console URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Generator, Sequence

import uvicorn
from fastapi import APIRouter
from starlette.routing import BaseRoute

from intake.app import App
from intake.runtime import Component
from review.auth import AuthService
from review.service import ReviewService
from review.web import create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `intake run` owns SIGINT/SIGTERM and calls stop()."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Console:
    """The staff web console (and any extra routes, e.g. the Telegram webhook) on one port."""

    name = "console"

    def __init__(self, app: App, *, extra_routes: Sequence[BaseRoute | APIRouter] = (), announce: bool = True) -> None:
        self.app = app
        self.review = ReviewService(app.store, app.questionnaire, clock=app.clock,
                                    reviewers_may_note_others=app.settings.reviewers_may_note_others)
        self.auth = AuthService(app.store, clock=app.clock)
        self.web = create_app(app, extra_routes=extra_routes, review=self.review, auth=self.auth)
        self.announce = announce
        self.server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with INTAKE_HTTP_PORT=0)."""
        assert self.server is not None and self.server.servers
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        first = await self.auth.ensure_first_admin()
        settings = self.app.settings
        config = uvicorn.Config(
            self.web, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
            lifespan="off", server_header=False, timeout_graceful_shutdown=5,
            # uvicorn believes X-Forwarded-For from loopback by default (FORWARDED_ALLOW_IPS):
            # off here; the app believes only INTAKE_TRUSTED_PROXIES (review.web)
            proxy_headers=False, forwarded_allow_ips=[],
        )
        self.server = _Server(config)
        self._task = asyncio.create_task(self.server.serve(), name="console")
        while not self.server.started:
            if self._task.done():
                self._task.result()  # re-raise why it could not start (e.g. the port is taken)
                raise RuntimeError("the console stopped while starting")
            await asyncio.sleep(0.02)
        url = settings.public_url
        log.info("console listening on %s:%d", settings.http_host, self.port)
        if self.announce:
            print(f"\nStaff console: {url}", flush=True)
        if first is not None:
            self._tell_first_password(*first)

    def _tell_first_password(self, email: str, password: str) -> None:
        """The first admin's one-time password goes to a terminal only; when output is a pipe or a
        log (journald, docker logs keep it), it is written to a 0600 file whose path is logged."""
        if self.announce and sys.stdout.isatty():
            print(f"First admin created: {email}\nOne-time password (shown only now; change it at first login): {password}\n", flush=True)
            return
        path = self.app.settings.data_dir / "first-admin-password.txt"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(f"{email}\n{password}\n")
        log.warning("first admin %s created; its one-time password is in %s (mode 0600): read it, log in, change it, delete the file", email, path)
        if self.announce:
            print(f"First admin created: {email}. Its one-time password is in {path} (readable by this user only).", flush=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._task is not None:
            await self._task


async def components(app: App, *, extra_routes: Sequence[BaseRoute | APIRouter] = ()) -> list[Component]:
    """What `intake run` serves for the staff side: the console."""
    return [Console(app, extra_routes=extra_routes)]
