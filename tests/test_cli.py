"""The console script end to end, as subprocesses: `intake chat`, `intake review`, `intake run`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from intake import app as core
from intake import engine
from intake.questionnaire import FieldType, load_default
from tests.conftest import TEST_KEY
from tests.support import answer_for

Q = load_default()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        INTAKE_ENV="development",
        INTAKE_DATA_DIR=str(tmp_path / "data"),
        INTAKE_DATABASE_URL=db_url,
        INTAKE_SECRET_KEYS=TEST_KEY,
        INTAKE_HTTP_PORT=str(free_port()),
        INTAKE_SMTP_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    return env


def intake(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake", *args], input=stdin, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def scripted_lines() -> tuple[list[str], dict[str, object]]:
    """What a person would type to answer everything, computed with the same engine, and the
    answers the engine stores for it."""
    draft = engine.start()
    lines: list[str] = []
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        action = answer_for(prompt)
        if isinstance(action, engine.Choose):
            lines.append(str([o.id for o in prompt.options].index(action.option) + 1))
        elif isinstance(action, engine.Answer):
            lines.append(action.text.replace("\n", " "))
            action = engine.Answer(lines[-1])
            if prompt.field_type == FieldType.LONG_TEXT:
                lines.append(".")  # long answers end with a line with only a full stop
        else:
            assert isinstance(action, engine.Command)
            lines.append(f"/{action.name}")
        outcome = engine.apply(Q, draft, action)
        assert outcome.ok, outcome.error
        draft = outcome.draft
    return lines, draft.answers


def test_chat_end_to_end_then_review_show(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    lines, expected = scripted_lines()
    half = len(lines) // 2
    first = intake(["chat", "--as", "ngo-worker"], env, "\n".join(lines[:half]) + "\n/quit\n")
    assert first.returncode == 0, first.stderr
    assert "Your draft is saved" in first.stdout
    # a new process resumes where the first stopped
    second = intake(["chat", "--as", "ngo-worker"], env, "\n".join(lines[half:]) + "\n/review\n/submit\n")
    assert second.returncode == 0, second.stderr
    refs = [line.split()[1] for line in second.stdout.splitlines() if line.startswith("REFERENCE ")]
    assert len(refs) == 1, second.stdout[-2000:]
    ref = refs[0]
    assert "✗" not in second.stdout  # no answer was refused

    listed = intake(["review", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    queue = json.loads(listed.stdout)
    assert [c["reference"] for c in queue] == [ref]
    assert queue[0]["answers"] == expected  # machine-readable listing carries every answer

    shown = intake(["review", "show", ref, "--json"], env)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["status"] == "submitted" and view["answers"] == expected
    assert view["missing"] == []
    section_titles = [s["title"] for s in view["sections"]]
    assert section_titles[0] == "Safety" and len(section_titles) == len(Q.sections)
    labels = {a["label"] for s in view["sections"] for a in s["answers"]}
    assert Q.questions()["org_name"].short("en") in labels
    assert any(e["action"] == "case.submitted" for e in view["audit"])


def test_chat_refuses_bad_answers_in_plain_words(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    out = intake(["chat", "--as", "x"], env, "1\n2\nOrg\nNarnia\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert "I do not know the country “Narnia”" in out.stdout


def test_questionnaire_show_json(tmp_path: Path, db_url: str) -> None:
    out = intake(["questionnaire", "show", "--json"], env_for(tmp_path, db_url))
    data = json.loads(out.stdout)
    assert len(data["sections"]) == len(Q.sections)
    perps = next(i for i in data["sections"][4]["items"] if i["id"] == "perpetrators")
    assert perps["kind"] == "group" and perps["min"] == 1


def test_run_starts_migrates_and_stops_on_ctrl_c(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    env.pop("INTAKE_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "waiting for Ctrl-C" in line or "started" in line:
                time.sleep(1.5)
                break
        head = ScriptDirectory.from_config(core.alembic_config(db_url)).get_current_head()
        assert any(f"database at revision {head}" in s for s in seen), "".join(seen)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    assert proc.returncode == 0, output
    assert "stopped" in output
    assert "Traceback" not in output


def test_production_refuses_to_start(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    env.update(INTAKE_ENV="production", INTAKE_HTTP_HOST="0.0.0.0")
    del env["INTAKE_SECRET_KEYS"]
    out = intake(["run"], env, timeout=30)
    assert out.returncode == 2
    assert "Refusing to start" in out.stderr and "INTAKE_SECRET_KEYS" in out.stderr and "INTAKE_MAIL_ADDRESS" in out.stderr
