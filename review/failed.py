"""Failed items for admins: inbox messages that could not be processed and outbox messages that
could not be delivered, listed without content and put back for another attempt."""

from __future__ import annotations

import logging

from review.base import ServiceBase, refusals_audited
from review.model import AccessRefused, ActionRefused, Actor, CaseNotFound, FailedItems, ReviewError
from storage.repositories import NotFound
from storage.review import ReviewQueries

log = logging.getLogger(__name__)


class FailedQueue(ServiceBase):
    """Admin views of failed inbox and outbox rows, and retrying them."""

    @refusals_audited
    async def failed_items(self, actor: Actor) -> FailedItems:
        """Inbox messages that failed processing and outbox messages that could not be delivered.
        Shows ids, times, sizes and error reasons — never the content."""
        if not actor.is_admin:
            raise AccessRefused("admins only", action="failed.list")
        async with self.store.read() as uow:
            inbox = await uow.inbox.list(status="failed")
            outbox = await uow.outbox.list(status="failed")
            refs: dict[str, str] = {}
            for row in outbox:
                if row.case_id and row.case_id not in refs:
                    try:
                        refs[row.case_id] = (await uow.cases.get(row.case_id)).reference
                    except LookupError:
                        refs[row.case_id] = "(destroyed)"
        return FailedItems(
            inbox=[{"id": r.id, "received_at": r.received_at.isoformat(), "size": r.size, "attempts": r.attempts, "error": r.error}
                   for r in inbox],
            outbox=[{"id": r.id, "channel": r.channel, "kind": r.kind, "case": refs.get(r.case_id or ""), "attempts": r.attempts,
                     "error": r.last_error, "created_at": r.created_at.isoformat()} for r in outbox],
        )

    @refusals_audited
    async def retry(self, actor: Actor, kind: str, item_id: str) -> None:
        """Put a failed inbox or outbox row back to be processed again."""
        if not actor.is_admin:
            raise AccessRefused("admins only", action="failed.retry")
        async with self.store.write() as uow:
            now = self.clock()
            if kind == "outbox":
                brief = await ReviewQueries(uow.session).outbox_brief(item_id)
                if brief is None or brief[0] != "failed":
                    raise CaseNotFound("no failed outbox row with that id")
                await uow.outbox.requeue(item_id, now=now)
                case_id = brief[1]
            elif kind == "inbox":
                try:
                    row = await uow.inbox.get(item_id)
                except NotFound:
                    raise CaseNotFound("no failed inbox row with that id") from None
                if row.status != "failed":
                    raise ActionRefused("that inbox row has not failed")
                await uow.inbox.requeue(item_id, now=now)
                case_id = row.case_id
            else:
                raise ReviewError("retry inbox or outbox")
            await uow.audit.record(action=f"{kind}.retried", now=now, actor_kind="staff", actor_id=actor.staff_id, case_id=case_id,
                                   detail={kind: item_id}, remote=actor.remote)
        log.info("%s row %s requeued by staff %s", kind, item_id, actor.staff_id)
