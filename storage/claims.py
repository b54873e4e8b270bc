"""The claim queries of the two queues, built once per batch size (building one is a few
milliseconds of Python that every worker pass would otherwise repeat); `channels` and `now` are
bound when executed."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import BindParameter, Select, and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from storage.models import Inbox, Outbox


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
def outbox_claim(limit: int) -> Select[Outbox]:
    """The outbox claim, built once (per limit): channels and now are bound at execution."""
    earlier = aliased(Outbox)
    blocked = (
        select(earlier.id)
        .where(
            earlier.channel == Outbox.channel,
            earlier.submitter_id == Outbox.submitter_id,
            earlier.status == "pending",
            earlier.seq < Outbox.seq,
        )
        .exists()
    )
    now: BindParameter[datetime] = bindparam("now")
    return (
        select(Outbox)
        .where(
            Outbox.status == "pending",
            Outbox.channel.in_(bindparam("channels", expanding=True)),
            Outbox.next_attempt_at <= now,
            or_(Outbox.leased_until.is_(None), Outbox.leased_until <= now),
            or_(Outbox.submitter_id.is_(None), ~blocked),
        )
        .order_by(Outbox.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
