"""The audit trail as a reviewer reads it: the submitter's answering collapsed into one line per
session ("42 answers by Telegram, 10:02–10:31"), every staff action on a line of its own, and a
filter by kind (staff, submitter, system). Pure: no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

SESSION_GAP = timedelta(minutes=30)  # a longer pause starts a new answering session
KINDS = ("staff", "submitter", "system")
ANSWERING = {"draft.answered"}


def kind_of(actor_kind: str) -> str:
    """The filter kind of an audit actor: staff (and the CLI operator), submitter, or system."""
    if actor_kind in ("staff", "cli"):
        return "staff"
    return "submitter" if actor_kind == "submitter" else "system"


def _hm(at: datetime) -> str:
    return at.strftime("%H:%M")


def lines(events: list[dict[str, Any]], *, channel: str, kind: str | None = None) -> list[dict[str, Any]]:
    """One line per staff/system event and one per answering session, oldest first, optionally
    only one `kind`. Each line: at (ISO), kind, action, text, actor, remote, detail, count."""
    out: list[dict[str, Any]] = []
    session: dict[str, Any] | None = None
    for e in events:
        at = datetime.fromisoformat(e["at"])
        k = kind_of(e["actor_kind"])
        if e["action"] in ANSWERING:
            if session is not None and at - session["_last"] <= SESSION_GAP:
                session["count"] += 1
                session["_last"] = at
            else:
                session = {"at": e["at"], "kind": k, "action": "draft.answered", "count": 1, "_first": at, "_last": at,
                           "actor": None, "remote": None, "detail": None}
                out.append(session)
            continue
        out.append({"at": e["at"], "kind": k, "action": e["action"], "count": 1, "actor": e.get("actor"),
                    "remote": e.get("remote"), "detail": e.get("detail"), "actor_kind": e["actor_kind"]})
    for line in out:
        if line["action"] == "draft.answered":
            n, first, last = line["count"], line.pop("_first"), line.pop("_last")
            span = _hm(first) if _hm(first) == _hm(last) else f"{_hm(first)}–{_hm(last)}"
            line["text"] = f"{n} answer{'' if n == 1 else 's'} by {channel.capitalize()}, {first:%Y-%m-%d} {span}"
        else:
            line["text"] = line["action"]
    if kind in KINDS:
        out = [line for line in out if line["kind"] == kind]
    return out
