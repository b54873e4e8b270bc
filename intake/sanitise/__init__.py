"""Cleaned copies of evidence files: the same content without the metadata that can identify a person.

`clean_copy` is pure and synchronous (run it in a worker thread from async code). It never modifies
its input and never raises on hostile input: anything it cannot clean comes back unchanged with
`changed=False` and `kind` "unsupported" or "unreadable". Logs carry the kind and an exception's type,
never a file's name or content.

What each kind loses and keeps is stated in the docstring of its module (images, pdf, office).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from intake.sanitise import images, office, pdf
from intake.sanitise.common import HOSTILE_INPUT_ERRORS, Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cleaned:
    """The copy to hand out: `removed` names the kinds of metadata dropped, never their values."""

    data: bytes
    changed: bool
    removed: list[str] = field(default_factory=list)
    kind: str = "unsupported"
    reason: str = ""  # why nothing was cleaned, when `changed` is False


_CLEANERS: dict[str, Callable[[bytes, str], tuple[bytes, list[str], str]]] = {
    "jpeg": images.clean,
    "png": images.clean,
    "webp": images.clean,
    "tiff": images.clean,
    "heic": images.clean,
    "pdf": pdf.clean,
    "ooxml": office.clean,
}

_HINTS: dict[str, str] = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "image/heif": "heic",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "ooxml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "ooxml",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "ooxml",
}
_SUFFIXES: dict[str, str] = {
    "jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "tif": "tiff", "tiff": "tiff",
    "heic": "heic", "heif": "heic", "pdf": "pdf", "docx": "ooxml", "xlsx": "ooxml", "pptx": "ooxml",
}  # fmt: skip


def detect(data: bytes, *, filename: str, sniffed_type: str | None) -> str | None:
    """The cleaner to use: from the bytes' signature first, else from the sniffed type or the file name."""
    image_kind = images.signature_kind(data)
    if image_kind is not None:
        return image_kind
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "ooxml"
    if sniffed_type is not None and sniffed_type.lower() in _HINTS:
        return _HINTS[sniffed_type.lower()]
    suffix = filename.rpartition(".")[2].lower() if "." in filename else ""
    return _SUFFIXES.get(suffix)


def clean_copy(data: bytes, *, filename: str, sniffed_type: str | None) -> Cleaned:
    """A copy of `data` without identifying metadata, or `data` itself (changed=False) when it cannot be cleaned."""
    cleaner_name = detect(data, filename=filename, sniffed_type=sniffed_type)
    if cleaner_name is None:
        return Cleaned(data=data, changed=False, removed=[], kind="unsupported", reason="type not supported")
    try:
        out, removed, kind = _CLEANERS[cleaner_name](data, cleaner_name)
    except Refused as refused:
        log.info("sanitise: %s refused (%s)", cleaner_name, refused.kind)
        return Cleaned(data=data, changed=False, removed=[], kind=refused.kind, reason=str(refused))
    except HOSTILE_INPUT_ERRORS as error:
        log.info("sanitise: %s unreadable (%s)", cleaner_name, type(error).__name__)
        return Cleaned(data=data, changed=False, removed=[], kind="unreadable", reason=f"could not be parsed as {cleaner_name}")
    return Cleaned(data=out, changed=out != data, removed=removed, kind=kind)


__all__ = ["Cleaned", "clean_copy", "detect"]
