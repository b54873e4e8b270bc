"""The terminal channel (`intake chat`): the questionnaire on stdin/stdout, same engine.

Kept in the core because it is the reference adapter: it shows how a channel turns a Prompt into
text and text into an engine Action, with no state of its own — the draft lives in the database
keyed by `--as NAME`, so quitting and running `intake chat --as NAME` again resumes.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intake import engine
from intake.app import App
from intake.cases import IncomingFile, Turn
from intake.channels import Channel, InboxRecord, Outgoing
from intake.i18n import translator
from intake.inbound import Inbound, Intent, Result
from intake.questionnaire import FieldType

CHANNEL = Channel.TERMINAL

Out = Callable[[str], None]
In = Callable[[str], str]


def render(turn: Turn, out: Out) -> None:
    prompt = turn.prompt
    t = translator(_lang(turn))
    for notice in turn.notices:
        out(f"\n! {notice}")
    if turn.error:
        out(f"\n✗ {turn.error}")
    if prompt.kind == "stopped":
        out(f"\n{prompt.text}")
        return
    if prompt.kind == "review":
        out(f"\n== {t('Review')} ==")
        for section in prompt.summary:
            out(f"\n[{section.index}] {section.title}  ({t('edit with')} /edit {section.id})")
            for line in section.lines:
                pad = "  " * (line.depth + 1)
                number = f"[{line.number}] " if line.number else ""
                out(f"{pad}{number}{line.label}: {line.value}" if line.value else f"{pad}{line.label}")
        if prompt.missing:
            out("\n" + t("Still required:"))
            for label in prompt.missing:
                out(f"  - {label}")
        out("\n" + prompt.text)
        if prompt.details_left and not prompt.missing:
            out(t("Details still wanted: {n} questions. You can add them now, or after you submit with /details.", n=prompt.details_left))
        out(t("Commands: /submit, /edit NUMBER (e.g. /edit 2.3), /details, /back, /help, /quit"))
        return
    out(f"\n[{prompt.progress}]" + (f"  {prompt.instance_label}" if prompt.instance_label else ""))
    if prompt.intro:
        out(prompt.intro)
    out(prompt.text)
    if prompt.help:
        out(f"  ({prompt.help})")
    if prompt.current is not None:
        out("  " + t("Current answer: {value}  (/keep to keep it)", value=prompt.current))
    if prompt.options:
        for i, option in enumerate(prompt.options, 1):
            mark = "[x] " if option.selected and prompt.multi else ""
            out(f"  {i}. {mark}{option.text}")
        if prompt.multi:
            out("  " + t("Type the numbers, separated by commas (e.g. 1, 3)."))
    elif prompt.field_type == FieldType.FILES:
        out("  " + t("Attach with /file PATH (one at a time), then /done."))
    elif prompt.field_type == FieldType.LONG_TEXT:
        out("  " + t("Write or paste as many lines and paragraphs as you need, then a line with only a full stop (.) to finish."))
    hints = ["/back"] if prompt.can_back else []
    if prompt.can_skip:
        hints.append("/skip")
    hints += ["/review", "/help", "/quit"]
    out("  " + "  ".join(hints))


def _lang(turn: Turn) -> str:
    """The language to show a turn in: the draft's."""
    return turn.lang


def to_action(text: str, turn: Turn) -> engine.Action | str:
    """Turn a typed line into an engine action, or a terminal command name (`quit`, `file …`)."""
    line = text.strip()
    if line.startswith("/"):
        name, _, arg = line[1:].partition(" ")
        name = name.lower()
        if name in ("quit", "exit", "q"):
            return "quit"
        if name == "file":
            return "file " + arg.strip()
        if name in ("back", "skip", "done", "keep", "review", "submit", "continue", "details"):
            return engine.Command(name)  # type: ignore[arg-type]
        if name == "edit":
            return engine.Command("edit", arg.strip())
        if name == "help":
            return engine.Command("help", "/")
        return "unknown"
    prompt = turn.prompt
    if prompt.kind in ("question", "add", "details") and prompt.options and line.isdigit():
        index = int(line) - 1
        if 0 <= index < len(prompt.options):
            return engine.Choose(prompt.options[index].id) if not prompt.multi else engine.Answer(line)
    return engine.Answer(line)


class Terminal:
    """The terminal as a channel: every line is written to the inbox and committed, then taken
    through `receive` like any other input (what it prints comes from the result). A line stored
    but not processed (the process died) is processed at the next start, once."""

    channel = CHANNEL

    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.name = name

    async def handle(self, row: InboxRecord) -> None:
        """Decoder for leftover terminal rows: apply them, show nothing (their owner has gone)."""
        await self._receive(row.id, json.loads(row.raw), str(row.envelope.get("who", "")))

    async def catch_up(self) -> None:
        self.app.inbox.register(self)
        while await self.app.inbox.run_once():
            pass

    async def send(self, spec: dict[str, Any]) -> Result:
        """Store one input and apply it."""
        async with self.app.store.write() as uow:
            inbox_id, _ = await uow.inbox.add(
                channel=CHANNEL, dedup_key=f"terminal:{uuid.uuid4().hex}", envelope={"who": self.name},
                raw=json.dumps(spec).encode(), now=self.app.clock(), order_key=f"terminal:{self.name}",
            )
        return await self._receive(inbox_id, spec, self.name)

    async def _receive(self, inbox_id: str, spec: dict[str, Any], who: str) -> Result:
        return await self.app.receiver.receive(CHANNEL, who, await self._inbound(spec, who), render=_nothing, inbox_id=inbox_id)

    async def _inbound(self, spec: dict[str, Any], who: str) -> Inbound:
        kind = spec["kind"]
        if kind == "start":
            return Inbound(Intent.START, lang=spec.get("lang"))
        if kind == "language":
            return Inbound(Intent.LANGUAGE, text=spec["lang"])
        if kind == "reply":
            return Inbound(Intent.MESSAGE, text=spec["text"], reference=spec.get("reference"))
        if kind == "file":
            data = base64.b64decode(spec["data"])
            return Inbound(Intent.FILE, files=[IncomingFile(filename=spec["name"], data=data, content_type=spec.get("type"))])
        turn = await self.app.cases.current(CHANNEL, who)
        action = to_action(spec["text"], turn) if turn is not None else engine.Answer(spec["text"])
        assert not isinstance(action, str)
        return Inbound(Intent.STEP, action=action)


