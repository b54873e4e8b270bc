"""What a dossier is made from and what it is made of.

`DossierCase` is the case as the writers read it (the review service's `CaseView` has this shape,
and so has `casework.dossier.casefile.CaseFile`). `Document` is the laid-out recommendation —
title, facts, sections of blocks — that the Markdown and PDF writers render alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


class DossierCase(Protocol):
    reference: str
    status: str
    channel: str
    lang: str
    questionnaire: str
    created_at: str
    submitted_at: str | None
    assigned_to: str | None
    decision: str | None
    decision_reason: str | None
    answers: dict[str, Any]
    sections: list[dict[str, Any]]
    missing: list[str]
    attachments: list[dict[str, Any]]
    thread: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    audit: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Envelope:
    """Who exported, and when."""

    exported_at: datetime
    exported_by: str


@dataclass
class Block:
    """One piece of a section: a paragraph, label/value facts, a bulleted list or a table."""

    kind: Literal["p", "facts", "list", "table"]
    text: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""  # an optional sub-heading above the block


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    notice: str
    sections: list[Section]


def p(text: str, title: str = "") -> Block:
    return Block("p", text=text, title=title)


def facts(rows: list[tuple[str, str]], title: str = "") -> Block:
    return Block("facts", facts=[(k, v) for k, v in rows if v], title=title)


def bullets(items: list[str], title: str = "") -> Block:
    return Block("list", items=items, title=title)


def table(headers: list[str], rows: list[list[str]], title: str = "") -> Block:
    return Block("table", headers=headers, rows=rows, title=title)
