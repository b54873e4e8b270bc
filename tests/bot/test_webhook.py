"""Webhook mode: the route mounted on a small Starlette app served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx
import uvicorn
from starlette.applications import Starlette

from bot import webhook
from intake.app import App
from tests.bot.conftest import RunnerFactory
from tests.bot.fakebotapi import FakeBotAPI

CHAT = 717171
HOOK = "https://bot.example.org/telegram/webhook"


async def test_webhook_with_and_without_secret(app: App, make_runner: RunnerFactory, fake: FakeBotAPI) -> None:
    core = App(app.settings.model_copy(update={"telegram_webhook_url": HOOK}), app.store, app.questionnaire, app.cases, app.clock)
    runner = await make_runner(core, polling=False)
    bot_core = runner.bot_core
    hook = fake.bot(runner.token).webhook
    secret = webhook.webhook_secret(bot_core.settings)
    assert hook is not None and hook["url"] == HOOK and hook["secret_token"] == secret

    console = Starlette()
    webhook.mount(console, bot_core)  # what the console does
    server = uvicorn.Server(uvicorn.Config(console, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    try:
        update = {"update_id": 900, **fake.text_message(CHAT, "/start")}
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, content=json.dumps(update), headers={"Content-Type": "application/json"})
            wrong = await client.post(url, json=update, headers={webhook.SECRET_HEADER: "not-it"})
            assert refused.status_code == 403 and wrong.status_code == 403
            await asyncio.sleep(0.2)
            assert fake.sent(CHAT) == []
            assert await app.cases.statuses("telegram", str(CHAT)) == []
            assert not await app.cases.seen_event("telegram", f"msg:{CHAT}:{update['message']['message_id']}")

            ok = await client.post(url, json=update, headers={webhook.SECRET_HEADER: secret})
            again = await client.post(url, json=update, headers={webhook.SECRET_HEADER: secret})  # Telegram retrying
            assert ok.status_code == 200 and again.status_code == 200
            await runner.wait_handled(900, times=2)
        texts = fake.texts(CHAT)
        assert len(texts) == 2 and "Welcome" in texts[0] and "Section 1 of 11" in texts[1]
        assert await app.cases.current("telegram", str(CHAT)) is not None
    finally:
        server.should_exit = True
        await task
