"""`Authentication-Results` (RFC 8601) as our own receiving MTA wrote them.

A sender can put any header in a message, `Authentication-Results` included, so only headers
whose authserv-id is the one named by `INTAKE_MAIL_TRUSTED_AUTHSERV_ID` (our MTA's) are read;
every other one is ignored. Of those, the topmost counts: RFC 8601 §5 has the MTA add its own on
top (and remove look-alikes arriving from outside). Parsing is the `authres` library's.
Without the setting nothing is read: no MTA of ours has vouched for anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import authres

METHODS = ("dmarc", "dkim", "spf")
ORDER = ("pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy")


@dataclass(frozen=True)
class AuthResults:
    """The results our MTA recorded for one message (None: that method was not reported)."""

    authserv_id: str
    dmarc: str | None = None
    dkim: str | None = None
    spf: str | None = None

    @property
    def dmarc_failed(self) -> bool:
        return self.dmarc == "fail"

    def as_detail(self) -> dict[str, str]:
        """For the audit and the case page: method → result (no addresses, no domains)."""
        out = {"authserv_id": self.authserv_id}
        for method in METHODS:
            value = getattr(self, method)
            if value is not None:
                out[method] = value
        return out


def _best(results: list[str]) -> str | None:
    """One result per method: several DKIM signatures count as passed when one passes."""
    if not results:
        return None
    return min(results, key=lambda r: ORDER.index(r) if r in ORDER else len(ORDER))


def read(values: list[str], trusted: str | None) -> AuthResults | None:
    """The results in the topmost `Authentication-Results` header whose authserv-id is `trusted`
    (compared without case), or None (no setting, no such header, or one that does not parse)."""
    if not trusted:
        return None
    wanted = trusted.strip().lower()
    for value in values:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # noqa: BLE001, S112 - a malformed header (maybe forged): not ours
            continue
        if str(header.authserv_id or "").strip().lower() != wanted:
            continue
        by_method: dict[str, list[str]] = {}
        for result in header.results:
            method = str(getattr(result, "method", "") or "").lower()
            if method in METHODS:
                by_method.setdefault(method, []).append(str(getattr(result, "result", "") or "").lower())
        return AuthResults(wanted, **{m: _best(by_method.get(m, [])) for m in METHODS})
    return None
