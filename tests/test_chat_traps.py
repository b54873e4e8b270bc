"""The terminal chat without traps, driven as a person would (`intake chat` as a subprocess):
pasted paragraphs stay one answer, back/edit/help do what they say, follow-ups tell commands from
replies, paths with `~` work, and the terminal never says a Telegram command."""

from __future__ import annotations

import json
from pathlib import Path

from intake import engine
from intake.questionnaire import FieldType, load_default
from tests.support import answer_for
from tests.test_cli import env_for, intake

Q = load_default()
STORY = "The recruiter promised hotel work in Dubai.\n\nOn arrival their passports were taken.\n\nThey worked 18 hours a day without pay."


def lines_with_a_pasted_story() -> tuple[list[str], str]:
    """Lines answering everything, the first long answer pasted as three paragraphs; and its path."""
    draft = engine.start()
    lines: list[str] = []
    story_path = ""
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        action = answer_for(prompt)
        if isinstance(action, engine.Choose):
            lines.append(str(next(i for i, o in enumerate(prompt.options, 1) if o.id == action.option)))
        elif isinstance(action, engine.Answer) and prompt.field_type == FieldType.LONG_TEXT:
            text = STORY if not story_path else action.text.replace("\n", " ")
            story_path = story_path or (prompt.path or "")
            lines.extend([*text.split("\n"), "."])
            action = engine.Answer(text)
        elif isinstance(action, engine.Answer):
            lines.append(action.text)
        else:
            assert isinstance(action, engine.Command)
            lines.append(f"/{action.name}")
        draft = engine.apply(Q, draft, action).draft
    return lines, story_path


def test_pasted_paragraphs_are_one_answer(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    lines, path = lines_with_a_pasted_story()
    done = intake(["chat", "--as", "paste"], env, "\n".join(lines) + "\n/submit\n")
    assert done.returncode == 0, done.stderr
    ref = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("REFERENCE "))
    assert "✗" not in done.stdout  # no paragraph spilled into the next questions as a wrong answer
    answers = json.loads(intake(["review", "show", ref, "--json"], env).stdout)["answers"]
    present, value = engine.get_value(answers, engine.parse_path(path))
    assert present and value == STORY


def test_back_edit_help_and_no_telegram_words(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    typed = ["1", "2", "Helping Hands", "Kenya", "Ann", "/back", "/back", "Kenya", "/review", "/edit 2.1", "Helping Hands NGO", "/help", "/quit"]
    done = intake(["chat", "--as", "nav"], env, "\n".join(typed) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # after /back and a new answer the flow goes on with the question after the one changed
    after_back = out.split("Current answer: Kenya", 1)[1]
    next_prompt = after_back.split("> ", 1)[1]
    shown = next_prompt.split("> ", 1)[0]
    assert "Who should we contact about this case?" in shown and "Current answer: Ann" in shown  # not the first unanswered
    assert "[2.1]" in out  # the review shows numbers that /edit takes
    assert "Current answer: Helping Hands" in out  # /edit 2.1 reopened the organisation's name
    assert "/edit — change an answer" in out  # /help lists the commands
    assert "/start" not in out


def test_follow_up_commands_are_not_replies(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    lines, _ = lines_with_a_pasted_story()
    first = intake(["chat", "--as", "asked"], env, "\n".join(lines) + "\n/submit\n")
    ref = next(line.split()[1] for line in first.stdout.splitlines() if line.startswith("REFERENCE "))
    assert intake(["staff", "add", "rev@example.org", "--role", "admin", "--password-stdin"], env, "correct horse battery staple 42\n").returncode == 0
    assert intake(["review", "status", ref, "in_review", "--as", "rev@example.org"], env).returncode == 0, "status"
    asked = intake(["review", "request-info", ref, "Which port did the boat leave from?", "--as", "rev@example.org"], env)
    assert asked.returncode == 0, asked.stderr
    quit_ = intake(["chat", "--as", "asked"], env, "/quit\n")
    assert "Which port did the boat leave from?" in quit_.stdout and "Your draft is saved" in quit_.stdout
    shown = json.loads(intake(["review", "show", ref, "--json"], env).stdout)
    assert shown["status"] == "needs_info"  # /quit was not sent to staff as the answer
    assert not [m for m in shown["thread"] if m["direction"] == "in"]
    answered = intake(["chat", "--as", "asked"], env, "From Port Example.\n.\n/quit\n")
    assert "back with our staff" in answered.stdout
    shown = json.loads(intake(["review", "show", ref, "--json"], env).stdout)
    assert shown["status"] == "submitted" and [m["body"] for m in shown["thread"] if m["direction"] == "in"] == ["From Port Example."]


def test_file_paths_with_a_tilde(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    home = tmp_path / "home"
    home.mkdir()
    (home / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 evidence")
    env["HOME"] = str(home)
    draft = engine.start()
    typed: list[str] = []
    while (prompt := engine.next_prompt(Q, draft)).field_type != FieldType.FILES:
        action = answer_for(prompt, add_more=False)
        if isinstance(action, engine.Choose):
            typed.append(str(next(i for i, o in enumerate(prompt.options, 1) if o.id == action.option)))
        elif isinstance(action, engine.Answer):
            typed.extend([action.text.replace("\n", " ")] + (["."] if prompt.field_type == FieldType.LONG_TEXT else []))
        else:
            assert isinstance(action, engine.Command)
            typed.append(f"/{action.name}")
        draft = engine.apply(Q, draft, action).draft
    done = intake(["chat", "--as", "tilde"], env, "\n".join([*typed, '/file "~/photo.jpg"', "/quit"]) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Saved photo.jpg" in done.stdout and "There is no file" not in done.stdout
