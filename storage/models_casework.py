"""Tables of the casework package: imported sanctions lists with their blocking index, screening
results and staff decisions, and perpetrator links across cases.

List entities are public data and stored in clear. Anything derived from a case stays free of
content: screening hits keep entity ids, scores and feature scores (no names); the cross-case
index keeps keyed hashes (blind index) of blocking keys, never the keys themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import ID, TS, Base, new_id


class SanctionsDataset(Base):
    """One imported list (e.g. `us_ofac_sdn`): replaced whole when loaded again."""

    __tablename__ = "sanctions_datasets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # ftm | csv
    entities: Mapped[int] = mapped_column(Integer, default=0)
    loaded_at: Mapped[datetime] = mapped_column(TS)
    loaded_by: Mapped[str | None] = mapped_column(String(64))


class SanctionsEntity(Base):
    """A list entity in FollowTheMoney form (schema + properties)."""

    __tablename__ = "sanctions_entities"
    __table_args__ = (UniqueConstraint("dataset", "entity_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    dataset: Mapped[str] = mapped_column(ForeignKey("sanctions_datasets.name", ondelete="CASCADE"), index=True)
    entity_id: Mapped[str] = mapped_column(String(255), index=True)
    schema: Mapped[str] = mapped_column(String(32))
    caption: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"properties": …, "datasets": […], "programs": […]}


class SanctionsKey(Base):
    """Blocking index: one row per (entity, key); candidates share keys with the query."""

    __tablename__ = "sanctions_keys"
    __table_args__ = (Index("ix_sanctions_keys_key_entity", "key", "entity_row"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    entity_row: Mapped[str] = mapped_column(ForeignKey("sanctions_entities.id", ondelete="CASCADE"), index=True)


class ScreeningHit(Base):
    """The latest screening of one perpetrator of a case against one list entity."""

    __tablename__ = "screening_hits"
    __table_args__ = (UniqueConstraint("case_id", "perpetrator", "entity_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    perpetrator: Mapped[int] = mapped_column(Integer)  # 1-based
    entity_id: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)
    match: Mapped[bool] = mapped_column(Boolean)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)  # feature name → score (no values)
    screened_at: Mapped[datetime] = mapped_column(TS)


class ScreeningDecision(Base):
    """A staff member's confirm / dismiss of a candidate for a perpetrator (the audit has the event)."""

    __tablename__ = "screening_decisions"
    __table_args__ = (UniqueConstraint("case_id", "perpetrator", "entity_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    perpetrator: Mapped[int] = mapped_column(Integer)
    entity_id: Mapped[str] = mapped_column(String(255))
    decision: Mapped[str] = mapped_column(String(16))  # confirmed | dismissed
    staff_id: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(TS)


class PerpetratorKey(Base):
    """Cross-case blocking index: a keyed hash of one blocking key of one perpetrator."""

    __tablename__ = "perpetrator_keys"
    __table_args__ = (Index("ix_perpetrator_keys_key_case", "key_index", "case_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    perpetrator: Mapped[int] = mapped_column(Integer)
    key_index: Mapped[str] = mapped_column(String(64))


class CaseLink(Base):
    """The same perpetrator in two cases: scored by the matcher, confirmed or dismissed by staff.
    Stored once per pair, the case with the smaller id first."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_a", "perpetrator_a", "case_b", "perpetrator_b"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_a: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    perpetrator_a: Mapped[int] = mapped_column(Integer)
    case_b: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    perpetrator_b: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    match: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="suggested")  # suggested | confirmed | dismissed
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(TS)
    scored_at: Mapped[datetime] = mapped_column(TS)
    note: Mapped[str | None] = mapped_column(Text)  # never content: reserved for ids/outcomes
