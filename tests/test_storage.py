"""Storage on SQLite and PostgreSQL: encryption at rest, keys, blind index, concurrency, resume."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from intake import app as core
from intake import engine
from intake.app import App
from intake.inbound import Inbound, Intent
from intake.settings import Settings
from storage.crypto import CryptoError, MasterKeys, new_data_key, parse_master_keys
from storage.keys import KeyStore
from storage.models import Case, Message, Submitter
from storage.repositories import KeyDestroyed
from tests.blob_support import stored_blobs
from tests.support import FixedClock, add_file, answer_for, give

SECRET_ANSWERS = {
    "org_name": "Zebra Harbour Watch Collective",
    "contact_name": "Quillon Marrowby",
    "contact_email": "quillon.marrowby@example.org",
    "case_summary": "Xylophone narrative about the Tamberlane fishing fleet",
}


async def answer_all(application: App, channel: str, who: str, overrides: dict[str, str] | None = None) -> str:
    overrides = overrides or {}
    turn = await application.cases.resume(channel, who)
    while turn.prompt.kind != "review":
        qid = turn.prompt.question_id or ""
        action = engine.Answer(overrides[qid]) if qid in overrides and turn.prompt.kind == "question" else answer_for(turn.prompt)
        turn = await application.cases.act(channel, who, action)
        assert turn.ok, turn.error
    turn = await application.cases.act(channel, who, engine.Command("submit"))
    assert turn.submitted and turn.reference
    return turn.reference


async def all_database_bytes(application: App, settings: Settings) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or every PostgreSQL row as text."""
    if application.store.db.dialect == "sqlite":
        await application.store.close()
        db_file = Path(application.store.db.engine.url.database or "")
        return b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    out = []
    async with application.store.db.engine.connect() as conn:
        tables = (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))).scalars().all()
        for table in tables:
            rows = (await conn.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars().all()
            out.extend(r.encode() for r in rows)
    return b"\n".join(out)


async def test_no_plaintext_at_rest(app: App, settings: Settings) -> None:
    await app.cases.resume("telegram", "777000111")
    secret_file = b"%PDF-1.4 Vorpal evidence ledger of the Tamberlane fleet" * 50
    record = (await add_file(app, "telegram", "777000111", filename="Tamberlane-ledger.pdf", data=secret_file)).attachment
    assert record is not None
    assert record.sha256 == hashlib.sha256(secret_file).hexdigest()
    await answer_all(app, "telegram", "777000111", SECRET_ANSWERS)
    async with app.store.read() as uow:
        case = (await uow.cases.for_submitter((await uow.submitters.find(channel="telegram", identity="777000111")).id))[0]  # type: ignore[union-attr]
        assert await uow.attachments.read(case.id, record.id) == secret_file
    blobs = b"".join((await stored_blobs(app)).values())
    assert blobs
    everything = await all_database_bytes(app, settings) + blobs
    needles = [v.encode() for v in SECRET_ANSWERS.values()] + [
        b"777000111", b"Tamberlane-ledger", b"Vorpal evidence", hashlib.sha256(secret_file).hexdigest().encode(),
    ]
    for needle in needles:
        assert needle not in everything, needle


async def test_ciphertext_bound_to_its_row(app: App) -> None:
    await answer_all(app, "terminal", "one")
    await answer_all(app, "terminal", "two")
    async with app.store.db.transaction() as session:
        a, b = (await session.scalars(select(Case).order_by(Case.created_at, Case.id))).all()[:2]
        # move b's encrypted draft into a's row: the same key would not even help, the row id is bound
        await session.execute(update(Case).where(Case.id == a.id).values(draft_enc=b.draft_enc))
    with pytest.raises(CryptoError):
        async with app.store.read() as uow:
            await uow.cases.get(a.id)


def test_decrypt_needs_the_same_table_column_and_row() -> None:
    key = new_data_key("k1")
    blob = key.encrypt(b"secret", table="messages", column="body", row_id="row-a")
    assert key.decrypt(blob, table="messages", column="body", row_id="row-a") == b"secret"
    for table, column, row in (("messages", "body", "row-b"), ("messages", "subject", "row-a"), ("cases", "body", "row-a")):
        with pytest.raises(CryptoError):
            key.decrypt(blob, table=table, column=column, row_id=row)


async def test_ciphertexts_swapped_under_one_key_fail(app: App) -> None:
    """Two rows and two columns encrypted under the SAME case key: only the row and column binding
    (the associated data) can tell a moved ciphertext."""
    await app.cases.resume("terminal", "swap")
    await reply_on_draft(app, "terminal", "swap")
    async with app.store.db.transaction() as session:
        m1, m2 = (await session.scalars(select(Message).order_by(Message.created_at, Message.id))).all()[:2]
        assert m1.case_id == m2.case_id  # one case, one key
        await session.execute(update(Message).where(Message.id == m1.id).values(body_enc=m2.body_enc))
    with pytest.raises(CryptoError):
        async with app.store.read() as uow:
            await uow.messages.for_case(m1.case_id)
    async with app.store.db.transaction() as session:
        case = (await session.scalars(select(Case).where(Case.id == m1.case_id))).one()
        await session.execute(update(Case).where(Case.id == case.id).values(decision_reason_enc=case.draft_enc))
    with pytest.raises(CryptoError):
        async with app.store.read() as uow:
            await uow.cases.get(case.id)


async def reply_on_draft(app: App, channel: str, who: str) -> None:
    """Two thread messages on the open draft (what an email with a narrative does), in one transaction."""
    async with app.store.write() as uow:
        submitter_id, case = await app.cases.open_in(uow, channel, who, None, create=True)
        assert case is not None
        for body in ("first message", "second message"):
            await app.cases.keep_in(uow, submitter_id, case, channel=channel, body=body, kind="reply")


async def test_claiming_an_assigned_case_returns_false(app: App) -> None:
    ref = await answer_all(app, "terminal", "claimed")
    async with app.store.write() as uow:
        staff_a = await uow.staff.add(email="a@example.org", password_hash="x", role="reviewer", now=app.clock())
        staff_b = await uow.staff.add(email="b@example.org", password_hash="x", role="reviewer", now=app.clock())
        case = await uow.cases.by_reference(ref)
        assert case is not None
        assert await uow.cases.claim(case.id, staff_a.id, now=app.clock()) is True
        assert await uow.cases.claim(case.id, staff_b.id, now=app.clock()) is False
        assert (await uow.cases.get(case.id)).assigned_to == staff_a.id


async def test_destroyed_key_makes_case_unreadable(app: App) -> None:
    ref = await answer_all(app, "terminal", "gone")
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        await uow.cases.destroy_content(case.id, now=app.clock())
    with pytest.raises(KeyDestroyed):
        async with app.store.read() as uow:
            await uow.cases.by_reference(ref)


async def test_blind_index_lookup(app: App) -> None:
    await app.cases.resume("email", "ngo@example.org")
    async with app.store.read() as uow:
        found = await uow.submitters.find(channel="email", identity="ngo@example.org")
        assert found is not None
        assert await uow.submitters.identity(found.id) == "ngo@example.org"
        assert await uow.submitters.find(channel="telegram", identity="ngo@example.org") is None
    async with app.store.db.read() as session:
        row = await session.scalar(select(Submitter))
        assert row is not None and b"ngo@example.org" not in row.identity_enc and "ngo" not in row.identity_index


async def test_master_key_rotation(settings: Settings, clock: FixedClock) -> None:
    old_key = settings.master_keys()[0]
    application = core.build(settings, clock=clock)
    await application.store.prepare(now=clock())
    ref = await answer_all(application, "terminal", "rot")
    await application.store.close()

    new_key = b"n" * 32
    both = Settings(**{**settings.model_dump(), "secret_keys": ",".join(base64.b64encode(k).decode() for k in (new_key, old_key))})
    application = core.build(both, clock=clock)
    async with application.store.read() as uow:  # old data still readable with the old key second
        assert (await uow.cases.by_reference(ref)) is not None
    async with application.store.db.transaction() as session:
        assert await application.store.keys.rotate(session) >= 2
    await application.store.close()

    only_new = Settings(**{**settings.model_dump(), "secret_keys": base64.b64encode(new_key).decode()})
    application = core.build(only_new, clock=clock)
    try:
        async with application.store.read() as uow:
            case = await uow.cases.by_reference(ref)
            assert case is not None and case.status == "submitted"
    finally:
        await application.store.close()


def test_master_key_parsing() -> None:
    with pytest.raises(ValueError, match="not base64 of 32 bytes"):
        parse_master_keys("c2hvcnQ=")
    keys = MasterKeys([b"a" * 32, b"b" * 32])
    ks = KeyStore(keys)
    assert ks.master.newest_id == keys.ids[0]


async def test_two_writers_on_one_draft_serialise(app: App) -> None:
    turn = await app.cases.resume("telegram", "42")
    turn = await app.cases.act("telegram", "42", engine.Choose("yes"))
    turn = await app.cases.act("telegram", "42", engine.Choose("no"))
    assert turn.prompt.question_id == "org_name"
    # two different answers race for the same draft: they must apply one after the other,
    # exactly as if sent in sequence (never both to org_name, never one lost silently)
    first, second = await asyncio.gather(
        app.cases.act("telegram", "42", engine.Answer("First Org")),
        app.cases.act("telegram", "42", engine.Answer("NG")),
    )
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity="42")
        assert sub is not None
        draft = await uow.cases.open_draft(sub.id)
        assert draft is not None
    answers = draft.draft["answers"]
    if answers["org_name"] == "First Org":  # "First Org" went first; "NG" then answered the country
        assert first.ok and second.ok and answers["org_country"] == "NG" and draft.version == 4
    else:  # "NG" went first as the name; "First Org" was then refused as a country, and said so
        assert answers["org_name"] == "NG" and "org_country" not in answers
        assert second.ok and not first.ok and "country" in (first.error or "") and draft.version == 3


