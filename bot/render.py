"""Engine prompts as Telegram messages: text plus inline keyboards, and button data back to actions.

Pure functions: no I/O, no state. Every text a submitter sees goes through the translator.
Messages are sent as plain text (no parse mode), so answers can contain any character.

Button data (at most 64 bytes) names the prompt it belongs to with a short tag of the prompt's
path, so a press on an old message is recognised as stale instead of answering a later question.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from intake import languages
from intake.cases import CaseStatus, Turn
from intake.engine import Prompt
from intake.i18n import Translator, translator
from intake.questionnaire import FieldType

MAX_TEXT = 4000  # Telegram allows 4096 characters per message; keep a margin
REVIEW_TAG = "rv"



@dataclass(frozen=True)
class Outgoing:
    """One message to send: plain text and an optional inline keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Press:
    """A decoded button press: what kind of button, the prompt tag it was made for, its value."""

    kind: str  # o(ption) c(ommand) e(dit section) s(ubmit) l(anguage) x (cancel) w/wy/wn (withdraw) po/pw/pn (wipe)
    tag: str = ""
    value: str = ""


def tag_of(prompt: Prompt) -> str:
    """A short, stable tag for the prompt a keyboard belongs to."""
    if prompt.kind == "review":
        return REVIEW_TAG
    key = f"{prompt.kind}:{prompt.path or ''}"
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def encode(press: Press) -> str:
    data = ":".join(p for p in (press.kind, press.tag, press.value) if p != "" or press.kind in ("o", "c"))
    assert len(data.encode()) <= 64, "callback data over Telegram's 64-byte limit"
    return data


def decode(data: str | None) -> Press | None:
    """The press a button's data describes, or None for data we did not make."""
    if not data:
        return None
    parts = data.split(":", 2)
    kind = parts[0]
    if kind in ("o", "c") and len(parts) == 3:
        return Press(kind, parts[1], parts[2])
    if kind in ("e", "l", "w", "wy") and len(parts) == 2:
        return Press(kind, "", parts[1])
    if kind in ("s",) and len(parts) == 2:
        return Press(kind, parts[1])
    if kind in ("x",) and len(parts) == 2:
        return Press(kind, "", parts[1])
    if kind in ("wn", "po", "pw", "pn") and len(parts) == 1:
        return Press(kind)
    return None


def _button(text: str, press: Press) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(press))


def _hint(prompt: Prompt, t: Translator) -> str | None:
    if prompt.kind == "add":
        return None
    match prompt.field_type:
        case FieldType.MULTI_CHOICE:
            return t("Choose all that apply, then press Done.")
        case FieldType.SINGLE_CHOICE | FieldType.YES_NO:
            return t("Choose one.")
        case FieldType.FILES:
            return t("Send the files here (documents, photos, videos, audio or voice), then press Done.")
        case None:
            return None
    return t("Type your answer.")


def keyboard(prompt: Prompt, lang: str) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a question or an "add another?" prompt."""
    t = translator(lang)
    tag = tag_of(prompt)
    rows: list[list[InlineKeyboardButton]] = []
    two = prompt.kind == "add" or prompt.field_type == FieldType.YES_NO
    buttons = []
    for i, option in enumerate(prompt.options):
        label = f"✓ {option.text}" if option.selected else option.text
        buttons.append(_button(label, Press("o", tag, str(i))))
    if two:
        if buttons:
            rows.append(buttons)
    else:
        rows.extend([b] for b in buttons)
    if prompt.multi or prompt.field_type == FieldType.FILES:
        rows.append([_button(t("Done"), Press("c", tag, "done"))])
    nav = []
    if prompt.can_back:
        nav.append(_button(t("« Back"), Press("c", tag, "back")))
    if prompt.can_skip:
        nav.append(_button(t("Skip"), Press("c", tag, "skip")))
    if prompt.current is not None and prompt.kind == "question":
        nav.append(_button(t("Keep current answer"), Press("c", tag, "keep")))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows) if rows else None


def question_text(prompt: Prompt, lang: str, *, error: str | None = None) -> str:
    """A question (or "add another?") as message text: error, progress, question, help, hint."""
    t = translator(lang)
    lines: list[str] = []
    if error:
        lines += [f"✗ {error}", ""]
    lines.append(prompt.progress)
    if prompt.instance_label:
        lines.append(prompt.instance_label)
    lines += ["", prompt.text]
    if prompt.help:
        lines.append(f"({prompt.help})")
    if prompt.current is not None and prompt.kind == "question":
        lines += ["", t("Current answer: {value}", value=prompt.current)]
    hint = _hint(prompt, t)
    if hint:
        lines += ["", hint]
    return "\n".join(lines)


def _chunks(blocks: list[str]) -> list[str]:
    """Join text blocks into messages under Telegram's length limit (splitting huge blocks)."""
    out: list[str] = []
    current = ""
    for block in blocks:
        while len(block) > MAX_TEXT:
            if current:
                out.append(current)
                current = ""
            out.append(block[:MAX_TEXT])
            block = block[MAX_TEXT:]
        if current and len(current) + 2 + len(block) > MAX_TEXT:
            out.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    if current:
        out.append(current)
    return out


