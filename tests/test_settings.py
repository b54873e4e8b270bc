"""Settings: defaults from the design, and production refusing unsafe ones, one line each."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from intake.settings import Settings, SettingsError

KEY = base64.b64encode(b"s" * 32).decode()


def make(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg, arg-type]


def test_defaults(tmp_path: Path) -> None:
    s = make(data_dir=tmp_path)
    assert s.env == "development" and s.smtp_port == 8025 and s.http_port == 8000
    assert s.mail_address == "cases@localhost" and s.max_message_bytes == 26_214_400
    assert s.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    assert s.telegram_api_url == "https://api.telegram.org" and s.telegram_token is None
    assert s.problems() == []


def test_dev_key_generated_once(tmp_path: Path) -> None:
    s = make(data_dir=tmp_path)
    first = s.master_keys()
    assert first == s.master_keys() and len(first[0]) == 32
    assert (tmp_path / "dev-master.key").stat().st_mode & 0o077 == 0


def test_production_refuses_unsafe_defaults(tmp_path: Path) -> None:
    s = make(env="production", data_dir=tmp_path, http_host="0.0.0.0")
    problems = s.problems()
    assert any("INTAKE_SECRET_KEYS" in p for p in problems)
    assert any("INTAKE_MAIL_ADDRESS" in p for p in problems)
    assert any("INTAKE_PUBLIC_URL" in p for p in problems)
    with pytest.raises(SettingsError) as err:
        s.check()
    assert len(str(err.value).splitlines()) == len(problems)


def test_production_accepts_safe_settings(tmp_path: Path) -> None:
    s = make(env="production", data_dir=tmp_path, secret_keys=KEY, mail_address="cases@example.org",
             http_host="0.0.0.0", public_url="https://intake.example.org")
    assert s.problems() == []


def test_bad_key_is_refused_everywhere(tmp_path: Path) -> None:
    assert make(data_dir=tmp_path, secret_keys="bm90IDMyIGJ5dGVz").problems() == ["key #1 in INTAKE_SECRET_KEYS is not base64 of 32 bytes"]


def test_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTAKE_SMTP_PORT", "2525")
    monkeypatch.setenv("INTAKE_TELEGRAM_TOKEN", "")
    s = make(data_dir=tmp_path)
    assert s.smtp_port == 2525 and s.telegram_token is None


def test_public_url_follows_the_console_address_unless_set(tmp_path: Path) -> None:
    assert make(data_dir=tmp_path).public_url == "http://127.0.0.1:8000"
    assert make(data_dir=tmp_path, http_port=9123).public_url == "http://127.0.0.1:9123"
    assert make(data_dir=tmp_path, http_port=9123, public_url="https://intake.example.org/").public_url == "https://intake.example.org"
