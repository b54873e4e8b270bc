"""The claim queries of the two queues, built once per batch size (building one is a few
milliseconds of Python that every worker pass would otherwise repeat); `channels` and `now` are
bound when executed."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, Select, String, Table, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import aliased

from storage.models import DataKeyRow, Inbox, Outbox, Submitter


def table_of(model: type[Any]) -> Table:
    """A model's Core table (Core statements skip the ORM's bulk-update and flush machinery)."""
    return cast(Table, model.__table__)


@functools.cache
def inbox_claim(limit: int) -> Select[str]:
    """The inbox claim, built once (per limit): channels and now are bound at execution."""
    now: BindParameter[datetime] = bindparam("now")
    earlier = aliased(Inbox)
    blocked = (
        select(earlier.id)
        .where(
            earlier.order_key == Inbox.order_key,
            earlier.status == "new",
            or_(earlier.seq < Inbox.seq, and_(earlier.seq == Inbox.seq, earlier.id < Inbox.id)),
        )
        .exists()
    )
    return (
        select(Inbox.id)
        .where(
            Inbox.status == "new",
            Inbox.channel.in_(bindparam("channels", expanding=True)),
            or_(Inbox.next_attempt_at.is_(None), Inbox.next_attempt_at <= now),
            or_(Inbox.leased_until.is_(None), Inbox.leased_until <= now),
            or_(Inbox.order_key.is_(None), ~blocked),
        )
        .order_by(Inbox.received_at, Inbox.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


@functools.cache
def inbox_claim_rows(limit: int) -> Update:
    """The inbox claim as ONE statement that leases the rows and returns them with their data
    key: `UPDATE inbox … WHERE inbox.id IN (<the claim, SKIP LOCKED>) RETURNING …, (the key)`.
    Core, built once per limit; channels, now and until are bound at execution."""
    inbox, keys = table_of(Inbox), table_of(DataKeyRow)
    now: BindParameter[datetime] = bindparam("now")
    cand, earlier = inbox.alias("cand"), inbox.alias("earlier")
    blocked = (
        select(earlier.c.id)
        .where(
            earlier.c.order_key == cand.c.order_key,
            earlier.c.status == "new",
            or_(earlier.c.seq < cand.c.seq, and_(earlier.c.seq == cand.c.seq, earlier.c.id < cand.c.id)),
        )
        .exists()
    )
    chosen = (
        select(cand.c.id)
        .where(
            cand.c.status == "new",
            cand.c.channel.in_(bindparam("channels", expanding=True)),
            or_(cand.c.next_attempt_at.is_(None), cand.c.next_attempt_at <= now),
            or_(cand.c.leased_until.is_(None), cand.c.leased_until <= now),
            or_(cand.c.order_key.is_(None), ~blocked),
        )
        .order_by(cand.c.received_at, cand.c.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    def of_key(column: ColumnElement[Any]) -> ScalarSelect[Any]:  # SQLite's RETURNING names only the updated table
        return select(column).where(keys.c.id == inbox.c.data_key_id).scalar_subquery()

    return (
        update(inbox)
        .where(inbox.c.id.in_(chosen))
        .values(leased_until=bindparam("until"))
        .returning(
            inbox.c.id, inbox.c.status, inbox.c.attempts, inbox.c.error, inbox.c.case_id, inbox.c.size, inbox.c.received_at,
            inbox.c.seq, inbox.c.channel, inbox.c.data_key_id, inbox.c.envelope_enc, inbox.c.raw_enc,
            of_key(keys.c.master_key_id).label("master_key_id"), of_key(keys.c.wrapped).label("wrapped"),
        )
    )


@functools.cache
def outbox_claim_rows(limit: int) -> Update:
    """The outbox claim as ONE statement: leases the rows and returns them with their data key
    and, for a row to a submitter, the submitter's encrypted identity and its key (SQLite's
    RETURNING names only the updated table, so the others come as scalar subqueries)."""
    outbox, keys, subs = table_of(Outbox), table_of(DataKeyRow), table_of(Submitter)
    now: BindParameter[datetime] = bindparam("now")
    cand, earlier = outbox.alias("cand"), outbox.alias("earlier")
    blocked = (
        select(earlier.c.id)
        .where(
            earlier.c.channel == cand.c.channel,
            earlier.c.submitter_id == cand.c.submitter_id,
            earlier.c.status == "pending",
            earlier.c.seq < cand.c.seq,
        )
        .exists()
    )
    chosen = (
        select(cand.c.id)
        .where(
            cand.c.status == "pending",
            cand.c.channel.in_(bindparam("channels", expanding=True)),
            cand.c.next_attempt_at <= now,
            or_(cand.c.leased_until.is_(None), cand.c.leased_until <= now),
            or_(cand.c.submitter_id.is_(None), ~blocked),
        )
        .order_by(cand.c.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )

    def of_key(column: ColumnElement[Any]) -> ScalarSelect[Any]:
        return select(column).where(keys.c.id == outbox.c.data_key_id).scalar_subquery()

    def of_submitter(column: ColumnElement[Any]) -> ScalarSelect[Any]:
        return select(column).where(subs.c.id == outbox.c.submitter_id).correlate(outbox).scalar_subquery()

    def of_submitter_key(column: ColumnElement[Any]) -> ScalarSelect[Any]:
        # nested, not joined: SQLite's RETURNING is rendered with unqualified column names
        return select(column).where(keys.c.id == of_submitter(subs.c.data_key_id)).scalar_subquery()

    return (
        update(outbox)
        .where(outbox.c.id.in_(chosen))
        .values(leased_until=bindparam("until"))
        .returning(
            outbox.c.id, outbox.c.channel, outbox.c.kind, outbox.c.case_id, outbox.c.submitter_id, outbox.c.payload_enc, outbox.c.status,
            outbox.c.attempts, outbox.c.next_attempt_at, outbox.c.last_error, outbox.c.created_at, outbox.c.sent_at, outbox.c.seq,
            outbox.c.data_key_id, of_key(keys.c.master_key_id).label("master_key_id"), of_key(keys.c.wrapped).label("wrapped"),
            of_submitter(subs.c.identity_enc).label("identity_enc"), of_submitter(subs.c.data_key_id).label("s_key_id"),
            of_submitter_key(keys.c.master_key_id).label("s_master_key_id"), of_submitter_key(keys.c.wrapped).label("s_wrapped"),
        )
    )


@functools.cache
def outbox_sent() -> Update:
    """Mark one row sent (run as an executemany over a batch): `oid`, `now`, `ext` (the keyed hash
    of the peer's id of the message, or None to keep what is there) are bound at execution."""
    outbox = table_of(Outbox)
    return (
        update(outbox)
        .where(outbox.c.id == bindparam("oid"))
        .values(
            status="sent", sent_at=bindparam("now"), attempts=outbox.c.attempts + 1, last_error=None, leased_until=None,
            external_index=func.coalesce(bindparam("ext", type_=String), outbox.c.external_index),
        )
    )


@functools.cache
def submitter_keys() -> Select[Any]:
    """The data keys of some submitters, in one statement (`ids` expanding)."""
    subs, keys = table_of(Submitter), table_of(DataKeyRow)
    return (
        select(subs.c.id, subs.c.data_key_id, keys.c.master_key_id, keys.c.wrapped)
        .select_from(subs.join(keys, keys.c.id == subs.c.data_key_id))
        .where(subs.c.id.in_(bindparam("ids", expanding=True)))
    )


@functools.cache
def inbox_done(destroy_key: bool) -> Update:
    """Mark an inbox row done and blank what arrived (`iid`, `now`, `case_id` bound); with
    `destroy_key` (PostgreSQL) the row's data key is destroyed by the same statement, its UPDATE
    in a CTE. Core, so no session synchronisation is evaluated."""
    inbox, keys = table_of(Inbox), table_of(DataKeyRow)
    done = (
        update(inbox)
        .where(inbox.c.id == bindparam("iid"))
        .values(
            status="done", processed_at=bindparam("now"), case_id=bindparam("case_id"), attempts=inbox.c.attempts + 1, error=None,
            leased_until=None, raw_enc=b"", envelope_enc=b"",
        )
    )
    if not destroy_key:
        return done
    rows = done.returning(inbox.c.data_key_id).cte("done")
    return (
        update(keys)
        .where(keys.c.id.in_(select(rows.c.data_key_id)))
        .values(wrapped=None, master_key_id=None, destroyed_at=bindparam("now"))
    )