def _long_text(turn: Turn) -> bool:
    return turn.prompt.kind == "question" and turn.prompt.field_type == FieldType.LONG_TEXT


def _rest_of_paragraphs(first: str, read: In) -> str:
    """A long answer: lines (paragraphs and blank lines between them) until a line with only a
    full stop, so a pasted text of several paragraphs is one answer."""
    lines = [first]
    if first.strip() == ".":
        return ""
    while True:
        try:
            line = read(". ")
        except EOFError:
            break
        if line.strip() == ".":
            break
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _nothing(result: Result) -> list[Outgoing]:
    """The terminal prints the result itself; nothing is queued for it."""
    return []


async def run_chat(app: App, name: str, read: In, out: Out, *, lang: str | None = None) -> str | None:
    """Drive the questionnaire until submitted or quit; returns the case reference if submitted.

    `lang` (a supported code, from `intake chat --lang`) becomes the submitter's and the open
    draft's language; without it the language recorded for `name` is kept (English at first).
    """
    terminal = Terminal(app, name)
    await terminal.catch_up()
    if lang is not None:
        await terminal.send({"kind": "language", "lang": lang})
    t = translator(lang or await app.cases.submitter_lang(CHANNEL, name))
    for row in await app.cases.collect(CHANNEL, name):  # shown below, from the thread: delivered
        del row
    for question in await app.cases.open_questions(CHANNEL, name):
        out("\n" + t("Our staff have a question about case {ref}:", ref=question["reference"]))
        out(question["text"])
        out(t("Type your answer and finish with a line with only a full stop (.). To answer later, type /later; to stop, /quit."))
        lines: list[str] = []
        while True:
            try:
                line = read("| ")
            except EOFError:
                break
            command = line.strip().lower()
            if command in ("/quit", "/exit", "/q"):
                out(t("Your draft is saved. Run `intake chat --as {name}` to continue.", name=name))
                return None
            if command in ("/later", "/skip"):
                lines = []
                break
            if command == ".":
                break
            lines.append(line)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            await terminal.send({"kind": "reply", "text": "\n".join(lines), "reference": question["reference"]})
            out(t("Thank you. Your answer was added to case {ref}; it is back with our staff.", ref=question["reference"]))
    result = await terminal.send({"kind": "start"})
    turn = result.turn
    assert turn is not None
    t = translator(turn.lang)
    if turn.amending:
        out(t("Details for case {ref}, already with our staff. Your answers are saved after each one; /quit and come back any time.", ref=turn.reference))
    else:
        for reference, left in await app.cases.details_wanted(CHANNEL, name):
            out(t("Case {ref}: {n} details still wanted. Type /details to add them now, a short round at a time.", ref=reference, n=left))
        out(t("Case draft {ref}. Your answers are saved after each one; /quit and come back any time.", ref=turn.reference))
    render(turn, out)
    while True:
        try:
            line = read("> ")
            if _long_text(turn) and not line.strip().startswith("/"):
                line = _rest_of_paragraphs(line, read)
        except EOFError:
            out("\n" + t("Your draft is saved. Run `intake chat --as {name}` to continue.", name=name))
            return None
        action = to_action(line, turn)
        if action == "quit":
            out(t("Your draft is saved. Run `intake chat --as {name}` to continue.", name=name))
            return None
        if action == "unknown":
            out(t("Unknown command. Try /help, /back, /skip, /review, /edit NUMBER, /details, /submit, /file PATH, /quit."))
            continue
        if isinstance(action, str) and action.startswith("file "):
            path = Path(action[5:].strip().strip("\"'")).expanduser()  # noqa: ASYNC240 - the terminal channel blocks by design
            if not path.is_file():
                out(t("There is no file at that path."))
                continue
            data = path.read_bytes()
            spec = {"kind": "file", "name": path.name, "type": mimetypes.guess_type(path.name)[0], "data": base64.b64encode(data).decode()}
            result = await terminal.send(spec)
            record = result.attachment
            if result.turn is None or record is None:
                out(t("The file could not be saved. Please try again."))
                continue
            turn = result.turn
            out(t("Saved {file} ({size} bytes, sha256 {sha}).", file=path.name, size=record.size, sha=record.sha256))
            render(turn, out)
            continue
        result = await terminal.send({"kind": "step", "text": line})
        if result.turn is None:
            continue
        turn = result.turn
        t = translator(turn.lang)
        if turn.submitted:
            out("\n" + t("Thank you. Your case has been sent to our staff."))
            out(t("Your case reference is {ref}. Keep it: quote it whenever you contact us about this case.", ref=turn.reference))
            out(t("Our staff will review it and may ask you follow-up questions through this same channel."))
            out(f"REFERENCE {turn.reference}")
            return turn.reference
        if turn.details_done:
            out("\n" + t("Thank you. Your details were added to case {ref}; our staff can see them now.", ref=turn.reference))
            result = await terminal.send({"kind": "start"})
            assert result.turn is not None
            turn = result.turn
        render(turn, out)
        if turn.stopped:
            return None
