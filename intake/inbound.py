"""The channel-neutral shapes of one input and of what `receive` made of it.

A channel turns its wire format (a Telegram update, an email, a terminal line) into one `Inbound`
with an `Intent`; the core's `receive` applies it in one transaction and hands a `Result` to the
channel's renderer. Nothing here knows a wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from intake.cases import CaseStatus, IncomingFile, Turn
from intake.engine import Action, Draft, Prompt
from storage.repositories import AttachmentRecord


class Intent(StrEnum):
    START = "start"  # begin a draft, or return to the one in progress
    RESUME = "resume"  # show the current question (no draft: say so)
    STEP = "step"  # one engine input (an answer, a choice, a command) to the open draft
    TEXT = "text"  # typed text: an answer when a draft is open, else a message on the case thread
    APPEND = "append"  # more text for the answer at `path` (a long message the channel got in parts)
    FILE = "file"  # a file: for the current files question, extra evidence, or the case thread
    FORM = "form"  # a message with bulk answers (an email form): kept, applied, maybe submitted
    MESSAGE = "message"  # a message for the case thread (e.g. an answer to a staff follow-up)
    LANGUAGE = "language"  # change the conversation's language
    DISCARD = "discard"  # delete the draft in progress (confirmed)
    WITHDRAW = "withdraw"  # withdraw a submitted case (confirmed)
    NOTICE = "notice"  # nothing changes; the channel answers (help, menus, status, refusals)
    IGNORE = "ignore"  # nothing changes and nothing is said (an update we do not handle)


@dataclass
class Inbound:
    """One input, in the core's terms. `key` makes it idempotent (an update id, a Message-ID plus a
    content hash): an input seen before changes nothing and is answered by nothing."""

    intent: Intent
    key: str | None = None
    lang: str | None = None  # the language the channel suggests (first contact, Content-Language)
    lang_chosen: bool = False  # FORM: `lang` is the person's own choice (a `LANGUAGE: es` line): the draft switches to it
    action: Action | None = None  # STEP
    expect: Callable[[Prompt], bool] | None = None  # STEP: still the prompt this input was for?
    # STEP without `action`: the action, decided from the prompt the chat is on (and its language) under
    # the chat's lock, in the same transaction; None: the input means nothing there (stale, or no action)
    resolve: Callable[[Prompt, str], Action | None] | None = None
    text: str | None = None  # TEXT, APPEND, MESSAGE, FORM: what the person wrote
    path: str | None = None  # APPEND: the answer to extend
    files: list[IncomingFile] = field(default_factory=list)  # FILE, FORM, MESSAGE
    answers: dict[str, str] = field(default_factory=dict)  # FORM: answer path → raw text
    submit: bool = False  # FORM: the person asked to submit
    reference: str | None = None  # the case named (a reply to a bot message, a subject, a +tag)
    thread_keys: list[str] = field(default_factory=list)  # external ids this input replies to
    external_key: str | None = None  # this input's own external id (e.g. its Message-ID)
    automated: str | None = None  # FORM/MESSAGE: why it is machine mail (no reply, nothing changes)
    chat_ref: dict[str, Any] | None = None  # a chat's id of this input (e.g. {"chat_id", "message_ids"}), kept encrypted for wiping
    proven: set[str] | None = None  # FORM: the case ids this input proves it may act on (a capability in
    # the reply address or subject, a reply to a message we sent); None: the channel authenticates the sender
    meta: dict[str, Any] = field(default_factory=dict)  # the channel's own context, handed back to its renderer
    auth: dict[str, str] | None = None  # the sender's authentication as a trusted relay recorded it (e.g. DMARC): audited
    forged: bool = False  # FORM: the channel found the sender forged (e.g. DMARC failed): starts and continues nothing


@dataclass
class Result:
    """What one receive did, for the channel's renderer (pure) and for the caller."""

    inbound: Inbound
    lang: str = "en"
    turn: Turn | None = None  # the draft's state after the input (None: no draft)
    duplicate: bool = False  # seen before: nothing changed, nothing is said
    fresh: bool = False  # START/FORM: a draft was created by this input
    case_id: str | None = None
    reference: str | None = None
    status: str | None = None
    threaded: bool = False  # the input landed on a submitted case's thread
    verified: bool = True  # the sender is the case's submitter
    requeued: bool = False  # a case waiting for information went back to the queue
    attachment: AttachmentRecord | None = None  # FILE: the stored file
    attachments: int = 0  # files kept with this input
    statuses: list[CaseStatus] = field(default_factory=list)  # the submitter's cases (NOTICE, WITHDRAW)
    done: bool = False  # DISCARD / WITHDRAW / LANGUAGE took effect
    results: dict[str, str | None] = field(default_factory=dict)  # FORM: path → None (accepted) or the error
    notices: list[str] = field(default_factory=list)
    draft: Draft | None = None  # FORM: the draft after the answers (the form renderer reads it)
    submitted: bool = False
    limited: bool = False  # an automatic reply was due but the hourly limit was reached
    warn_owner: bool = False  # FORM: an unproven message reached the case only by its sender's identity; tell the owner (once)
    no_case: bool = False  # MESSAGE/TEXT/FILE with no case to put it on
    asked: Prompt | None = None  # TEXT/STEP: the prompt the input was applied to (before it)
