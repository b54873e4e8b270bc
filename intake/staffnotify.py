"""Email notices to one staff member who opted in (staff.notify_email): a case assigned to them,
a submitter's reply on a case assigned to them. The notice is an outbox row on the `staff_email`
channel whose payload holds the address, the kind and the case reference — never case content;
the staff email sender builds the console link from the reference."""

from __future__ import annotations

from datetime import datetime

from intake.channels import Channel
from storage.repositories import NotFound, UnitOfWork

CHANNEL = Channel.STAFF_EMAIL
KIND = "staff_notice"
KINDS = ("assigned", "reply")


async def notify_staff(uow: UnitOfWork, *, staff_id: str, kind: str, reference: str, case_id: str | None, now: datetime) -> str | None:
    """Queue a notice of `kind` (assigned | reply) about `reference` for `staff_id`, in the
    caller's transaction, if they are active and opted in. Returns the outbox id, or None."""
    if kind not in KINDS:
        raise ValueError(f"unknown staff notice kind {kind!r}")
    try:
        staff = await uow.staff.get(staff_id)
    except NotFound:
        return None
    if not (staff.active and staff.notify_email):
        return None
    return await uow.outbox.enqueue(channel=CHANNEL, kind=KIND, case_id=case_id, now=now,
                                    payload={"to": staff.email, "kind": kind, "reference": reference})
