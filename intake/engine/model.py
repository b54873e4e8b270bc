"""The engine's data: the draft, slots, the actions a person can take, prompts and outcomes, paths.

A draft holds the answers as nested JSON (a repeatable group is a list of instances, each a dict
of its own answers), plus where the submitter is. A path names one answer inside it:
`("perpetrators", 0, "perp_name")`, written `perpetrators.0.perp_name` as a key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel

from intake.questionnaire import FieldType, Group, Question

PathT = tuple[Union[str, int], ...]
SKIPPED = None  # an optional question the submitter skipped is stored as null


class Draft(BaseModel):
    """A case in progress. Serialised as JSON and stored encrypted."""

    answers: dict[str, Any] = {}
    lang: str = "en"
    cursor: list[str | int] | None = None  # a slot moved to with back/edit
    mode: Literal["flow", "edit_one", "edit_section", "review"] = "flow"
    closed_groups: list[str] = []  # group paths whose "add another?" was answered no
    pending: list[Any] | None = None  # multi-choice toggles / files gathered for the current slot
    pending_path: list[str | int] | None = None
    stopped: bool = False  # the channel is not safe: conversation ended
    round: str | None = None  # details: the section id being asked (None: the first pass)
    amending: bool = False  # a submitted case's details session is in progress (see intake.case_details)


@dataclass(frozen=True)
class Slot:
    """One step of the conversation: a question at a path, or the "add another?" after a group."""

    kind: Literal["question", "add"]
    path: PathT  # question: (..., "group", i, "qid"); add: (..., "group")
    item: Question | Group
    section: int
    scopes: tuple[dict[str, Any], ...] = field(repr=False, compare=False, default=())

    @property
    def key(self) -> str:
        return path_key(self.path)


# ---- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Raw text typed by the submitter for the current slot."""

    text: str


@dataclass(frozen=True)
class Choose:
    """A button: an option id, or "yes"/"no" for yes_no and "add another?"."""

    option: str


@dataclass(frozen=True)
class Toggle:
    """Toggle one option of the current multi-choice question (kept pending until Done)."""

    option: str


@dataclass(frozen=True)
class AddFile:
    """A stored attachment's id, for the current files question (kept pending until Done)."""

    attachment_id: str


CommandName = Literal["back", "skip", "done", "keep", "review", "submit", "edit", "continue", "help", "details"]
COMMANDS: tuple[CommandName, ...] = ("back", "skip", "done", "keep", "review", "submit", "edit", "continue", "help", "details")


@dataclass(frozen=True)
class Command:
    """A conversation command. `target` is, for edit: a section id or number, a question id, a path,
    a question's label, or the number shown in the review (e.g. `5.3`); for help: the prefix the
    channel puts before command words (e.g. "/"), used in the help text."""

    name: CommandName
    target: str | None = None


Action = Union[Answer, Choose, Toggle, AddFile, Command]


# ---- prompts and outcomes --------------------------------------------------------------------


@dataclass(frozen=True)
class OptionView:
    id: str
    text: str
    selected: bool = False


@dataclass(frozen=True)
class SummaryLine:
    """One answer in the review (or a group instance's heading, with an empty value and number)."""

    path: str
    label: str
    value: str
    depth: int = 0
    number: str = ""  # "5.3": section 5, third answer; `edit 5.3` edits it


@dataclass(frozen=True)
class SectionSummary:
    id: str
    index: int
    title: str
    lines: list[SummaryLine]


@dataclass(frozen=True)
class HelpEntry:
    """A command that works now, and what it does (`command` without any channel prefix)."""

    command: str
    text: str


@dataclass(frozen=True)
class Prompt:
    kind: Literal["question", "add", "details", "review", "stopped"]  # details: add them now or later
    text: str
    section_index: int = 0  # 1-based
    section_count: int = 0
    section_title: str = ""
    progress: str = ""
    help: str | None = None
    path: str | None = None
    question_id: str | None = None
    field_type: FieldType | None = None
    options: list[OptionView] = field(default_factory=list)
    multi: bool = False
    can_skip: bool = False
    can_back: bool = False
    current: str | None = None  # the existing answer, shown when editing
    instance_label: str | None = None  # "Alleged perpetrator 2"
    intro: str | None = None  # the section's introduction, on its first question
    missing: list[str] = field(default_factory=list)  # review: labels still required
    summary: list[SectionSummary] = field(default_factory=list)  # review
    keyboard: str = "none"  # the field registry's keyboard: none, options, checkboxes, yes_no, files
    hint: str | None = None  # the expected form of the answer, e.g. "(a country name or code)"
    example: str | None = None  # an answer that would be accepted
    blank_skips: bool = False  # an empty answer skips this question
    details_left: int = 0  # questions outside the first pass not answered yet
    details_required: int = 0  # of which required ("details still wanted")


@dataclass(frozen=True)
class Outcome:
    draft: Draft
    ok: bool
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    changed: bool = False  # an answer was stored or removed
    ready_to_submit: bool = False  # `submit` asked and nothing required is missing
    stopped: bool = False
    applies: bool = True  # False: the question named does not apply to these answers (yet)
    help: list[HelpEntry] = field(default_factory=list)  # `help`: the commands that work now


# ---- paths -----------------------------------------------------------------------------------


def path_key(path: PathT | list[str | int]) -> str:
    return ".".join(str(p) for p in path)


def parse_path(key: str) -> PathT:
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


def start(lang: str = "en") -> Draft:
    """A new, empty draft in `lang`."""
    return Draft(lang=lang)
