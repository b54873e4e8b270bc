"""Webhook mode: an ASGI route the console's web server mounts to receive Telegram updates.

A POST is accepted only with Telegram's `X-Telegram-Bot-Api-Secret-Token` header equal to our
secret (else 403, nothing stored). Its body must be a JSON object with an integer `update_id`
(else 400: never a 500, which Telegram would retry forever). The update is written to the inbox
and committed; only then does the route answer 200, so an update Telegram sees acknowledged is
never lost. If the database cannot take it the answer is 503 and Telegram delivers it again. An
update PTB cannot parse is still stored (200): it ends as a failed inbox row, kept for inspection.
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

from bot.accept import store_updates, update_id_of
from bot.app import bot_id
from intake.app import App
from intake.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY = 1_000_000


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


def webhook_endpoint(core: App) -> Any:
    """The ASGI request handler: secret check, shape check, store and commit, then 200."""
    secret = webhook_secret(core.settings).encode()
    bot = bot_id(core.settings)

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("webhook request without the right secret token refused")
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if update_id_of(data) is None:
            log.warning("webhook body is not a Telegram update")
            return Response(status_code=400)
        try:
            await store_updates(core, bot, [data])
        except Exception as exc:  # noqa: BLE001 - not stored, so not acknowledged: Telegram sends it again
            log.warning("webhook update %s could not be stored (%s)", data["update_id"], type(exc).__name__)
            return Response(status_code=503)
        return Response(status_code=200)

    return endpoint


def webhook_route(core: App, path: str | None = None) -> Route:
    """A Starlette/FastAPI route (POST) at `path`, by default the path of INTAKE_TELEGRAM_WEBHOOK_URL."""
    return Route(path or webhook_path(core.settings), webhook_endpoint(core), methods=["POST"], name="telegram_webhook")


def mount(router_owner: Any, core: App, path: str | None = None) -> None:
    """Add the route to a Starlette or FastAPI app: `bot.webhook.mount(console_app, core)`."""
    router_owner.router.routes.append(webhook_route(core, path))
