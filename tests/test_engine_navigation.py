"""Back, edit and help that do what they say; blank answers that skip; places at sea in the flow."""

from __future__ import annotations

from collections.abc import Callable

from intake import engine
from intake.engine import Answer, Choose, Command, Draft, Prompt
from intake.questionnaire import load_default
from tests.support import answer_for
from tests.test_engine import advance_to, step

Q = load_default()


def until(draft: Draft, done: Callable[[Prompt], bool], *, limit: int = 400) -> Draft:
    for _ in range(limit):
        prompt = engine.next_prompt(Q, draft)
        if done(prompt):
            return draft
        draft = step(draft, answer_for(prompt))
    raise AssertionError("never reached")


def at(draft: Draft) -> str | None:
    return engine.next_prompt(Q, draft).question_id


def complete() -> Draft:
    return until(engine.start(), lambda p: p.kind == "review")


# ---- back ------------------------------------------------------------------------------------


def test_back_twice_then_answer_continues_after_the_changed_question() -> None:
    draft = advance_to(engine.start(), "contact_email")
    draft = step(step(draft, Command("back")), Command("back"))
    assert at(draft) == "org_country"  # the first pass: the essentials only
    draft = step(draft, Answer("Kenya"))
    # the next question is the one after the changed one, with its answer shown: not contact_email
    prompt = engine.next_prompt(Q, draft)
    assert prompt.question_id == "contact_name" and prompt.current == "Sample text contact_name"
    assert draft.answers["contact_name"] == "Sample text contact_name"  # nothing was overwritten
    draft = step(draft, Command("keep"))
    assert at(draft) == "contact_email"
    draft = step(draft, Answer("a@example.org"))
    assert at(draft) == "consent_status"
    # the same in a details round: back twice, a new answer, then the question after it
    draft = advance_to(draft, "partner_orgs")
    draft = step(step(draft, Command("back")), Command("back"))
    assert at(draft) == "contact_email"
    draft = step(draft, Answer("b@example.org"))
    assert at(draft) == "contact_secure_channel" and engine.next_prompt(Q, draft).current is not None


def test_back_and_a_changed_condition_asks_the_new_question_next() -> None:
    draft = advance_to(engine.start(), "identities_held")
    draft = step(draft, Choose("no"))
    assert at(draft) == "anonymised_ack"
    draft = step(step(draft, Command("back")), Choose("yes"))
    assert at(draft) == "interview_possible"
    draft = step(draft, Choose("maybe"))
    assert at(draft) == "anonymised_ack" and engine.next_prompt(Q, draft).current is None


def test_back_from_the_review_then_answer_returns_to_the_review() -> None:
    draft = step(complete(), Command("back"))
    assert at(draft) == "declaration"
    draft = step(draft, Choose("yes"))
    assert engine.next_prompt(Q, draft).kind == "review"


def test_skip_after_back_moves_on_one_question() -> None:
    draft = advance_to(engine.start(), "org_attribution")
    draft = step(step(draft, Command("back")), Command("back"))
    assert at(draft) == "contact_secure_channel"
    draft = step(draft, Command("skip"))
    assert at(draft) == "partner_orgs" and engine.next_prompt(Q, draft).current is not None


# ---- edit ------------------------------------------------------------------------------------


def test_review_lines_carry_short_numbers() -> None:
    draft = complete()
    sections = engine.summary(Q, draft)
    numbers = [line.number for s in sections for line in s.lines if line.number]
    assert len(numbers) == len(set(numbers))
    organisation = sections[1]
    assert [line.number for line in organisation.lines[:3]] == ["2.1", "2.2", "2.3"]
    assert organisation.lines[0].path == "org_name"
    headings = [line for s in sections for line in s.lines if not line.value]
    assert headings and all(line.number == "" for line in headings)  # "Alleged perpetrator 1" has none


def test_edit_by_number_label_id_and_section_title() -> None:
    draft = complete()
    for target in ("2.4", "contact name", "CONTACT NAME", "Contact n", "contact_name", "“Contact name”", "#2.4"):
        outcome = engine.apply(Q, draft, Command("edit", target))
        assert outcome.ok, (target, outcome.error)
        assert at(outcome.draft) == "contact_name" and outcome.draft.mode == "edit_one", target
    by_text = engine.apply(Q, draft, Command("edit", "Who should we contact about this case?"))
    assert at(by_text.draft) == "contact_name"
    section = engine.apply(Q, draft, Command("edit", "your organisation"))
    assert at(section.draft) == "org_name" and section.draft.mode == "edit_section"
    edited = step(engine.apply(Q, draft, Command("edit", "2.4")).draft, Answer("Ada"))
    assert edited.answers["contact_name"] == "Ada" and engine.next_prompt(Q, edited).kind == "review"


def test_edit_names_what_was_not_understood() -> None:
    draft = complete()
    unknown = engine.apply(Q, draft, Command("edit", "favourite colour"))
    assert not unknown.ok and "number shown in the review" in (unknown.error or "")
    wrong_number = engine.apply(Q, draft, Command("edit", "2.99"))
    assert not wrong_number.ok and "2.99" in (wrong_number.error or "")
    several = engine.apply(Q, draft, Command("edit", "contact"))  # Contact name, Contact email, Contact details
    assert not several.ok and "several questions" in (several.error or "") and "contact email" in (several.error or "")
    empty = engine.apply(Q, draft, Command("edit", "  "))
    assert not empty.ok and "2.3" in (empty.error or "")


