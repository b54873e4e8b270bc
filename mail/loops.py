"""Mail loop prevention (RFC 3834) and the intake address's recipient rules."""

from __future__ import annotations

from mail.parse import ParsedMessage

AUTOMATED_LOCALPARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces"}


def split_address(address: str) -> tuple[str, str]:
    """(local part, domain), both lower-case; the domain is '' when there is none."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return (local or domain).lower(), (domain if local else "").lower()


def base_local(local: str) -> str:
    """The local part without its `+tag`."""
    return local.split("+", 1)[0]


def is_intake_address(address: str, intake: str) -> bool:
    """Whether `address` is the intake address or one of its `+tag` sub-addresses (case-insensitive)."""
    local, domain = split_address(address)
    ours_local, ours_domain = split_address(intake)
    return bool(local) and domain == ours_domain and base_local(local) == base_local(ours_local)


def no_autoreply_reason(message: ParsedMessage, *, mail_from: str | None, intake: str) -> str | None:
    """Why this message must get no automatic reply (RFC 3834 and common practice), or None."""
    if not mail_from or mail_from.strip() in ("", "<>"):
        return "null return path"
    h = message.headers
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto-submitted"
    if h.get("precedence", "").strip().lower() in ("bulk", "list", "junk"):
        return "precedence"
    if "list-id" in h or "list-unsubscribe" in h or "list-post" in h:
        return "list mail"
    if "x-auto-response-suppress" in h or "x-autoreply" in h or "x-autorespond" in h:
        return "auto-response suppressed"
    if message.content_type == "multipart/report":
        return "delivery report"
    for address in (mail_from, message.from_addr or ""):
        if not address:
            continue
        local = base_local(split_address(address)[0])
        if local in AUTOMATED_LOCALPARTS or local.startswith("owner-") or local.endswith("-request"):
            return "automated sender"
        if is_intake_address(address, intake):
            return "our own address"
    if message.from_addr is None:
        return "no sender address"
    return None
