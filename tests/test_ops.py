"""Operations as an operator runs them (the console script as subprocesses): private files, backup
and restore (with every case, file and login back), a missing master key refused in one line,
and the audit hash chain that shows a changed event."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from sqlalchemy import update

from intake.app import App
from intake.inbound import Inbound, Intent
from storage.auditchain import seal, verify
from storage.models import AuditEvent
from tests.conftest import TEST_KEY
from tests.support import add_file, give
from tests.test_cli import env_for, intake, scripted_lines

OTHER_KEY = base64.b64encode(b"o" * 32).decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def submit_by_chat(env: dict[str, str], who: str) -> str:
    lines, _ = scripted_lines()
    done = intake(["chat", "--as", who], env, "\n".join(lines) + "\n/submit\n")
    assert done.returncode == 0, done.stderr
    refs = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("REFERENCE ")]
    assert len(refs) == 1
    return refs[0]


def test_data_directory_and_database_are_private(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'data' / 'intake.db'}")
    assert intake(["db", "upgrade"], env).returncode == 0
    data = tmp_path / "data"
    assert mode(data) == 0o700
    for name in ("intake.db", "intake.db-wal", "intake.db-shm"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name
    (data / "intake.db").chmod(0o644)  # a database created by an older version
    assert intake(["db", "upgrade"], env).returncode == 0
    assert mode(data / "intake.db") == 0o600


def test_backup_then_restore_brings_everything_back(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    ref = submit_by_chat(env, "ngo-backup")
    added = intake(["staff", "add", "rev@example.org", "--role", "reviewer", "--password-stdin"], env, "correct horse battery staple 42\n")
    assert added.returncode == 0, added.stderr
    shown_before = json.loads(intake(["review", "show", ref, "--json"], env).stdout)
    backup = tmp_path / "backup"
    made = intake(["backup", str(backup)], env)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["master_key_ids"] and manifest["database"] in ("sqlite", "postgresql")
    assert TEST_KEY not in (backup / "manifest.json").read_text()

    # the machine is lost: a fresh data directory (and, on PostgreSQL, an emptied database)
    fresh = env_for(tmp_path / "new", db_url)
    if "sqlite" in db_url:
        fresh["INTAKE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'new' / 'data' / 'intake.db'}"
    restored = intake(["restore", str(backup), "--force"], fresh)
    assert restored.returncode == 0, restored.stderr + restored.stdout
    shown_after = json.loads(intake(["review", "show", ref, "--json"], fresh).stdout)
    assert shown_after["answers"] == shown_before["answers"] and shown_after["status"] == "submitted"
    staff = json.loads(intake(["staff", "list", "--json"], fresh).stdout)
    assert "rev@example.org" in [s["email"] for s in staff]


def test_restore_without_its_master_key_says_so_in_one_line(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'data' / 'intake.db'}"
    env = env_for(tmp_path, db_url)
    submit_by_chat(env, "ngo-rotate")
    backup = tmp_path / "backup"
    assert intake(["backup", str(backup)], env).returncode == 0
    # later the operator rotated to a new key and dropped the old one; the old backup needs the old key
    fresh = env_for(tmp_path / "new", f"sqlite:///{tmp_path / 'new' / 'data' / 'intake.db'}")
    fresh["INTAKE_SECRET_KEYS"] = OTHER_KEY
    done = intake(["restore", str(backup)], fresh)
    assert done.returncode == 3
    said = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(said) <= 2 and "master key" in done.stderr and "Traceback" not in done.stderr
    # and `intake run` (here `review list`) refuses the same way instead of serving 500s
    listed = intake(["review", "list", "--json"], fresh)
    assert listed.returncode == 3 and "Traceback" not in listed.stderr


async def test_audit_chain_shows_a_changed_event(app: App) -> None:
    await give(app, "terminal", "auditor", Inbound(Intent.START))
    await add_file(app, "terminal", "auditor", filename="a.txt", data=b"x")
    async with app.store.db.transaction() as session:
        assert await seal(session) >= 2
    async with app.store.db.read() as session:
        good = await verify(session)
    assert good.broken_at is None and good.unsealed == 0
    async with app.store.db.transaction() as session:  # an insider rewrites who did it
        await session.execute(update(AuditEvent).where(AuditEvent.chain_seq == 2).values(actor_id="someone-else"))
    async with app.store.db.read() as session:
        bad = await verify(session)
    assert bad.broken_at == 2
    # new events after the tampering are sealed onto the chain as it stands; the break stays visible
    await add_file(app, "terminal", "auditor", filename="b.txt", data=b"y")
    async with app.store.db.transaction() as session:
        assert await seal(session) >= 1
    async with app.store.db.read() as session:
        assert (await verify(session)).broken_at == 2


def test_staff_withdraw_on_request(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'data' / 'intake.db'}")
    ref = submit_by_chat(env, "asks-to-withdraw")
    assert intake(["staff", "add", "root@example.org", "--role", "admin", "--password-stdin"], env, "correct horse battery staple 42\n").returncode == 0
    assert intake(["withdraw", ref, "--as", "root@example.org"], env).returncode == 2  # needs --yes
    done = intake(["withdraw", ref, "--as", "root@example.org", "--yes"], env)
    assert done.returncode == 0, done.stderr
    shown = intake(["review", "show", ref, "--json", "--as", "root@example.org"], env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    view = json.loads(shown.stdout)
    assert view["status"] == "withdrawn" and view["answers"] == {}
