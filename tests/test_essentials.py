"""Essentials first, details later: the minimal path to a submitted case in at most 25 prompts,
details in rounds (one section at a time), submitting with the essentials only, and details added
after submission landing on the case with history — on the pure engine, through `receive` on a
real database, and through `intake chat` as a subprocess (prompts counted as a person sees them).

A *prompt* is one thing the submitter is asked and answers: a question, an "add another?", the
details-now-or-later choice, or the review's submit confirmation. In the terminal that is one
`> ` input prompt (a long answer's further lines are read at `. ` and belong to the same prompt).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from intake import engine, lifecycle
from intake.app import App
from intake.engine import Choose, Command, Draft
from intake.inbound import Inbound, Intent
from intake.questionnaire import FieldType, load_default
from tests.support import answer_for, give
from tests.test_cli import env_for, intake

Q = load_default()
LIMIT = 25
Decide = Callable[[engine.Prompt], engine.Action]


def minimal(prompt: engine.Prompt) -> engine.Action:
    """Answer only what is required; skip or decline everything else; details later."""
    if prompt.kind == "details":
        return Choose("later")
    if prompt.kind == "question" and prompt.can_skip:
        return Command("skip")
    return answer_for(prompt)


def rich(details: bool) -> Decide:
    """A rich case: three perpetrators, three evidence items, one place; every question asked is
    answered; the details now (`details`) or later."""
    wanted = {"perpetrators": 2, "evidence": 2}

    def decide(prompt: engine.Prompt) -> engine.Action:
        if prompt.kind == "add" and wanted.get(prompt.path or "", 0) > 0:
            wanted[prompt.path or ""] -= 1
            return Choose("yes")
        return answer_for(prompt, details=details)

    return decide


def drive(decide: Decide, draft: Draft | None = None) -> tuple[Draft, list[engine.Prompt]]:
    """Run the engine until the review with everything essential answered; the prompts shown."""
    draft = draft or engine.start()
    shown: list[engine.Prompt] = []
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        shown.append(prompt)
        outcome = engine.apply(Q, draft, decide(prompt))
        assert outcome.ok, (prompt.question_id, outcome.error)
        draft = outcome.draft
    shown.append(engine.next_prompt(Q, draft))  # the review: its submit confirmation
    return draft, shown


def typed(decide: Decide) -> list[str]:
    """The lines a person types in `intake chat` for the same decisions, ending with /submit."""
    draft = engine.start()
    lines: list[str] = []
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        action = decide(prompt)
        if isinstance(action, Choose):
            lines.append(str([o.id for o in prompt.options].index(action.option) + 1))
        elif isinstance(action, engine.Answer):
            lines.append(action.text.replace("\n", " "))
            action = engine.Answer(lines[-1])
            if prompt.field_type == FieldType.LONG_TEXT:
                lines.append(".")
        else:
            assert isinstance(action, Command)
            lines.append(f"/{action.name}")
        draft = engine.apply(Q, draft, action).draft
    return [*lines, "/submit"]


def prompts_in(stdout: str) -> int:
    """Input prompts the terminal showed (each `> ` at the start of a line)."""
    return len(re.findall(r"(?m)^> ", stdout))


# ---- the engine ---------------------------------------------------------------------------------


def test_minimal_path_is_at_most_25_prompts_and_asks_only_the_essentials() -> None:
    draft, shown = drive(minimal)
    assert len(shown) <= LIMIT, len(shown)
    first_pass = engine.first_pass_ids(Q)
    asked = [p for p in shown if p.kind in ("question", "add")]
    assert all(p.question_id in first_pass for p in asked), [p.question_id for p in asked if p.question_id not in first_pass]
    assert [p.kind for p in shown[-2:]] == ["details", "review"]
    total = len([p for p in asked if p.kind == "question"])
    assert shown[0].progress == f"Essentials 1/{total}" and shown[5].progress == f"Essentials 6/{total}"
    assert "Section" not in " ".join(p.progress for p in shown)
    assert engine.apply(Q, draft, Command("submit")).ready_to_submit
    assert not engine.essential_missing(Q, draft) and engine.details_missing(Q, draft)
    assert engine.phase(Q, draft) == "details"
    print(f"\nminimal path (engine): {len(shown)} prompts")


def test_submit_needs_the_essentials_only() -> None:
    draft, _ = drive(minimal)
    missing = {s.key for s in engine.missing(Q, draft)}
    assert "org_description" in missing and "evidence.0.ev_type" in missing  # details still wanted
    assert {s.key for s in engine.details_missing(Q, draft)} == missing
    gone = draft.model_copy(deep=True)
    gone.answers.pop("case_summary")
    refused = engine.apply(Q, gone, Command("submit"))
    assert not refused.ok and not refused.ready_to_submit and "Case summary" in (refused.error or "")
    review = engine.next_prompt(Q, draft)
    assert review.kind == "review" and not review.missing and review.details_left > review.details_required > 0
    helped = engine.apply(Q, draft, Command("help", "/"))
    assert "details" in [e.command for e in helped.help] and "\n/details — " in helped.notices[0]


def test_details_come_in_rounds_one_section_at_a_time() -> None:
    draft, _ = drive(minimal)
    refused = engine.apply(Q, engine.start(), Command("details"))
    assert not refused.ok and "essential" in (refused.error or "")
    draft = engine.apply(Q, draft, Command("details")).draft
    assert draft.round == "organisation"
    prompt = engine.next_prompt(Q, draft)
    assert prompt.question_id == "org_description" and prompt.progress.startswith("Details: Your organisation · ")
    left = int(prompt.progress.rsplit("· ", 1)[1].split()[0])
    seen = []
    while (prompt := engine.next_prompt(Q, draft)).kind == "question":
        seen.append(prompt.question_id)
        draft = engine.apply(Q, draft, answer_for(prompt)).draft
    assert len(seen) == left and prompt.kind == "details"
    assert "Consent" in prompt.text and [o.id for o in prompt.options] == ["details", "later"]
    assert engine.apply(Q, draft, Choose("later")).draft.mode == "review"
    # back from a round's first question reaches the answers before it
    draft = engine.apply(Q, draft, Choose("details")).draft
    assert draft.round == "consent" and engine.next_prompt(Q, draft).can_back


def test_rich_case_counts() -> None:
    _, full = drive(rich(True))
    _, later = drive(rich(False))
    assert len(later) <= LIMIT + 4  # two more perpetrators, two "add another?"
    print(f"\nrich case (engine): {len(full)} prompts with every detail now; {len(later)} with the essentials, details later")


# ---- through receive, on a real database ---------------------------------------------------------


async def test_details_after_submission_land_with_history(app: App) -> None:
    who = "ngo-details"
    turn = await app.cases.resume("terminal", who)
    while turn.prompt.kind != "review":
        turn = await app.cases.act("terminal", who, minimal(turn.prompt))
        assert turn.ok, turn.error
    turn = await app.cases.act("terminal", who, Command("submit"))
    assert turn.submitted and turn.reference
    reference = turn.reference
    assert await app.cases.details_wanted("terminal", who) == [(reference, len(engine.details_left(Q, drive(minimal)[0])))]

    started = await give(app, "terminal", who, Inbound(Intent.STEP, action=Command("details")))
    assert started.turn is not None and started.turn.amending and started.reference == reference
    assert started.turn.prompt.question_id == "org_description"
    current = await app.cases.current("terminal", who)
    assert current is not None and current.reference == reference  # the session is what the channel shows
    answered = await give(app, "terminal", who, Inbound(Intent.TEXT, text="A shelter for survivors of forced labour."))
    assert answered.turn is not None and answered.turn.prompt.question_id == "contact_secure_channel"
    done = await give(app, "terminal", who, Inbound(Intent.STEP, action=Command("review")))
    assert done.turn is not None and done.turn.details_done

    async with app.store.read() as uow:
        case = await uow.cases.by_reference(reference)
        assert case is not None and case.status == lifecycle.SUBMITTED
        assert case.draft["answers"]["org_description"] == "A shelter for survivors of forced labour."
        assert not case.draft["amending"]
        thread = [(m.kind, m.body) for m in await uow.messages.for_case(case.id)]
        audit = [e.action for e in await uow.audit.for_case(case.id)]
    assert ("details", "[org_description] About the organisation: A shelter for survivors of forced labour.") in thread
    assert "case.details_added" in audit
    # the session is over: a message now goes to the case thread, not into the answers
    after = await give(app, "terminal", who, Inbound(Intent.TEXT, text="One more thing."))
    assert after.threaded


# ---- through `intake chat` as a subprocess --------------------------------------------------------


def test_minimal_path_in_intake_chat_then_details_asked_by_staff(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    lines = typed(minimal)
    done = intake(["chat", "--as", "minimal"], env, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    ref = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("REFERENCE "))
    count = prompts_in(done.stdout)
    assert count <= LIMIT, count
    assert "[Essentials 1/" in done.stdout and "Section 1 of" not in done.stdout and "✗" not in done.stdout
    print(f"\nminimal path (intake chat): {count} prompts")
    shown = json.loads(intake(["review", "show", ref, "--json"], env).stdout)
    assert shown["status"] == "submitted" and "org_description" in shown["missing"]

    # staff ask for the details; the submitter answers a round later, in the same terminal
    assert intake(["staff", "add", "rev@example.org", "--role", "admin", "--password-stdin"], env, "correct horse battery staple 42\n").returncode == 0
    assert intake(["review", "status", ref, "in_review", "--as", "rev@example.org"], env).returncode == 0
    asked = intake(["review", "request-info", ref, "Please add the details: /details", "--reopen", "details", "--as", "rev@example.org"], env)
    assert asked.returncode == 0, asked.stderr
    later = intake(["chat", "--as", "minimal"], env, "/later\n/details\nA shelter for survivors.\n.\n/quit\n")
    assert later.returncode == 0, later.stderr
    assert f"Case {ref}: " in later.stdout and "details still wanted" in later.stdout
    assert "[Details: Your organisation · " in later.stdout
    resumed = intake(["chat", "--as", "minimal"], env, "/review\n/quit\n")  # the round resumes where it was left
    assert f"Details for case {ref}" in resumed.stdout and "Is there a more secure way to reach you?" in resumed.stdout
    assert f"Your details were added to case {ref}" in resumed.stdout
    shown = json.loads(intake(["review", "show", ref, "--json"], env).stdout)
    assert shown["answers"]["org_description"] == "A shelter for survivors."
    assert shown["status"] == "submitted"  # answered: back in the queue
    assert "org_description" not in shown["missing"]
    assert any(m["kind"] == "details" and "A shelter for survivors." in m["body"] for m in shown["thread"])


def test_rich_case_in_intake_chat(tmp_path: Path, db_url: str) -> None:
    env = env_for(tmp_path, db_url)
    counts = {}
    for name, details in (("rich-now", True), ("rich-later", False)):
        done = intake(["chat", "--as", name], env, "\n".join(typed(rich(details))) + "\n", timeout=180)
        assert done.returncode == 0, done.stderr
        assert "REFERENCE " in done.stdout and "✗" not in done.stdout
        counts[name] = prompts_in(done.stdout)
    assert counts["rich-later"] < counts["rich-now"]
    print(f"\nrich case (intake chat): {counts['rich-now']} prompts with every detail now; {counts['rich-later']} with the essentials, details later")
