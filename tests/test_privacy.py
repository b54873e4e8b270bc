"""Deletion that is real: withdrawal shreds a case (checked as an adversary with every master key
would), the inbox keeps nothing readable once processed, and retention on a clock moved forward."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from intake import engine, lifecycle
from intake.app import App
from intake.inbound import Inbound, Intent
from intake.settings import Settings
from storage.crypto import CryptoError
from storage.models import Attachment, AuditEvent, Case, DataKeyRow, Inbox, Message, Outbox
from tests.blob_support import stored_blobs
from tests.support import FixedClock, add_file, answer_for, give, reply
from tests.test_pipeline import CHANNEL, LineDecoder, arrive, drain


async def submitted_case(app: App, who: str) -> str:
    turn = await app.cases.resume("telegram", who)
    while turn.prompt.kind != "review":
        turn = await app.cases.act("telegram", who, answer_for(turn.prompt))
    turn = await app.cases.act("telegram", who, engine.Command("submit"))
    assert turn.submitted and turn.reference
    return turn.reference


async def decryptable(app: App, case_id: str, blob_dir: Path, blob_refs: list[str]) -> dict[str, int]:
    """What an adversary holding every master key could still read of the case."""
    counts = {"case": 0, "messages": 0, "attachments": 0, "outbox": 0, "inbox": 0, "blobs": 0}
    async with app.store.db.read() as s:
        case = (await s.scalars(select(Case).where(Case.id == case_id))).one()
        key_row = await s.get(DataKeyRow, case.data_key_id)
        live_key = key_row is not None and key_row.wrapped is not None
        counts["case"] = int(live_key and bool(case.draft_enc))
        counts["messages"] = len((await s.scalars(select(Message.id).where(Message.case_id == case_id))).all()) if live_key else 0
        counts["attachments"] = len((await s.scalars(select(Attachment.id).where(Attachment.case_id == case_id))).all()) if live_key else 0
        for row in (await s.scalars(select(Outbox).where(Outbox.case_id == case_id))).all():
            key = await s.get(DataKeyRow, row.data_key_id)
            counts["outbox"] += int(bool(row.payload_enc) and key is not None and key.wrapped is not None)
        for row in (await s.scalars(select(Inbox).where(Inbox.case_id == case_id))).all():
            key = await s.get(DataKeyRow, row.data_key_id)
            counts["inbox"] += int(bool(row.raw_enc) and key is not None and key.wrapped is not None)
    stored = await stored_blobs(app)
    counts["blobs"] = sum(1 for ref in blob_refs if ref in stored)
    return counts


async def test_withdrawal_shreds_content_and_keeps_a_tombstone(app: App, settings: Settings) -> None:
    ref = await submitted_case(app, "4242")
    await add_file(app, "telegram", "4242", filename="ledger.pdf", data=b"%PDF evidence of the Tamberlane fleet", source_key="f1")
    await reply(app, "telegram", "4242", "More about the recruiter Vorpal")
    async with app.store.read() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        blob_refs = list((await uow.session.scalars(select(Attachment.blob_ref).where(Attachment.case_id == case.id))).all())
    assert blob_refs and (await decryptable(app, case.id, settings.blob_dir, blob_refs))["blobs"] == 1

    result = await give(app, "telegram", "4242", Inbound(Intent.WITHDRAW, reference=ref))
    assert result.done and result.case_id is None  # the confirmation is not under the destroyed key

    left = await decryptable(app, case.id, settings.blob_dir, blob_refs)
    print("withdrawn case, still decryptable:", left)
    assert sum(left.values()) == 0
    async with app.store.read() as uow:
        tomb = await uow.cases.by_reference(ref)
        statuses = await app.cases.statuses("telegram", "4242")
        audit = [e.action for e in await uow.audit.for_case(case.id)]
    assert tomb is not None and tomb.status == lifecycle.WITHDRAWN and tomb.shredded_at is not None
    assert tomb.draft["answers"] == {} and tomb.submitted_at is not None and tomb.channel == "telegram"
    assert (ref, lifecycle.WITHDRAWN) in [(s.reference, s.status) for s in statuses]
    assert "case.submitted" in audit and "case.withdrawn" in audit and "thread.reply" in audit
    async with app.store.db.read() as s:
        details = [e.detail for e in (await s.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))).all()]
    assert "Vorpal" not in str(details) and "ledger" not in str(details)


async def test_processed_inbox_rows_keep_nothing_readable(app: App) -> None:
    app.inbox.register(LineDecoder(app))
    await arrive(app, "ana", "/start", "k1")
    await drain(app)
    async with app.store.db.read() as s:
        row = (await s.scalars(select(Inbox).where(Inbox.channel == CHANNEL))).one()
        key = await s.get(DataKeyRow, row.data_key_id)
        assert row.status == "done" and row.raw_enc == b"" and row.envelope_enc == b""
        assert key is not None and key.wrapped is None  # the key that sealed what arrived is gone too
        row_id = row.id
    async with app.store.read() as uow:
        assert (await uow.inbox.get(row_id)).raw == b""


async def test_retention_on_a_clock_moved_forward(app: App, clock: FixedClock) -> None:
    await app.cases.resume("telegram", "idle-draft")
    held_ref = await submitted_case(app, "held")
    declined_ref = await submitted_case(app, "declined")
    for ref in (held_ref, declined_ref):
        async with app.store.write() as uow:
            case = await uow.cases.by_reference(ref)
            assert case is not None
            case.status = lifecycle.DECLINED
            await uow.cases.save(case, now=app.clock())
            if ref == held_ref:
                await uow.cases.set_hold(case.id, True)

    clock.advance(days=28)
    dry = await app.retention.purge(dry_run=True)
    assert dry.drafts_warned == 1 and dry.drafts_deleted == 0
    async with app.store.read() as uow:
        assert [r.kind for r in await uow.outbox.list()] == []  # a dry run changes nothing
    real = await app.retention.purge()
    assert real.drafts_warned == 1
    async with app.store.read() as uow:
        notices = [r for r in await uow.outbox.list() if r.kind == "notice"]
    assert len(notices) == 1 and "30 days" in notices[0].payload["text"] and notices[0].channel == "telegram"
    assert (await app.retention.purge()).drafts_warned == 0  # warned once

    clock.advance(days=3)
    report = await app.retention.purge()
    assert report.drafts_deleted == 1 and await app.cases.current("telegram", "idle-draft") is None

    clock.advance(days=180)
    report = await app.retention.purge()
    assert report.declined_shredded == 1
    async with app.store.read() as uow:
        declined = await uow.cases.by_reference(declined_ref)
        held = await uow.cases.by_reference(held_ref)
        last = await uow.audit.last(action="retention.purged")
    assert declined is not None and declined.shredded_at is not None and declined.status == lifecycle.DECLINED
    assert held is not None and held.shredded_at is None and held.draft["answers"]  # legal hold: untouched
    assert last == app.clock()
    assert not await app.retention.due()
    clock.advance(days=1, seconds=1)
    assert await app.retention.due()


async def test_a_shredded_case_cannot_be_decrypted_with_its_old_ciphertext(app: App) -> None:
    ref = await submitted_case(app, "99")
    async with app.store.db.read() as s:
        key_id = (await s.scalars(select(Case.data_key_id).where(Case.reference == ref))).one()
    await give(app, "telegram", "99", Inbound(Intent.WITHDRAW, reference=ref))
    async with app.store.db.read() as s:
        key = await s.get(DataKeyRow, key_id)
        assert key is not None and key.wrapped is None and key.destroyed_at is not None
        # an old copy of the row (a backup) has its ciphertext, but no key opens it any more
        try:
            await app.store.keys.get(s, key_id)
            raise AssertionError("the destroyed key still unwraps")
        except (LookupError, CryptoError):
            pass
