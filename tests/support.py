"""Test helpers: deterministic valid answers for any prompt, and a clock tests can pin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake import engine
from intake.engine import Prompt
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


def answer_for(prompt: Prompt, *, add_more: bool = False) -> engine.Action:
    """A valid action for the prompt: the first option for choices, sample text otherwise."""
    assert prompt.kind in ("question", "add"), prompt
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