async def test_many_concurrent_writers_lose_nothing(app: App) -> None:
    await app.cases.resume("telegram", "99")
    await app.cases.act("telegram", "99", engine.Choose("yes"))
    await app.cases.act("telegram", "99", engine.Choose("no"))
    for _ in range(3):
        await app.cases.act("telegram", "99", answer_for((await app.cases.current("telegram", "99")).prompt))  # type: ignore[union-attr]
    # now at contact_email; fire eight text answers at once
    texts = [f"writer-{i}@example.org" for i in range(8)]
    results = await asyncio.gather(*(app.cases.act("telegram", "99", engine.Answer(t)) for t in texts))
    async with app.store.read() as uow:
        sub = await uow.submitters.find(channel="telegram", identity="99")
        assert sub is not None
        case = await uow.cases.open_draft(sub.id)
        assert case is not None
        audit = [e for e in await uow.audit.for_case(case.id) if e.action == "draft.answered"]
    # every accepted answer produced exactly one write, and the version counted each of them
    accepted = [r for r in results if r.ok]
    assert len(audit) == 5 + len(accepted)
    assert case.version == 5 + len(accepted)


async def test_resume_after_process_exit(settings: Settings, clock: FixedClock) -> None:
    first = core.build(settings, clock=clock)
    await first.store.prepare(now=clock())
    turn = await first.cases.resume("telegram", "5")
    for _ in range(6):
        turn = await first.cases.act("telegram", "5", answer_for(turn.prompt))
    where, answers = turn.prompt.path, None
    await first.store.close()

    second = core.build(settings, clock=clock)
    try:
        again = await second.cases.resume("telegram", "5")
        assert again.prompt.path == where and again.reference == turn.reference
        async with second.store.read() as uow:
            sub = await uow.submitters.find(channel="telegram", identity="5")
            assert sub is not None
            case = await uow.cases.open_draft(sub.id)
            assert case is not None
            answers = case.draft["answers"]
        assert len(answers) == 6
    finally:
        await second.store.close()


