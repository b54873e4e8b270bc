"""A small fake Telegram Bot API server on loopback (Starlette + uvicorn, in-process).

It parses PTB's form-encoded / multipart requests, implements the methods the bot uses, records
every call, hands out injected updates through getUpdates with offset/timeout semantics, serves
file downloads, and can answer the next calls of a method with a 429 (retry_after) or an error.
Several bot tokens can use it at once (each with its own update queue); message ids are per chat
and shared by both directions, as in Telegram.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_ID = 7000001


@dataclass
class Call:
    token: str
    method: str
    params: dict[str, Any]
    status: int = 200
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button in this call's reply_markup."""
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int


@dataclass
class FakeFile:
    file_id: str
    unique_id: str
    data: bytes
    path: str


@dataclass
class _Bot:
    queue: list[dict[str, Any]] = field(default_factory=list)
    next_update: int = 1
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)
    webhook: dict[str, Any] | None = None


class FakeBotAPI:
    """The fake server. `await start()` serves it on 127.0.0.1 and returns the API root URL."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.bots: dict[str, _Bot] = {}
        self.files: dict[str, FakeFile] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._failures: list[Failure] = []
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # ---- serving -----------------------------------------------------------------------------

    async def start(self) -> str:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    # ---- test-side API -----------------------------------------------------------------------

    def bot(self, token: str) -> _Bot:
        return self.bots.setdefault(token, _Bot())

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def inject(self, token: str, update: dict[str, Any], *, copies: int = 1) -> int:
        """Queue an update for getUpdates (`copies` > 1: delivered that many times); returns its id."""
        state = self.bot(token)
        update = dict(update)
        update["update_id"] = state.next_update
        state.next_update += 1
        async with state.cond:
            state.queue.extend(dict(update) for _ in range(copies))
            state.cond.notify_all()
        return int(update["update_id"])

    def fail(self, method: str, *, status: int = 429, retry_after: int | None = 1, description: str | None = None,
             chat_id: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` (for `chat_id` if given) with an error."""
        desc = description or (f"Too Many Requests: retry after {retry_after}" if status == 429 else "Bad Request")
        self._failures.append(Failure(method, status, desc, retry_after if status == 429 else None, chat_id, times))

    def add_file(self, data: bytes, *, suffix: str = "bin") -> FakeFile:
        digest = hashlib.sha256(data).hexdigest()[:16]
        f = FakeFile(f"file-{digest}", f"uniq-{digest}", data, f"documents/{digest}.{suffix}")
        self.files[f.file_id] = f
        return f

    def sent(self, chat_id: int | None = None, methods: tuple[str, ...] = ("sendMessage",)) -> list[Call]:
        """Recorded successful calls of these methods (to this chat)."""
        return [c for c in self.calls if c.method in methods and c.status == 200 and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.sent(chat_id)]

    # ---- the Bot API -------------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            body = await request.body()
            params.update(json.loads(body) if body else {})
        elif request.method == "POST":
            form = await request.form()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else await value.read()
        for key in ("reply_markup", "commands", "allowed_updates", "entities"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    def _failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.times > 0 and (failure.chat_id is None or str(failure.chat_id) == str(params.get("chat_id"))):
                failure.times -= 1
                return failure
        return None

    async def _api(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        params = await self._params(request)
        call = Call(token, method, params)
        self.calls.append(call)
        failure = self._failure(method, params)
        if failure is not None:
            call.status = failure.status
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return JSONResponse(body, status_code=failure.status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 404
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found: method not found"}, status_code=404)
        result = await handler(token, params)
        call.result = result
        return JSONResponse({"ok": True, "result": result})

    async def _m_getMe(self, token: str, params: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Intake", "username": "intake_test_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_getUpdates(self, token: str, params: dict[str, Any]) -> Any:
        state = self.bot(token)
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with state.cond:
            if offset:
                state.queue = [u for u in state.queue if u["update_id"] >= offset]
            if not state.queue and timeout > 0:
                try:
                    await asyncio.wait_for(state.cond.wait_for(lambda: bool(state.queue)), timeout)
                except TimeoutError:
                    pass
            return state.queue[:limit]

    def _message(self, chat_id: int, params: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        message_id = message_id or self.next_message_id(chat_id)
        msg: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "Sub"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Intake", "username": "intake_test_bot"},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message_id)] = msg
        return msg

    async def _m_sendMessage(self, token: str, params: dict[str, Any]) -> Any:
        return self._message(int(params["chat_id"]), params)

    async def _m_editMessageText(self, token: str, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        return self._message(chat_id, params, message_id)

    async def _m_editMessageReplyMarkup(self, token: str, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        old = self.messages.get((chat_id, message_id), {})
        return self._message(chat_id, {"text": old.get("text", ""), "reply_markup": params.get("reply_markup")}, message_id)

    async def _m_answerCallbackQuery(self, token: str, params: dict[str, Any]) -> Any:
        return True

    async def _m_deleteMessage(self, token: str, params: dict[str, Any]) -> Any:
        return True

    async def _m_setMyCommands(self, token: str, params: dict[str, Any]) -> Any:
        return True

    async def _m_deleteWebhook(self, token: str, params: dict[str, Any]) -> Any:
        self.bot(token).webhook = None
        return True

    async def _m_setWebhook(self, token: str, params: dict[str, Any]) -> Any:
        self.bot(token).webhook = params
        return True

    async def _m_getFile(self, token: str, params: dict[str, Any]) -> Any:
        f = self.files[str(params["file_id"])]
        return {"file_id": f.file_id, "file_unique_id": f.unique_id, "file_size": len(f.data), "file_path": f.path}

    async def _download(self, request: Request) -> Response:
        path = request.path_params["path"]
        for f in self.files.values():
            if f.path == path:
                self.calls.append(Call(request.path_params["token"], "download", {"path": path}))
                return Response(f.data, media_type="application/octet-stream")
        return Response(status_code=404)

    # ---- update builders ---------------------------------------------------------------------

    def user(self, chat_id: int, lang: str = "en") -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Sub", "language_code": lang}

    def text_message(self, chat_id: int, text: str, *, lang: str = "en", reply_to: dict[str, Any] | None = None,
                     chat_type: str = "private") -> dict[str, Any]:
        """A `message` update with text (a command gets its bot_command entity, as Telegram sends it)."""
        msg: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id), "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, **({"first_name": "Sub"} if chat_type == "private" else {"title": "Group"})},
            "from": self.user(abs(chat_id), lang), "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return {"message": msg}

    def file_message(self, chat_id: int, f: FakeFile, *, kind: str = "document", filename: str = "evidence.pdf",
                     mime: str = "application/pdf", size: int | None = None, lang: str = "en",
                     reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A `message` update carrying a document or a photo."""
        msg: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Sub"}, "from": self.user(chat_id, lang),
        }
        file_size = size if size is not None else len(f.data)
        if kind == "document":
            msg["document"] = {"file_id": f.file_id, "file_unique_id": f.unique_id, "file_name": filename, "mime_type": mime, "file_size": file_size}
        else:
            msg["photo"] = [
                {"file_id": f.file_id + "-small", "file_unique_id": f.unique_id + "-small", "width": 90, "height": 90, "file_size": 100},
                {"file_id": f.file_id, "file_unique_id": f.unique_id, "width": 800, "height": 600, "file_size": file_size},
            ]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return {"message": msg}

    def callback(self, chat_id: int, data: str, message: dict[str, Any], *, lang: str = "en") -> dict[str, Any]:
        """A `callback_query` update: a press on a button of one of the bot's messages."""
        return {
            "callback_query": {
                "id": str(next(self._callback_ids)), "from": self.user(chat_id, lang), "chat_instance": f"ci{chat_id}",
                "data": data, "message": message,
            }
        }
