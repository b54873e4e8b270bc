"""The dossier as Markdown: submitted text kept literal (no emphasis, links, raw HTML or lists)."""

from __future__ import annotations

import re
from typing import Any

from casework.dossier.model import Block, Document

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|!~])")
_MD_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Submitted text as literal Markdown: no emphasis, links, raw HTML or list markers."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_ORDERED.sub(r"\1\\\2", _MD_BULLET.sub(r"\1\\\2", text))


def cell(text: Any) -> str:
    """Text on one line inside a table row (no block markers to escape)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text if text is not None else "").split()))


def _value(value: str, indent: str) -> str:
    lines = [md_escape(line) for line in value.splitlines()] or [""]
    return ("\\\n" + indent).join(lines)


def _block(block: Block) -> list[str]:
    out = [f"### {md_escape(block.title)}", ""] if block.title else []
    if block.kind == "p":
        out.append(_value(block.text, ""))
    elif block.kind == "facts":
        out += [f"- **{md_escape(k)}:** {_value(val, '  ')}" for k, val in block.facts] or ["Not provided."]
    elif block.kind == "list":
        out += [f"- {_value(item, '  ')}" for item in block.items]
    else:
        out += ["| " + " | ".join(cell(h) for h in block.headers) + " |", "|" + " --- |" * len(block.headers)]
        out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in block.rows] or ["| " + " | ".join("-" for _ in block.headers) + " |"]
    return [*out, ""]


def render(doc: Document) -> str:
    out = [f"# {md_escape(doc.title)}", "", f"*{md_escape(doc.subtitle)}*", "", "| | |", "| --- | --- |"]
    out += [f"| {cell(k)} | {cell(val)} |" for k, val in doc.facts] + ["", f"> {md_escape(doc.notice)}", ""]
    for n, section in enumerate(doc.sections, 1):
        out += [f"## {n}. {md_escape(section.title)}", ""]
        for block in section.blocks:
            out += _block(block)
    return "\n".join(out)