def review(prompt: Prompt, lang: str, *, error: str | None = None) -> list[Outgoing]:
    """The review screen: answers by section (split over messages), then Edit per section and Submit."""
    t = translator(lang)
    blocks = [t("Review your answers")]
    for section in prompt.summary:
        lines = [f"{section.index}. {section.title}"]
        for line in section.lines:
            pad = "  " * (line.depth + 1)
            lines.append(f"{pad}{line.label}: {line.value}" if line.value else f"{pad}{line.label}")
        if len(lines) == 1:
            lines.append("  " + t("(nothing answered)"))
        blocks.append("\n".join(lines))
    final = []
    if error:
        final += [f"✗ {error}", ""]
    if prompt.missing:
        final.append(t("Still required:"))
        final += [f"• {label}" for label in prompt.missing]
        final.append("")
    final.append(prompt.text)
    if prompt.details_left and not prompt.missing:
        final += ["", t("Details still wanted: {n} questions. You can add them now, or after you submit with /details.", n=prompt.details_left)]
    rows: list[list[InlineKeyboardButton]] = []
    pair: list[InlineKeyboardButton] = []
    for section in prompt.summary:
        pair.append(_button(t("✎ {n}. {title}", n=section.index, title=section.title), Press("e", "", section.id)))
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    if prompt.missing:
        rows.append([_button(t("Continue answering"), Press("c", REVIEW_TAG, "continue"))])
    elif prompt.details_left:
        rows.append([_button(t("Add details now"), Press("c", REVIEW_TAG, "details"))])
    rows.append([_button(t("Submit the case"), Press("s", REVIEW_TAG))])
    texts = _chunks(blocks)
    messages = [Outgoing(text) for text in texts]
    messages.append(Outgoing("\n".join(final), InlineKeyboardMarkup(rows)))
    return messages


def turn_messages(turn: Turn, lang: str) -> list[Outgoing]:
    """Everything to say after one turn: notices, then the submission receipt or the next prompt."""
    out = [Outgoing(n) for n in turn.notices]
    if turn.submitted and turn.reference:
        out += submitted(turn.reference, lang)
        return out
    if turn.details_done and turn.reference:
        t = translator(lang)
        return out + [Outgoing(t("Thank you. Your details were added to case {ref}; our staff can see them now.", ref=turn.reference))]
    prompt = turn.prompt
    if prompt.kind == "stopped":
        if turn.error:
            out.append(Outgoing(f"✗ {turn.error}"))
        out.append(Outgoing(prompt.text))
        return out
    if prompt.kind == "review":
        return out + review(prompt, lang, error=turn.error)
    return out + [Outgoing(question_text(prompt, lang, error=turn.error), keyboard(prompt, lang))]


def submitted(reference: str, lang: str) -> list[Outgoing]:
    """The receipt after submitting: reference, what happens next, how to reach us safely."""
    t = translator(lang)
    return [
        Outgoing(
            "\n\n".join(
                [
                    t("Thank you. Your case has been sent to our staff."),
                    t("Your case reference is {ref}. Keep it: quote it whenever you contact us about this case.", ref=reference),
                    t(
                        "What happens next: our staff review every case. They may ask you follow-up questions here, in this chat. "
                        "Reply to their message to answer, with text or files."
                    ),
                    t(
                        "Staying safe: if this account may be seen by someone else, delete this chat after noting the reference. "
                        "You can also reach us by email. Send /status to see your cases, /delete to withdraw one."
                    ),
                ]
            ),
            InlineKeyboardMarkup([[_button(t("Delete this conversation"), Press("po"))]]),
        )
    ]


def wipe_confirm(lang: str) -> Outgoing:
    """The question before wiping the chat (/wipe, or the button under the receipt)."""
    t = translator(lang)
    rows = [[_button(t("Yes, delete the messages"), Press("pw")), _button(t("No, keep them"), Press("pn"))]]
    text = t("Delete the messages of this conversation, yours and ours? Note your case reference first. "
             "Your cases stay with our staff; only this chat is cleared.")
    return Outgoing(text, InlineKeyboardMarkup(rows))


