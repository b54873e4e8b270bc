"""Plain text as mail clients send it: format=flowed (RFC 3676) joined back into paragraphs, and
HTML quotes (`<blockquote>`) turned into `>` quoted lines, so the form reader sees one shape."""

from __future__ import annotations

import re

QUOTE_MARKS_RE = re.compile(r"^>+")
BLOCKQUOTE_OPEN_RE = re.compile(r"<blockquote\b[^>]*>", re.IGNORECASE)
BLOCKQUOTE_CLOSE_RE = re.compile(r"</blockquote\s*>", re.IGNORECASE)
OPEN, CLOSE = "QQQINTAKEQUOTEOPENQQQ", "QQQINTAKEQUOTECLOSEQQQ"


def unflow(text: str, *, delsp: bool = False) -> str:
    """RFC 3676: a line ending in a space continues on the next line of the same quote depth
    (with DelSp=yes the space itself is removed); space-stuffing is undone; `-- ` stays a line."""
    out: list[tuple[int, str]] = []
    open_para = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        marks = QUOTE_MARKS_RE.match(raw)
        depth = len(marks.group(0)) if marks else 0
        line = raw[depth:]
        if line.startswith(" "):
            line = line[1:]  # space-stuffing (or the space after the quote marks)
        flowed = line.endswith(" ") and line != "-- "
        if flowed and delsp:
            line = line[:-1]
        if open_para and out and out[-1][0] == depth:
            out[-1] = (depth, out[-1][1] + line)
        else:
            out.append((depth, line))
        open_para = flowed
    return "\n".join(("> " * d if d else "") + (s.rstrip(" ") if not s == "-- " else s) for d, s in out)


def mark_blockquotes(html: str) -> str:
    """Put markers around `<blockquote>` content before the HTML becomes text (see `quote_marked`)."""
    return BLOCKQUOTE_CLOSE_RE.sub(f"</blockquote><p>{CLOSE}</p>", BLOCKQUOTE_OPEN_RE.sub(lambda m: f"<p>{OPEN}</p>{m.group(0)}", html))


def quote_marked(text: str) -> str:
    """The text of marked HTML with every line inside a blockquote prefixed by `>` (per depth)."""
    depth = 0
    out: list[str] = []
    for line in text.split("\n"):
        opens, closes = line.count(OPEN), line.count(CLOSE)
        rest = line.replace(OPEN, "").replace(CLOSE, "").strip()
        if rest:
            out.append(("> " * depth if depth else "") + rest)
        elif not opens and not closes:
            out.append("> " * depth if depth else "")
        depth = max(0, depth + opens - closes)
    return "\n".join(out)
