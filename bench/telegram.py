"""Table 1 — Telegram: N chats × M updates through the real `intake run` against the fake Bot API
on loopback, vs. a PTB echo bot (real `Application`, same limiter) against the same server.

Each chat is a closed loop, as a person is: it sends an update (`/start`, then the questionnaire's
answers typed as text), waits for the bot's first sendMessage to that chat, then sends the next.
Reply latency = update offered by getUpdates' queue → first sendMessage for that chat received by
the fake server. CPU = user+system seconds of the bot's process over the run, per update."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from typing import Any

from bench.core import Context, Table, interleave, percentile
from bench.procs import Proc, fresh_db, intake_env, intake_run
from intake import engine
from intake.questionnaire import load_default
from tests.bot.fakebotapi import FakeBotAPI
from tests.support import answer_for

UPDATE_TIMEOUT = 60.0
PRESS = "press:"


class TimedBotAPI(FakeBotAPI):
    """The tests' fake Bot API, noting when each chat's sendMessage arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: dict[int, list[tuple[float, str]]] = {}
        self.events: dict[int, asyncio.Event] = {}

    def waiter(self, chat_id: int) -> asyncio.Event:
        return self.events.setdefault(chat_id, asyncio.Event())

    async def _m_sendMessage(self, token: str, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        self.replies.setdefault(chat_id, []).append((time.perf_counter(), str(params.get("text", ""))))
        self.waiter(chat_id).set()
        return await super()._m_sendMessage(token, params)


def script(m: int) -> list[tuple[str, str]]:
    """`/start`, then answers to the default questionnaire typed as a person would (options by
    their label), each with a piece of the reply that ends the bot's answer to it (the next prompt)."""
    q = load_default()
    draft = engine.start()
    steps = [("/start", engine.next_prompt(q, draft).text)]
    while len(steps) < m and (prompt := engine.next_prompt(q, draft)).kind != "review":
        action = answer_for(prompt)
        if isinstance(action, engine.Choose):
            labels = {o.id: o.text for o in prompt.options}
            text = labels.get(action.option, action.option)
        elif isinstance(action, engine.Answer):
            text = action.text
        else:  # a command (skip a file question): the button, as a person presses it
            text = PRESS + "Skip"
        draft = engine.apply(q, draft, action).draft
        steps.append((text, engine.next_prompt(q, draft).text))
    while len(steps) < m:
        steps.append(("/resume", engine.next_prompt(q, draft).text))
    return steps


def update(fake: TimedBotAPI, chat_id: int, text: str, echo: bool) -> dict[str, Any]:
    """A text message, or a press on the button labelled so on the bot's newest message with it
    (the echo bot gets the label as text: it has no buttons)."""
    if not text.startswith(PRESS):
        return fake.text_message(chat_id, text)
    label = text.removeprefix(PRESS)
    if echo:
        return fake.text_message(chat_id, label)
    for (cid, _), message in sorted(fake.messages.items(), key=lambda kv: kv[0][1], reverse=True):
        if cid != chat_id:
            continue
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return fake.callback(chat_id, str(button["callback_data"]), message)
    return fake.text_message(chat_id, label)


async def drive(fake: TimedBotAPI, token: str, proc: Proc, chats: int, steps: list[tuple[str, str]], first_chat: int, *,
                echo: bool = False) -> dict[str, float]:
    """Run the closed loops; returns updates/s, p50/p99 latency (ms), CPU ms per update, refusals.
    The next update of a chat is sent once the bot's answer to the last one is complete: a message
    containing the expected text (the echo: the text itself), or a refusal (counted)."""
    deadline = time.monotonic() + 60
    while not any(c.token == token and c.method == "getUpdates" for c in fake.calls):
        if not proc.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start polling:\n{proc.output()[-3000:]}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    latencies: list[float] = []
    proc.profile_start()
    cpu0 = proc.cpu()

    async def chat(chat_id: int) -> None:
        for text, expect in steps:
            expect = text if echo else expect
            event = fake.waiter(chat_id)
            event.clear()
            seen = len(fake.replies.get(chat_id, []))
            t0 = time.perf_counter()
            await fake.inject(token, update(fake, chat_id, text, echo))

            def complete(expect: str = expect, seen: int = seen) -> bool:
                return any(expect in body or body.startswith("✗") for _, body in fake.replies.get(chat_id, [])[seen:])

            while not complete():
                try:
                    await asyncio.wait_for(event.wait(), UPDATE_TIMEOUT)
                except TimeoutError:
                    raise RuntimeError(f"no reply within {UPDATE_TIMEOUT}s in chat {chat_id}:\n{proc.output()[-2000:]}") from None
                event.clear()
            latencies.append(fake.replies[chat_id][seen][0] - t0)

    started = time.perf_counter()
    await asyncio.gather(*(chat(first_chat + i) for i in range(chats)))
    wall = time.perf_counter() - started
    await asyncio.sleep(0.3)  # let the last replies' bookkeeping finish
    cpu = proc.cpu() - cpu0
    await proc.profile_stop()
    n = chats * len(steps)
    refused = sum(1 for i in range(chats) for _, text in fake.replies.get(first_chat + i, []) if text.startswith("✗"))
    return {"updates_s": n / wall, "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "cpu_ms_update": cpu * 1000 / n, "refused": float(refused)}


async def run(ctx: Context) -> Table:
    a = ctx.args
    chats, m = (5, 6) if ctx.quick else (a.chats, a.updates)
    table = Table("telegram", "Telegram: chats × updates through `intake run` vs. a PTB echo bot (same fake Bot API, same limiter)",
                  params={"chats": chats, "updates_per_chat": m, "limiter": a.limiter, "database": "postgresql" if ctx.pg_url else "sqlite"})
    steps = script(m)
    fake = TimedBotAPI()
    url = await fake.start()
    counter = itertools.count(1)
    chat_ids = itertools.count(100000, 10000)
    profiled: list[int] = []  # only the first run of ours is profiled
    try:
        async def ours() -> dict[str, float]:
            i = next(counter)
            token = f"{800000 + i}:BENCH-ours-{i}"
            folder = ctx.work / f"tg-ours-{i}"
            db = await asyncio.to_thread(fresh_db, ctx.pg_url, folder, "telegram")
            env = intake_env(folder / "data", db, INTAKE_TELEGRAM_TOKEN=token, INTAKE_TELEGRAM_API_URL=url)
            profile = ctx.profile_dir / "telegram-ours-1.folded" if ctx.profile_dir and not profiled else None
            profiled.append(i)
            proc = intake_run(env, folder / "run.log", profile=profile)
            try:
                return await drive(fake, token, proc, chats, steps, next(chat_ids))
            finally:
                await proc.stop()

        async def echo() -> dict[str, float]:
            i = next(counter)
            token = f"{800000 + i}:BENCH-echo-{i}"
            folder = ctx.work / f"tg-echo-{i}"
            folder.mkdir(parents=True, exist_ok=True)
            proc = Proc([sys.executable, "-m", "bench.echo", url, token, "--limiter", a.limiter], intake_env(folder, "sqlite://"), folder / "echo.log")
            try:
                return await drive(fake, token, proc, chats, steps, next(chat_ids), echo=True)
            finally:
                await proc.stop()

        res = await interleave({"echo": echo, "ours": ours}, ctx.reps)
    finally:
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # long polls cut at shutdown are expected
        await fake.stop()
    o, e = res["ours"], res["echo"]
    table.row("updates/s", "upd/s", o["updates_s"], ("echo bot", e["updates_s"]))
    table.row("reply latency p50", "ms", o["p50_ms"], ("echo bot", e["p50_ms"]))
    p99 = table.row("reply latency p99", "ms", o["p99_ms"], ("echo bot", e["p99_ms"]))
    cpu = table.row("CPU per update (bot process)", "ms", o["cpu_ms_update"], ("echo bot", e["cpu_ms_update"]))
    table.row("refused inputs (✗ replies)", "count", o["refused"], note="should be 0: the script answers validly")
    table.goal("Telegram: CPU per update ≤ 2× the echo bot's", cpu.ratio, 2.0)
    table.goal("Telegram: p99 reply latency ≤ 3× the echo bot's", p99.ratio, 3.0)
    if ctx.profile_dir:
        table.notes.append(f"py-spy profile of the first `intake run` (collapsed stacks; summary in .txt): {ctx.profile_dir / 'telegram-ours-1.folded'}")
    return table