def wipe_report(deleted: int, refused: int, lang: str) -> str:
    """What a wipe did: how many messages were deleted, and how to clear those Telegram refused."""
    t = translator(lang)
    lines = [t.plural("{n} message was deleted.", "{n} messages were deleted.", deleted)]
    if refused:
        lines.append(t.plural(
            "{n} message could not be deleted: Telegram lets a bot delete messages only for 48 hours after they were sent.",
            "{n} messages could not be deleted: Telegram lets a bot delete messages only for 48 hours after they were sent.",
            refused,
        ))
        lines.append(t("To remove the rest, open this chat's menu (⋮ or the bot's name) and choose “Clear history” or “Delete chat”."))
    lines.append(t("This message can be deleted the same way."))
    return "\n\n".join(lines)


def welcome(lang: str) -> Outgoing:
    t = translator(lang)
    return Outgoing(
        "\n\n".join(
            [
                t("Welcome. This bot takes a case about human trafficking to our staff, who may recommend targeted sanctions."),
                t(
                    "Your answers are saved after each one, encrypted, and you can stop and continue later with /resume. "
                    "Never send the names of victims or witnesses."
                ),
                t("Language: {name}. Send /language to change it, /help for all commands.", name=languages.get(lang).native_name),
            ]
        )
    )


def help_text(lang: str) -> Outgoing:
    t = translator(lang)
    lines = [
        t("Commands:"),
        "/start — " + t("begin a case, or return to the one in progress"),
        "/resume — " + t("show the current question again"),
        "/review — " + t("see all your answers and submit"),
        "/details — " + t("add the details, one short round (a section) at a time"),
        "/wipe — " + t("delete the messages of this conversation"),
        "/status — " + t("your cases and their status"),
        "/cancel — " + t("delete the case you have not submitted yet"),
        "/language — " + t("change the language"),
        "/delete — " + t("withdraw a case you submitted"),
        "/help — " + t("this list"),
        "",
        t("You can send files (documents, photos, videos, audio) at any point: they are kept as evidence with your case."),
    ]
    return Outgoing("\n".join(lines))


def language_menu(lang: str) -> Outgoing:
    t = translator(lang)
    rows = [[_button(language.native_name, Press("l", "", language.code))] for language in languages.LANGUAGES]
    return Outgoing(t("Choose your language."), InlineKeyboardMarkup(rows))


def cancel_confirm(lang: str) -> Outgoing:
    t = translator(lang)
    rows = [[_button(t("Yes, delete my draft"), Press("x", "", "yes")), _button(t("No, keep it"), Press("x", "", "no"))]]
    return Outgoing(t("Delete the case you are writing, with all its answers and files? This cannot be undone."), InlineKeyboardMarkup(rows))


def status_list(statuses: list[CaseStatus], lang: str) -> Outgoing:
    t = translator(lang)
    names = {
        "draft": t("draft, not submitted"),
        "submitted": t("submitted, waiting for review"),
        "in_review": t("being reviewed"),
        "needs_info": t("our staff asked you a question"),
        "accepted": t("accepted"),
        "declined": t("declined"),
        "escalated": t("escalated"),
        "withdrawn": t("withdrawn"),
        "closed": t("closed"),
    }
    if not statuses:
        return Outgoing(t("You have no cases yet. Send /start to begin one."))
    lines = [t("Your cases:")]
    lines += [f"• {s.reference}: {names.get(s.status, s.status)}" for s in statuses]
    return Outgoing("\n".join(lines))


def withdraw_menu(references: list[str], lang: str) -> Outgoing:
    t = translator(lang)
    if not references:
        return Outgoing(t("You have no submitted case to withdraw."))
    rows = [[_button(t("Withdraw {ref}", ref=ref), Press("w", "", ref))] for ref in references]
    return Outgoing(t("Which case do you want to withdraw?"), InlineKeyboardMarkup(rows))


def withdraw_confirm(reference: str, lang: str) -> Outgoing:
    t = translator(lang)
    rows = [[_button(t("Yes, withdraw {ref}", ref=reference), Press("wy", "", reference)), _button(t("No"), Press("wn"))]]
    return Outgoing(t("Withdraw case {ref}? Our staff will stop working on it.", ref=reference), InlineKeyboardMarkup(rows))


def followup(reference: str, text: str, lang: str) -> str:
    """A staff question about a case, as delivered to the submitter."""
    t = translator(lang)
    return "\n\n".join(
        [
            t("Our staff have a question about your case {ref}:", ref=reference),
            text,
            t("Reply to this message to answer (text or files)."),
        ]
    )


def staff_notice(reference: str, text: str, lang: str) -> str:
    """Any other message from staff about a case."""
    t = translator(lang)
    return "\n\n".join([t("About your case {ref}:", ref=reference), text])


def chosen_suffix(original: str, chosen: str) -> str:
    """An answered question's message after the press: its text and the answer, no buttons."""
    return f"{original}\n\n→ {chosen}"[:4096]


SORRY = "Something went wrong on our side. Your answers so far are saved. Please send that again."


def sorry(lang: str) -> str:
    return translator(lang)(SORRY)
