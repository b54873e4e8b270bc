"""Building the core from settings: store, questionnaire, services; and running migrations."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

import migrations
from intake import searchdoc
from intake.cases import CaseService
from intake.clock import Clock, utcnow
from intake.delivery import DeliveryWorker
from intake.inbox import InboxWorker
from intake.questionnaire import Questionnaire, load_default
from intake.receive import Receiver
from intake.retention import Retention, Rules
from intake.runtime import Component
from intake.settings import Settings
from intake.worker import Loop
from storage.auditchain import seal
from storage.blobs import BlobStore, S3Config, open_blob_store
from storage.store import Store

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(migrations.__file__).parent


@dataclass
class App:
    """The core: settings, storage, the questionnaire, the case service, the one way in (`receiver`,
    fed by the `inbox` worker) and the one way out (the `delivery` worker). Channels register a
    decoder with `inbox` and a sender with `delivery`."""

    settings: Settings
    store: Store
    questionnaire: Questionnaire
    cases: CaseService
    clock: Clock
    receiver: Receiver = field(init=False)
    inbox: InboxWorker = field(init=False)
    delivery: DeliveryWorker = field(init=False)
    sealer: Loop = field(init=False)
    retention: Retention = field(init=False)
    janitor: Loop = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = InboxWorker(self.store, self.clock, concurrency=self.settings.inbox_concurrency)
        self.delivery = DeliveryWorker(self.store, self.clock, concurrency=self.settings.delivery_concurrency)
        self.receiver = Receiver(
            self.store, self.cases, clock=self.clock, autoreply_per_hour=self.settings.autoreply_per_hour,
            first_contact_per_hour=self.settings.first_contact_per_hour, wake=self.delivery.wake,
        )
        self.sealer = Loop("audit sealer", self.seal_audit, interval=5.0)
        self.retention = Retention(self.store, self.cases, Rules.from_settings(self.settings))
        self.janitor = Loop("retention", self.retention.daily, interval=3600.0)  # purges once a day

    async def seal_audit(self) -> int:
        """Chain the audit events written since the last pass (see storage.auditchain)."""
        async with self.store.db.transaction() as session:
            return await seal(session)

    def components(self) -> list[Component]:
        """The core's own long-running parts for `intake run`: the audit sealer, the delivery and inbox workers."""
        return [self.sealer, self.janitor, self.delivery, self.inbox]


def build(settings: Settings, *, clock: Clock = utcnow, questionnaire: Questionnaire | None = None) -> App:
    """The core wired from settings. Call `await app.store.prepare(now=…)` before use."""
    store = Store.open(url=settings.sqlalchemy_url, master_keys=settings.master_keys(), blobs=blob_store(settings))
    q = questionnaire or load_default()
    store.documents = searchdoc.builder(q)  # the search index follows every save (storage.search_index)
    return App(settings, store, q, CaseService(store, q, clock=clock, alert_channels=settings.alert_channels()), clock)


def blob_store(settings: Settings) -> BlobStore:
    """The evidence store INTAKE_BLOB_URL names (see `storage.blobs`)."""
    secret = settings.blob_s3_secret_key.get_secret_value() if settings.blob_s3_secret_key else None
    s3 = S3Config(endpoint=settings.blob_s3_endpoint, region=settings.blob_s3_region, access_key=settings.blob_s3_access_key, secret_key=secret)
    return open_blob_store(settings.blob_store_url, s3=s3)


def alembic_config(url: str) -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.attributes["url"] = url
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (synchronous; call outside a running event loop)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    sync_url = url.replace("+aiosqlite", "").replace("+psycopg", "+psycopg")
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
