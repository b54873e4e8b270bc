"""Robust MIME parsing: a raw message in, headers, body text and attachments out — never an exception.

Python's `email` package under `policy.default` parses headers lazily and raises bare exceptions
on some malformed ones; when that happens the message is parsed again under `compat32` and the
failure is recorded as a defect. Text is decoded with the declared charset, falling back to UTF-8
and then Windows-1252 with replacement, so decoding never throws.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses

import filetype
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

from mail.text import mark_blockquotes, quote_marked, unflow

MAX_PARTS = 500  # a message with more parts than this is read up to here (defect recorded)
MAX_DEPTH = 20
REPLY_SCAN = 256 * 1024  # characters of a body the reply parser reads (a reply is at the top)
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "cs", "da", "ja", "ko", "zh"]
EXECUTABLE_TYPES = {
    "application/x-msdownload", "application/x-dosexec", "application/vnd.microsoft.portable-executable",
    "application/x-executable", "application/x-elf", "application/x-mach-binary", "application/x-sharedlib",
    "application/x-sh", "application/x-shellscript", "application/java-archive", "application/x-msi",
    "application/vnd.android.package-archive", "application/x-bat",
}
EXECUTABLE_EXTENSIONS = {
    ".exe", ".dll", ".com", ".bat", ".cmd", ".scr", ".pif", ".cpl", ".msi", ".msp", ".js", ".jse", ".vbs",
    ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".jar", ".sh", ".bash", ".app", ".apk", ".lnk", ".hta", ".reg",
    ".elf", ".bin", ".run", ".dmg", ".pkg", ".deb", ".rpm",
}
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")


@dataclass
class Part:
    """One attachment, inline image or attached message, ready to store as evidence."""

    filename: str
    data: bytes
    declared_type: str
    sniffed_type: str | None
    executable: bool
    inline: bool
    sha256: str


@dataclass
class ParsedMessage:
    """What the channel needs of one message. `defects` names problems found (never content)."""

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_addr: str | None = None
    subject: str = ""
    lang: str | None = None
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → value, for loop checks
    auth_results: list[str] = field(default_factory=list)  # every Authentication-Results value, topmost first
    text: str = ""  # the whole body as text (HTML converted)
    reply: str = ""  # the newest part of the body, quoted earlier replies stripped
    attachments: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    worker_peak_kb: int | None = None  # parsed in the bounded worker process: its peak RSS (KiB)


LOOP_HEADERS = ("auto-submitted", "precedence", "list-id", "list-unsubscribe", "list-post", "x-auto-response-suppress",
                "return-path", "x-autoreply", "x-autorespond", "x-loop")
MSGID_RE = re.compile(r"<[^<>\s]{1,500}>")
ADDR_RE = re.compile(r"^[^\s<>@,;:\"()\[\]]{1,64}@[^\s<>@,;:\"()\[\]]{1,255}$")


def message_ids(value: str) -> list[str]:
    """Every `<…>` Message-ID in a header value, in order."""
    return MSGID_RE.findall(value or "")


TRACE_HEADERS = ("received", "return-path", "delivered-to", "x-original-to", "x-received", "authentication-results",
                 "received-spf", "arc-seal", "arc-message-signature", "arc-authentication-results", "x-spam-")


def content_hash(raw: bytes) -> str:
    """SHA-256 of what the author sent: the body and every header except the trace headers that
    relays add on the way (Received, Return-Path, Authentication-Results …), line ends normalised.
    The same message delivered twice (by another hop, a retry) hashes the same."""
    data = raw.replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        skipping = name.startswith(TRACE_HEADERS)
        if not skipping:
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + sep + body).hexdigest()


def dedup_key(raw: bytes) -> str:
    """`mid:<Message-ID>|sha256:<content hash>` (or `sha256:<content hash>` without a Message-ID):
    the same message twice is one key, a different message reusing a Message-ID is another."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        ids = message_ids(str(headers.get("Message-ID", "") or ""))
    except Exception:  # noqa: BLE001 - any header problem: the content hash alone
        ids = []
    digest = "sha256:" + content_hash(raw)
    return f"mid:{ids[0]}|{digest}" if ids else digest


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse `raw` under `policy.default`; if that raises, again under `compat32` (defect recorded)."""
    try:
        return _extract(BytesParser(policy=policy.default).parsebytes(raw))
    except Exception as exc:  # noqa: BLE001 - the stdlib raises bare exceptions on malformed headers
        out = _extract(BytesParser(policy=policy.compat32).parsebytes(raw))
        out.defects.insert(0, f"policy.default failed ({type(exc).__name__}); parsed with compat32")
        return out


def header_text(msg: Message, name: str) -> str:
    """A header as text: encoded words decoded, undecodable bytes replaced; '' when absent."""
    value = msg.get(name)
    if value is None:
        return ""
    text = str(value)
    try:
        text = str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001 - a malformed encoded word: keep the raw text
        text = str(value)
    return text.encode("utf-8", "replace").decode("utf-8").replace("\r", "").replace("\n", " ").strip()


def _extract(msg: Message) -> ParsedMessage:
    out = ParsedMessage()
    out.defects.extend(type(d).__name__ for d in getattr(msg, "defects", []))
    ids = message_ids(header_text(msg, "Message-ID"))
    out.message_id = ids[0] if ids else None
    out.in_reply_to = message_ids(header_text(msg, "In-Reply-To"))
    out.references = message_ids(header_text(msg, "References"))
    out.subject = header_text(msg, "Subject")[:998]
    addresses = [a.strip() for _, a in getaddresses([header_text(msg, "From")]) if ADDR_RE.match(a.strip())]
    out.from_addr = addresses[0].strip().lower() if addresses else None
    lang = header_text(msg, "Content-Language") or header_text(msg, "Accept-Language")
    out.lang = (re.split(r"[,;\s]", lang)[0][:16] or None) if lang else None
    out.content_type = msg.get_content_type()
    for name in LOOP_HEADERS:
        if name in msg:
            out.headers[name] = header_text(msg, name)
    out.auth_results = [" ".join(str(v).split())[:2000] for v in (msg.get_all("Authentication-Results") or [])[:20]]
    plain: list[str] = []
    html: list[str] = []
    _walk(msg, out, plain, html, depth=0)
    if plain:
        out.text = "\n".join(plain)
    elif html:
        out.text = "\n".join(html)
    out.text = out.text.replace("\r\n", "\n").replace("\r", "\n")
    out.reply = strip_quoted(out.text)
    return out


def _walk(part: Message, out: ParsedMessage, plain: list[str], html: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        out.defects.append("nesting too deep")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or (part.get_content_maintype() == "message" and ctype != "message/delivery-status"):
        _attach(part, out, inline=False, data=_message_bytes(part))
        return
    if part.is_multipart():
        children = part.get_payload()
        if not isinstance(children, list):  # pragma: no cover - the parser gives a list for multiparts
            return
        for child in children:
            if len(out.attachments) + len(plain) + len(html) >= MAX_PARTS:
                out.defects.append("too many parts")
                return
            if isinstance(child, Message):
                _walk(child, out, plain, html, depth + 1)
        return
    try:
        disposition = part.get_content_disposition()
    except Exception:  # noqa: BLE001
        disposition = None
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_text(part)
        if ctype == "text/plain":
            if str(part.get_param("format") or "").lower() == "flowed":
                text = unflow(text, delsp=str(part.get_param("delsp") or "").lower() == "yes")
            plain.append(text)
        else:
            html.append(html_to_text(text))
        return
    _attach(part, out, inline=disposition == "inline")


def _message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(inner, Message):
        try:
            return inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001 - a malformed inner message: keep what the parser can give
            inner = inner.get_payload()
    try:
        return str(inner).encode("utf-8", "surrogateescape")
    except Exception:  # noqa: BLE001
        return str(inner).encode("utf-8", "replace")


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed RFC 2231 parameter
        name = None
    if name is None:
        return None
    try:
        return str(make_header(decode_header(str(name))))
    except Exception:  # noqa: BLE001
        return str(name)


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - bad transfer encoding: keep the undecoded payload
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def decode_text(part: Message) -> str:
    """A text part as str: declared charset, else UTF-8, else Windows-1252; never raises."""
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except (LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def html_to_text(html: str) -> str:
    """HTML to plain text (inscriptis); '' for HTML it cannot read."""
    try:
        return quote_marked(str(get_text(mark_blockquotes(html))))
    except Exception:  # noqa: BLE001 - inscriptis on hostile markup
        return ""


def strip_quoted(text: str) -> str:
    """The newest reply in `text`: quoted earlier messages and their "On … wrote:" lines removed.
    Only the first `REPLY_SCAN` characters are read: the reply parser's regular expressions hold
    the GIL for seconds on a body of megabytes (a 24 MB body stalled the event loop for 19 s)."""
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text=text[:REPLY_SCAN])
    except Exception:  # noqa: BLE001 - the reply parser on odd input: keep everything
        reply = None
    return reply if reply else text


def sanitise_filename(name: str | None, content_type: str, index: int) -> str:
    """A safe file name: no path, no control characters, at most 120 characters, never empty."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    base = re.sub(r"[^\w.\- ()\[\]]", "_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 120 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:120]
    if not base:
        ext = mimetypes.guess_extension(content_type) or ".bin"
        base = f"attachment-{index}{ext}"
    return base


