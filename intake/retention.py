"""Retention: what we keep, and for how long. Applied by `intake purge [--dry-run]` and once a day
inside `intake run`. Each run is one audit event with its counts (never content).

- An abandoned draft (untouched for `draft_days`) is deleted with everything in it; its owner is
  told once, `warn_days` before, on their channel. A draft answered after the warning starts over.
- A declined case, and a closed one, is shredded after its own number of days: the content's key
  is destroyed, a tombstone stays (reference, dates, channel, status, the audit trail).
- Processed inbox rows (whose content was destroyed when processed) are deleted after
  `inbox_days`; the content of delivered outbox messages is forgotten after `outbox_days`.
- A case on legal hold (admin) is exempt from all of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from intake import lifecycle
from intake.cases import CaseService
from intake.i18n import translator
from intake.settings import Settings
from storage.repositories import UnitOfWork
from storage.store import Store


@dataclass(frozen=True)
class Rules:
    draft_days: int = 30
    warn_days: int = 3
    declined_days: int = 180
    closed_days: int = 365
    inbox_days: int = 7
    outbox_days: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            settings.retention_draft_days, settings.retention_warn_days, settings.retention_declined_days,
            settings.retention_closed_days, settings.retention_inbox_days, settings.retention_outbox_days,
        )


@dataclass
class Report:
    drafts_warned: int = 0
    drafts_deleted: int = 0
    declined_shredded: int = 0
    closed_shredded: int = 0
    inbox_deleted: int = 0
    outbox_blanked: int = 0
    dry_run: bool = False

    def counts(self) -> dict[str, int | bool]:
        return asdict(self)


class _DryRun(Exception):
    pass


class Retention:
    def __init__(self, store: Store, cases: CaseService, rules: Rules) -> None:
        self.store = store
        self.cases = cases
        self.rules = rules
        self.clock = cases.clock

    async def purge(self, *, dry_run: bool = False) -> Report:
        """Apply the rules in one transaction; with `dry_run`, count what would happen and roll back."""
        report = Report(dry_run=dry_run)
        try:
            async with self.store.write() as uow:
                await self._apply(uow, report)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return report

    async def due(self) -> bool:
        """Whether a day has passed since the last run (for the daily pass inside `intake run`)."""
        async with self.store.read() as uow:
            last = await uow.audit.last(action="retention.purged")
        return last is None or last <= self.clock() - timedelta(days=1)

    async def daily(self) -> int:
        """One pass of the daily loop: purge if due; returns 0 (the loop then sleeps its interval)."""
        if await self.due():
            await self.purge()
        return 0

    async def _apply(self, uow: UnitOfWork, report: Report) -> None:
        now, r = self.clock(), self.rules
        await self._drafts(uow, report, now)
        for status, days, field in ((lifecycle.DECLINED, r.declined_days, "declined_shredded"), (lifecycle.CLOSED, r.closed_days, "closed_shredded")):
            for stub in await uow.cases.stubs(statuses=[status], idle_before=now - timedelta(days=days)):
                await uow.cases.shred(stub.id, now=now)
                await uow.audit.record(action="case.shredded", now=now, actor_kind="system", case_id=stub.id, detail={"rule": f"{status}_days", "days": days})
                setattr(report, field, getattr(report, field) + 1)
        report.inbox_deleted = await uow.inbox.purge_done(before=now - timedelta(days=r.inbox_days))
        report.outbox_blanked = await uow.outbox.blank_delivered(before=now - timedelta(days=r.outbox_days))
        await uow.audit.record(action="retention.purged", now=now, actor_kind="system", detail=report.counts())

    async def _drafts(self, uow: UnitOfWork, report: Report, now: datetime) -> None:
        r = self.rules
        warn_after = now - timedelta(days=max(r.draft_days - r.warn_days, 0))
        for stub in await uow.cases.stubs(statuses=[lifecycle.DRAFT], idle_before=warn_after):
            warned = stub.expiry_warned_at is not None and stub.expiry_warned_at >= stub.updated_at
            expired = stub.updated_at <= now - timedelta(days=r.draft_days)
            if warned and expired and stub.expiry_warned_at is not None and stub.expiry_warned_at <= now - timedelta(days=r.warn_days):
                await self.cases.discard_in(uow, stub.submitter_id, await uow.cases.get(stub.id, lock=True), reason="retention")
                report.drafts_deleted += 1
            elif not warned:
                t = translator(stub.lang)
                text = t(
                    "Your unfinished case {ref} has not been changed for a while. To protect you, we delete unfinished cases "
                    "after {days} days without changes: it will be deleted in {warn} days unless you continue it.",
                    ref=stub.reference, days=r.draft_days, warn=r.warn_days,
                )
                await uow.outbox.enqueue(
                    channel=stub.channel, kind="notice", payload={"text": text, "reference": stub.reference, "subject": t("Your unfinished case will be deleted")},
                    now=now, case_id=stub.id, submitter_id=stub.submitter_id,
                )
                await uow.cases.mark_warned(stub.id, now=now)
                await uow.audit.record(action="draft.expiry_warned", now=now, actor_kind="system", case_id=stub.id)
                report.drafts_warned += 1
