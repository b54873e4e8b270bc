"""Settings from `INTAKE_*` environment variables or a `.env` file (see `.env.example`)."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.crypto import KeyConfigError, parse_master_keys

log = logging.getLogger(__name__)


class SettingsError(Exception):
    """The settings are unsafe or invalid; the message has one line per problem."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    secret_keys: SecretStr | None = None

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_local_mode: bool = False
    telegram_webhook_url: str | None = None
    telegram_staff_chat_id: int | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=0, le=65535)
    mail_address: str = "cases@localhost"
    relay_url: str = "smtp://127.0.0.1:25"
    max_message_bytes: int = Field(default=26_214_400, gt=0)

    # beyond the design's table (added by the channel issues; documented in .env.example)
    smtp_tls_cert: Path | None = None  # STARTTLS offered when cert and key are both set
    smtp_tls_key: Path | None = None
    smtp_lmtp: bool = False  # speak LMTP instead of SMTP (behind Postfix)
    autoreply_per_hour: int = Field(default=5, ge=0)  # first-contact auto-replies per sender per hour
    first_contact_per_hour: int = Field(default=200, ge=0)  # first-contact auto-replies in all per hour (bounds backscatter)
    # the authserv-id of our own receiving MTA: only its Authentication-Results headers are read (RFC 8601)
    mail_trusted_authserv_id: str | None = None
    staff_alert_email: str | None = None  # staff alerts (new case, reply) by email to this address; unset: none
    # retention (intake purge, and daily inside intake run); a case on legal hold is exempt
    retention_draft_days: int = Field(default=30, ge=1)  # an untouched draft is deleted after this many days
    retention_warn_days: int = Field(default=3, ge=0)  # … its owner told this many days before
    retention_declined_days: int = Field(default=180, ge=1)  # a declined case is shredded (tombstone kept) after
    retention_closed_days: int = Field(default=365, ge=1)  # a closed case is shredded (tombstone kept) after
    retention_inbox_days: int = Field(default=7, ge=0)  # processed inbox rows (content already destroyed) deleted after
    retention_outbox_days: int = Field(default=30, ge=0)  # delivered messages' content forgotten after
    telegram_webhook_secret: SecretStr | None = None  # unset: derived from the master key

    # scale-out: where evidence files live, how many rows the workers take at once, Telegram pacing
    blob_url: str | None = None  # database | file:///path | s3://bucket/prefix; unset: database on PostgreSQL, <data dir>/blobs on SQLite
    blob_s3_endpoint: str | None = None  # an S3-compatible server's URL (unset: AWS)
    blob_s3_region: str | None = None
    blob_s3_access_key: str | None = None  # unset: boto3's own credential chain
    blob_s3_secret_key: SecretStr | None = None
    relay_connections: int = Field(default=1, ge=1)  # SMTP sessions to the relay at once, each reused for a batch of mails
    inbox_concurrency: int = Field(default=8, ge=1)  # inbox rows (of different chats) processed at once per process
    delivery_concurrency: int = Field(default=32, ge=1)  # outbox rows (of different recipients) sent at once per process
    # processes of `intake run` that run only the inbox and delivery workers (intake.workers): a
    # number (0: everything in one process) or `auto` (one per core but one, at least 1, at most 8)
    worker_processes: str = Field(default="0", pattern=r"^\s*(auto|AUTO|Auto|\d{1,3})\s*$")
    worker_nice: int = Field(default=0, ge=0, le=19)  # the worker processes' niceness: >0 gives the accepting process the CPU first on a busy host
    telegram_chat_interval: float = Field(default=1.0, ge=0)  # seconds between two messages to one chat (Telegram: about 1/s)
    telegram_chat_burst: int = Field(default=3, ge=1)  # messages one chat may get at once before the interval applies
    telegram_global_rate: float = Field(default=30.0, gt=0)  # messages per second across all chats (Telegram: 30/s)
    telegram_group_per_minute: int = Field(default=20, ge=1)  # messages per minute to one group chat (Telegram: 20/min)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8000"

    @field_validator(
        "database_url", "telegram_webhook_url", "telegram_staff_chat_id", "secret_keys", "telegram_token",
        "smtp_tls_cert", "smtp_tls_key", "telegram_webhook_secret", "blob_url", "blob_s3_endpoint", "blob_s3_region",
        "blob_s3_access_key", "blob_s3_secret_key", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_url", "public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_public_url(self) -> Settings:
        """Unset INTAKE_PUBLIC_URL follows INTAKE_HTTP_HOST/PORT (the design's default on defaults)."""
        if "public_url" not in self.model_fields_set:
            host = "127.0.0.1" if self.http_host in ("0.0.0.0", "::", "") else self.http_host  # noqa: S104
            host = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{self.http_port}"
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The async SQLAlchemy URL: SQLite (aiosqlite) by default, PostgreSQL via psycopg."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'intake.db'}"
        return async_url(url)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def is_postgresql(self) -> bool:
        return self.sqlalchemy_url.startswith("postgresql")

    @property
    def blob_store_url(self) -> str:
        """INTAKE_BLOB_URL, or its default: in the database on PostgreSQL (every process reaches
        it), `<data dir>/blobs` on SQLite (one process on one host)."""
        if self.blob_url:
            return self.blob_url
        return "database" if self.is_postgresql else self.blob_dir.resolve().as_uri()

    def alert_channels(self) -> list[str]:
        """Where staff alerts go: the Telegram staff chat (with a bot token) and/or the alert address."""
        out: list[str] = []
        if self.telegram_token is not None and self.telegram_staff_chat_id is not None:
            out.append("staff_telegram")
        if self.staff_alert_email:
            out.append("staff_email")
        return out

    def master_keys(self) -> list[bytes]:
        """The configured master keys, or the generated development key (with a warning)."""
        if self.secret_keys is not None:
            return parse_master_keys(self.secret_keys.get_secret_value())
        return [dev_key(self.data_dir)]

    def problems(self) -> list[str]:
        """Everything unsafe or invalid for this environment; empty when start-up may proceed."""
        out: list[str] = []
        if self.secret_keys is not None:
            try:
                if not parse_master_keys(self.secret_keys.get_secret_value()):
                    out.append("INTAKE_SECRET_KEYS is empty")
            except KeyConfigError as exc:
                out.append(str(exc))
        if self.env == "development" or self.env == "test":
            return out
        if self.secret_keys is None:
            out.append("INTAKE_SECRET_KEYS is not set: generate one with `intake keys generate` (a dev key is refused in production)")
        domain = self.mail_address.rpartition("@")[2].lower()
        if "@" not in self.mail_address or domain in ("localhost", "") or domain.endswith(".localhost") or "." not in domain:
            out.append(f"INTAKE_MAIL_ADDRESS must be a real address, not on '{domain or '(none)'}'")
        if not _is_loopback(self.http_host) and not self.public_url.startswith("https://"):
            out.append("INTAKE_HTTP_HOST is not loopback but INTAKE_PUBLIC_URL is not https: put TLS in front and set INTAKE_PUBLIC_URL=https://…")
        if _is_local_url(self.public_url) and not _is_loopback(self.http_host):
            out.append("INTAKE_PUBLIC_URL still points at this machine; set it to the address staff use")
        if self.telegram_webhook_url and not self.telegram_webhook_url.startswith("https://"):
            out.append("INTAKE_TELEGRAM_WEBHOOK_URL must be https")
        if self.telegram_token is not None and not self.telegram_api_url.startswith("https://") and not _is_local_url(self.telegram_api_url):
            out.append("INTAKE_TELEGRAM_API_URL must be https unless it is a Bot API server on this machine")
        return out

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise SettingsError("\n".join(problems))

    # ---- staff console hardening (review) ----------------------------------------------------
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or networks
    # (e.g. "10.0.0.5, 192.168.0.0/24"); empty (the default) believes no one, loopback included.
    trusted_proxies: str = ""
    # Whether a reviewer may add internal notes to a case another staff member has claimed.
    reviewers_may_note_others: bool = False

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for item in (v.strip() for v in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"INTAKE_TRUSTED_PROXIES: '{item}' is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """INTAKE_TRUSTED_PROXIES as a list (empty: X-Forwarded-For is never believed)."""
        return [v.strip() for v in self.trusted_proxies.split(",") if v.strip()]


def async_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_local_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or _is_loopback(host)


def dev_key(data_dir: Path) -> bytes:
    """The development master key in `<data dir>/dev-master.key`, generated on first use."""
    import base64
    import os

    path = data_dir / "dev-master.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        log.warning(
            "INTAKE_SECRET_KEYS is not set: generated a DEVELOPMENT master key in %s. "
            "Anyone with that file can read the data; never use it in production.",
            path,
        )
    return parse_master_keys(path.read_text().strip())[0]


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
