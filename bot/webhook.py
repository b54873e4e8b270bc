"""Webhook mode: an ASGI route the console's web server mounts to receive Telegram updates.

The console adds `webhook_route(core)` to its routes (see `mount`). A POST is accepted only with
Telegram's `X-Telegram-Bot-Api-Secret-Token` header equal to our secret (else 403, nothing
stored), then handed to the running bot Application's update queue, where it is processed like
a polled update (per-chat order, dedup, one transaction per input).

The bot component attaches its Application here when it starts (`attach`) and detaches it when
it stops; until then the route answers 503 so Telegram retries later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from intake.app import App
from intake.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY = 1_000_000

# running Applications by the core App they serve (id of the object shared by console and bot)
_attached: dict[int, Application] = {}  # type: ignore[type-arg]


def webhook_secret(settings: Settings) -> str:
    """INTAKE_TELEGRAM_WEBHOOK_SECRET, or one derived from the newest master key (stable across processes)."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    return hmac.new(settings.master_keys()[0], b"intake telegram webhook secret", hashlib.sha256).hexdigest()


def webhook_path(settings: Settings) -> str:
    """The path of INTAKE_TELEGRAM_WEBHOOK_URL (where the console must serve the route)."""
    if settings.telegram_webhook_url:
        path = urlsplit(settings.telegram_webhook_url).path
        if path and path != "/":
            return path
    return DEFAULT_PATH


def attach(core: App, application: Application) -> None:  # type: ignore[type-arg]
    """Route updates for `core` to this running Application."""
    _attached[id(core)] = application


def detach(core: App) -> None:
    _attached.pop(id(core), None)


def webhook_endpoint(core: App) -> Any:
    """The ASGI request handler: secret check, parse, enqueue; 200 once the update is queued."""
    secret = webhook_secret(core.settings).encode()

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("webhook request without the right secret token refused")
            return Response(status_code=403)
        application = _attached.get(id(core))
        if application is None:
            return Response(status_code=503)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            update = Update.de_json(json.loads(body), application.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook body is not a Telegram update")
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response(status_code=200)

    return endpoint


def webhook_route(core: App, path: str | None = None) -> Route:
    """A Starlette/FastAPI route (POST) at `path`, by default the path of INTAKE_TELEGRAM_WEBHOOK_URL."""
    return Route(path or webhook_path(core.settings), webhook_endpoint(core), methods=["POST"], name="telegram_webhook")


def mount(router_owner: Any, core: App, path: str | None = None) -> None:
    """Add the route to a Starlette or FastAPI app: `bot.webhook.mount(console_app, core)`."""
    router_owner.router.routes.append(webhook_route(core, path))