def test_a_question_asked_in_each_instance_wants_its_number() -> None:
    draft = advance_to(engine.start(), "perp_kind")
    draft = until(draft, lambda p: p.kind == "add" and p.path == "perpetrators")
    draft = step(draft, Choose("yes"))
    draft = until(draft, lambda p: p.kind == "review")
    ambiguous = engine.apply(Q, draft, Command("edit", "Name"))
    assert not ambiguous.ok
    numbers = [line.number for s in engine.summary(Q, draft) for line in s.lines if line.path.endswith(".perp_name")]
    assert len(numbers) == 2 and all(n in (ambiguous.error or "") for n in numbers)
    second = engine.apply(Q, draft, Command("edit", numbers[1]))
    assert second.ok and engine.next_prompt(Q, second.draft).path == "perpetrators.1.perp_name"
    by_path = engine.apply(Q, draft, Command("edit", "perpetrators.1.perp_name"))
    assert engine.next_prompt(Q, by_path.draft).path == "perpetrators.1.perp_name"


# ---- help and wording ------------------------------------------------------------------------


def test_help_lists_the_commands_that_work_here() -> None:
    first = engine.apply(Q, engine.start(), Command("help"))
    assert first.ok and not first.changed and first.draft == engine.start()
    commands = [e.command for e in first.help]
    assert "back" not in commands and "skip" not in commands  # first question, required
    assert {"review", "edit", "submit", "help"} <= set(commands)
    optional = advance_to(engine.start(), "contact_secure_channel")
    assert "skip" in [e.command for e in engine.apply(Q, optional, Command("help")).help]
    multi = advance_to(engine.start(), "source_basis")
    out = engine.apply(Q, multi, Command("help", "/"))
    assert "done" in [e.command for e in out.help] and "back" in [e.command for e in out.help]
    assert "\n/back — " in out.notices[0] and "\n/done — " in out.notices[0]
    review = engine.apply(Q, complete(), Command("help"))
    assert "continue" in [e.command for e in review.help] and "\nedit — " in review.notices[0]


def test_no_channel_specific_words() -> None:
    stopped = engine.apply(Q, engine.start(), Choose("no")).draft
    texts = [engine.next_prompt(Q, stopped).text, engine.apply(Q, stopped, Answer("hi")).error or ""]
    texts += engine.apply(Q, complete(), Command("help")).notices
    assert texts[0] and all("/start" not in text and "/" not in text.split("(")[0] for text in texts)


# ---- blank answers ---------------------------------------------------------------------------


def _owner_share() -> Draft:
    draft = advance_to(engine.start(), "perp_kind")
    draft = step(draft, Choose("company"))
    draft = until(draft, lambda p: p.kind == "add" and p.path == "perpetrators.0.ent_owners")
    draft = step(step(draft, Choose("yes")), Answer("Owner One"))
    draft = step(draft, Command("skip"))
    assert at(draft) == "owner_share"
    return draft


def test_blank_answer_to_leave_blank_question_is_a_skip() -> None:
    draft = _owner_share()
    prompt = engine.next_prompt(Q, draft)
    assert prompt.blank_skips and prompt.can_skip
    skipped = step(draft, Answer("   "))
    assert skipped.answers["perpetrators"][0]["ent_owners"][0]["owner_share"] is None
    assert engine.next_prompt(Q, skipped).kind == "add"
    share = step(draft, Answer("51%"))
    assert share.answers["perpetrators"][0]["ent_owners"][0]["owner_share"] == 51
    bulk = engine.set_answer(Q, draft, ("perpetrators", 0, "ent_owners", 0, "owner_share"), "")
    assert bulk.ok and bulk.draft.answers["perpetrators"][0]["ent_owners"][0]["owner_share"] is None


def test_blank_answer_elsewhere_still_asks_for_one() -> None:
    required = engine.apply(Q, advance_to(engine.start(), "org_name"), Answer(""))
    assert not required.ok and required.error == "Please type an answer."
    optional = engine.apply(Q, advance_to(engine.start(), "contact_secure_channel"), Answer(""))
    assert not optional.ok and "skip" in (optional.error or "")
    assert not engine.next_prompt(Q, advance_to(engine.start(), "contact_secure_channel")).blank_skips


# ---- places at sea ---------------------------------------------------------------------------


def test_a_place_at_sea_needs_no_country() -> None:
    draft = until(engine.start(), lambda p: p.question_id == "loc_type")
    assert engine.next_prompt(Q, draft).path == "abuse_locations.0.loc_type"
    sea = step(draft, Choose("at_sea"))
    assert at(sea) == "loc_sea_area" and not engine.next_prompt(Q, sea).can_skip
    sea = step(sea, Answer("EEZ of Ghana"))
    prompt = engine.next_prompt(Q, sea)
    assert prompt.question_id == "loc_country" and prompt.can_skip
    sea = step(sea, Command("skip"))
    assert sea.answers["abuse_locations"][0] == {"loc_type": "at_sea", "loc_sea_area": {"kind": "eez", "country": "GH"}, "loc_country": None}
    land = step(draft, Choose("worksite"))
    assert at(land) == "loc_country" and not engine.next_prompt(Q, land).can_skip
    refused = engine.apply(Q, land, Command("skip"))
    assert not refused.ok
    # nothing required is missing for the place at sea
    done = until(sea, lambda p: p.kind == "review")
    assert engine.missing(Q, done) == []
