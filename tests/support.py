"""Test helpers: deterministic valid answers for any prompt, and a clock tests can pin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake import engine
from intake.app import App
from intake.cases import IncomingFile
from intake.channels import Outgoing
from intake.engine import Prompt
from intake.inbound import Inbound, Intent, Result
from intake.questionnaire import FieldType

SAMPLE_TEXT = {
    FieldType.TEXT: "Sample text {qid}",
    FieldType.LONG_TEXT: "A longer sample answer for {qid}.\nSecond line.",
    FieldType.EMAIL: "contact@example.org",
    FieldType.URL: "https://example.org/report",
    FieldType.NUMBER: "12",
    FieldType.COUNTRY: "Nigeria",
    FieldType.DATE: "2021-03",
}

# answers that keep the conversation going (a "no" to channel safety would stop it)
CHOICES = {"is_channel_safe": "yes", "immediate_danger": "no", "declaration": "yes"}


def answer_for(prompt: Prompt, *, add_more: bool = False, details: bool = True) -> engine.Action:
    """A valid action for the prompt: the first option for choices, sample text otherwise; at the
    choice after the essentials (or a details round), the details now unless `details` is False."""
    assert prompt.kind in ("question", "add", "details"), prompt
    if prompt.kind == "details":
        return engine.Choose("details" if details else "later")
    if prompt.kind == "add":
        return engine.Choose("yes" if add_more else "no")
    qid = prompt.question_id or ""
    ftype = prompt.field_type
    if ftype == FieldType.YES_NO:
        return engine.Choose(CHOICES.get(qid, "yes"))
    if ftype == FieldType.SINGLE_CHOICE:
        return engine.Choose(prompt.options[0].id)
    if ftype == FieldType.MULTI_CHOICE:
        return engine.Answer("1, 2")
    if ftype == FieldType.FILES:
        return engine.Command("skip")
    if ftype == FieldType.DATE and qid == "abuse_dates":
        return engine.Answer("2019 to 2021")
    if qid == "pos_to":
        return engine.Answer("2023")
    return engine.Answer(SAMPLE_TEXT[ftype].format(qid=qid))  # type: ignore[index]


class FixedClock:
    """A clock that only moves when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def no_reply(result: object) -> list[Outgoing]:
    """A renderer that queues nothing (tests that look only at the case)."""
    return []


async def give(app: App, channel: str, who: str, inbound: Inbound) -> Result:
    """One input through the one way in (`receive`), without an inbox row."""
    return await app.receiver.receive(channel, who, inbound, render=no_reply)


async def fill_form(app: App, channel: str, who: str, answers: dict[str, str], *, submit: bool = False) -> Result:
    """Bulk answers (an email form) to the sender's draft, through `receive`."""
    return await give(app, channel, who, Inbound(Intent.FORM, answers=answers, submit=submit, text=""))


async def reply(app: App, channel: str, who: str, body: str, *, reference: str | None = None, files: list[IncomingFile] | None = None) -> Result:
    """A submitter's message outside the questionnaire (e.g. an answer to a follow-up), through `receive`."""
    return await give(app, channel, who, Inbound(Intent.MESSAGE, text=body, reference=reference, files=list(files or [])))


async def add_file(app: App, channel: str, who: str, *, filename: str, data: bytes, source_key: str | None = None) -> Result:
    """A file for the open draft (or the case thread), through `receive`."""
    return await give(app, channel, who, Inbound(Intent.FILE, files=[IncomingFile(filename=filename, data=data, source_key=source_key)]))