def sniff(data: bytes) -> str | None:
    """The content type guessed from the bytes (filetype), or None."""
    try:
        kind = filetype.guess(data[:8192])
    except Exception:  # noqa: BLE001
        return None
    return str(kind.mime) if kind is not None else None


def is_executable(filename: str, sniffed: str | None, declared: str, data: bytes) -> bool:
    """Whether the file looks runnable: by sniffed or declared type, magic bytes or extension."""
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    return (
        (sniffed or "") in EXECUTABLE_TYPES
        or declared in EXECUTABLE_TYPES
        or data.startswith(EXECUTABLE_MAGIC)
        or ext in EXECUTABLE_EXTENSIONS
    )


def _attach(part: Message, out: ParsedMessage, *, inline: bool, data: bytes | None = None) -> None:
    declared = part.get_content_type()
    if data is None:
        data = _payload_bytes(part)
    name = _filename(part)
    if name is None and declared == "message/rfc822":
        name = "attached-message.eml"
    filename = sanitise_filename(name, declared, len(out.attachments) + 1)
    sniffed = sniff(data)
    out.attachments.append(
        Part(
            filename=filename,
            data=data,
            declared_type=declared[:127],
            sniffed_type=sniffed,
            executable=is_executable(filename, sniffed, declared, data),
            inline=inline,
            sha256=hashlib.sha256(data).hexdigest(),
        )
    )
