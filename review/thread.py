"""A thread message as a reviewer reads it: the person's new words first, quoted text and copies
of our own messages (the emailed form, a follow-up) folded away. The split uses mail-parser-reply
(the same quote splitter the mail channel uses); copies of our own outgoing messages are found by
their text. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

QUOTE_LINE = re.compile(r"^\s*>")
MIN_OWN = 40  # an outgoing message shorter than this is not looked for inside a reply
LANGUAGES = ["en", "fr", "es", "de", "it", "pl", "sv", "nl", "cs", "ja", "da", "ko", "zh"]


@dataclass(frozen=True)
class Folded:
    """`new`: the person's own words; `folded`: what was folded away (quotes, our copies)."""

    new: str
    folded: str

    @property
    def folded_lines(self) -> int:
        return len([line for line in self.folded.splitlines() if line.strip()])


def _parser() -> EmailReplyParser:
    return EmailReplyParser(languages=LANGUAGES)


def fold(body: str, *, ours: list[str] | None = None, email: bool = True) -> Folded:
    """Split `body` into the new words and the folded rest. For email, the quote splitter finds
    the latest reply (headers like "On … wrote:", `>` blocks, signatures); for every channel, any
    copy of one of `ours` (our outgoing messages) inside the new words is folded too, and so are
    remaining `>`-quoted lines."""
    text = body.replace("\r\n", "\n")
    new, rest = text, ""
    if email and text.strip():
        try:
            latest = _parser().parse_reply(text)
        except Exception:  # noqa: BLE001 - an odd body is shown whole rather than not at all
            latest = None
        if latest and latest.strip() and latest.strip() != text.strip():
            head = text.find(latest.strip()[:80])
            if head >= 0:
                new, rest = latest.strip(), text[head + len(latest.strip()):]
            else:
                new, rest = latest.strip(), text
    folded: list[str] = [rest.strip()] if rest.strip() else []
    for own in ours or []:
        own = own.strip()
        if len(own) >= MIN_OWN and own in new:
            new = new.replace(own, "")
            folded.append(own)
    kept: list[str] = []
    quoted: list[str] = []
    for line in new.splitlines():
        (quoted if QUOTE_LINE.match(line) else kept).append(line)
    if quoted:
        folded.append("\n".join(quoted))
    return Folded(new="\n".join(kept).strip(), folded="\n\n".join(folded).strip())