async def test_cancel_deletes_draft_and_files(app: App, settings: Settings) -> None:
    await app.cases.resume("telegram", "8")
    await add_file(app, "telegram", "8", filename="x.jpg", data=b"\xff\xd8 photo")
    assert await stored_blobs(app)
    assert (await give(app, "telegram", "8", Inbound(Intent.DISCARD))).done
    assert not await stored_blobs(app)
    assert await app.cases.current("telegram", "8") is None
    assert not (await give(app, "telegram", "8", Inbound(Intent.DISCARD))).done


async def test_unsafe_channel_keeps_nothing(app: App) -> None:
    await app.cases.resume("telegram", "13")
    turn = await app.cases.act("telegram", "13", engine.Choose("no"))
    assert turn.stopped and turn.notices
    async with app.store.read() as uow:
        assert await uow.cases.list(statuses=["draft"]) == []


async def test_idempotent_events(app: App) -> None:
    await app.cases.resume("telegram", "21")
    one = await give(app, "telegram", "21", Inbound(Intent.STEP, action=engine.Choose("yes"), key="update:1"))
    two = await give(app, "telegram", "21", Inbound(Intent.STEP, action=engine.Choose("yes"), key="update:1"))
    assert not one.duplicate and two.duplicate
    assert one.turn is not None and one.turn.prompt.question_id == "immediate_danger"
    assert (await app.cases.current("telegram", "21")).prompt.question_id == "immediate_danger"  # type: ignore[union-attr]


async def test_withdraw_and_status(app: App) -> None:
    ref = await answer_all(app, "terminal", "w")
    statuses = await app.cases.statuses("terminal", "w")
    assert [(s.reference, s.status) for s in statuses] == [(ref, "submitted")]
    assert not await app.cases.withdraw("terminal", "someone-else", ref)
    assert await app.cases.withdraw("terminal", "w", ref.lower())
    assert (await app.cases.statuses("terminal", "w"))[0].status == "withdrawn"
    assert not await app.cases.withdraw("terminal", "w", ref)
