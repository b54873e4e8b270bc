"""Files sent in a chat: which attachment a message carries, and downloading it through the Bot API."""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype
from telegram import Bot, Message

# the public Bot API hands out files up to 20 MB; a local Bot API server (--local) has no such limit
DOWNLOAD_LIMIT = 20 * 1024 * 1024

EXECUTABLE_TYPES = {
    "application/x-executable", "application/x-msdownload", "application/x-mach-binary", "application/x-elf",
    "application/x-sharedlib", "application/vnd.microsoft.portable-executable", "application/x-dosexec",
}
EXECUTABLE_SUFFIXES = (".exe", ".dll", ".scr", ".bat", ".cmd", ".com", ".msi", ".ps1", ".vbs", ".js", ".jar", ".apk", ".sh", ".app", ".elf")


@dataclass(frozen=True)
class Incoming:
    """The file a message carries, as Telegram describes it (nothing downloaded yet)."""

    file_id: str
    unique_id: str
    filename: str
    content_type: str | None
    size: int | None


def attachment_of(message: Message) -> Incoming | None:
    """The document, photo (largest size), video, audio, voice or video note in a message."""
    if message.document:
        d = message.document
        return Incoming(d.file_id, d.file_unique_id, d.file_name or f"document-{d.file_unique_id}", d.mime_type, d.file_size)
    if message.photo:
        p = message.photo[-1]
        return Incoming(p.file_id, p.file_unique_id, f"photo-{p.file_unique_id}.jpg", "image/jpeg", p.file_size)
    if message.video:
        v = message.video
        return Incoming(v.file_id, v.file_unique_id, v.file_name or f"video-{v.file_unique_id}.mp4", v.mime_type, v.file_size)
    if message.audio:
        a = message.audio
        return Incoming(a.file_id, a.file_unique_id, a.file_name or f"audio-{a.file_unique_id}", a.mime_type, a.file_size)
    if message.voice:
        vo = message.voice
        return Incoming(vo.file_id, vo.file_unique_id, f"voice-{vo.file_unique_id}.ogg", vo.mime_type, vo.file_size)
    if message.video_note:
        n = message.video_note
        return Incoming(n.file_id, n.file_unique_id, f"video-note-{n.file_unique_id}.mp4", "video/mp4", n.file_size)
    return None


def too_big(incoming: Incoming, *, local_mode: bool) -> bool:
    """Whether the Bot API will refuse to hand this file out (only without a local server)."""
    return not local_mode and incoming.size is not None and incoming.size > DOWNLOAD_LIMIT


async def download(bot: Bot, incoming: Incoming) -> bytes:
    """The file's bytes (from the Bot API's file URL, or the local path in local mode)."""
    file = await bot.get_file(incoming.file_id)
    return bytes(await file.download_as_bytearray())


def sniff(data: bytes, filename: str) -> tuple[str | None, bool]:
    """The type the content really has (from its magic bytes) and whether it looks executable."""
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    executable = (mime in EXECUTABLE_TYPES) or filename.lower().endswith(EXECUTABLE_SUFFIXES) or data[:2] == b"MZ" or data[:4] == b"\x7fELF"
    return mime, executable


def safe_filename(name: str) -> str:
    """A file name safe to store and show: no path, no control or direction-override characters,
    no quotes, at most 120 characters, never empty (the same rules as email's attachments)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    base = re.sub(r"[^\w.\- ()\[\]]", "_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 120 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:120]
    return base or "file"
