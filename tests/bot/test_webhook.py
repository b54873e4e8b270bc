"""Webhook mode: the route mounted on a small Starlette app served by uvicorn on loopback. It
answers 200 only once the update is committed in the inbox, 400 to anything that is not an
update, 403 without the secret."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from bot import webhook
from intake.app import App
from tests.bot.conftest import Runner, RunnerFactory
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 717171
HOOK = "https://bot.example.org/telegram/webhook"


@pytest.fixture
async def hooked(app: App, make_runner: RunnerFactory) -> Runner:
    core = App(app.settings.model_copy(update={"telegram_webhook_url": HOOK}), app.store, app.questionnaire, app.cases, app.clock)
    return await make_runner(core)


@pytest.fixture
async def url(hooked: Runner) -> AsyncIterator[str]:
    console = Starlette()
    webhook.mount(console, hooked.bot_core)  # what the console does
    server = uvicorn.Server(uvicorn.Config(console, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/telegram/webhook"
    finally:
        server.should_exit = True
        await task


async def inbox_count(app: App) -> int:
    async with app.store.read() as uow:
        return sum((await uow.inbox.counts()).values())


async def test_webhook_with_and_without_secret(app: App, hooked: Runner, url: str, fake: FakeBotAPI) -> None:
    hook = fake.bot(hooked.token).webhook
    secret = webhook.webhook_secret(hooked.bot_core.settings)
    assert hook is not None and hook["url"] == HOOK and hook["secret_token"] == secret
    assert not [c for c in fake.calls if c.method == "getUpdates"]  # no polling in webhook mode

    update = {"update_id": 900, **fake.text_message(CHAT, "/start")}
    async with httpx.AsyncClient() as client:
        refused = await client.post(url, content=json.dumps(update), headers={"Content-Type": "application/json"})
        wrong = await client.post(url, json=update, headers={webhook.SECRET_HEADER: "not-it"})
        assert refused.status_code == 403 and wrong.status_code == 403
        assert await inbox_count(app) == 0  # refused before anything was stored, so nothing can follow

        ok = await client.post(url, json=update, headers={webhook.SECRET_HEADER: secret})
        assert ok.status_code == 200
        assert await inbox_count(app) == 1  # committed before the 200 (read at once, from another session)
        again = await client.post(url, json=update, headers={webhook.SECRET_HEADER: secret})  # Telegram retrying
        assert again.status_code == 200
        await hooked.wait_handled(900)
    assert await inbox_count(app) == 1
    texts = fake.texts(CHAT)
    assert len(texts) == 2 and "Welcome" in texts[0] and "Essentials 1/" in texts[1]
    assert await app.cases.current("telegram", str(CHAT)) is not None


async def test_webhook_refuses_garbage_with_400(app: App, hooked: Runner, url: str) -> None:
    secret = webhook.webhook_secret(hooked.bot_core.settings)
    bodies = [b"", b"not json", b"\xff\xfe\x00", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": true}', b"null"]
    async with httpx.AsyncClient() as client:
        for body in bodies:
            answer = await client.post(url, content=body, headers={webhook.SECRET_HEADER: secret, "Content-Type": "application/json"})
            assert answer.status_code == 400, body
    assert await inbox_count(app) == 0


async def test_webhook_answers_503_when_it_cannot_commit(
    app: App, hooked: Runner, url: str, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = webhook.webhook_secret(hooked.bot_core.settings)

    def down() -> object:
        raise ConnectionError("database down")  # what the engine raises when the server is gone

    monkeypatch.setattr(hooked.bot_core.store, "write", down)
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, json={"update_id": 901, **fake.text_message(CHAT, "/help")}, headers={webhook.SECRET_HEADER: secret})
    assert answer.status_code == 503  # not stored, so not acknowledged: Telegram sends it again
    monkeypatch.undo()
    assert await inbox_count(app) == 0
