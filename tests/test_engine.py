"""The pure engine: order, conditions, repeats, back/edit/skip/review/submit, notices."""

from __future__ import annotations

from intake import engine
from intake.engine import Answer, Choose, Command, Draft, Toggle
from intake.questionnaire import load_default
from tests.support import answer_for

Q = load_default()


def step(draft: Draft, action: engine.Action) -> Draft:
    outcome = engine.apply(Q, draft, action)
    assert outcome.ok, outcome.error
    return outcome.draft


def advance_to(draft: Draft, qid: str, *, limit: int = 400) -> Draft:
    """Answer with sample answers until the prompt is the question `qid`."""
    for _ in range(limit):
        prompt = engine.next_prompt(Q, draft)
        if prompt.question_id == qid and prompt.kind == "question":
            return draft
        draft = step(draft, answer_for(prompt))
    raise AssertionError(f"never reached {qid}")


def test_starts_with_safety_and_shows_progress() -> None:
    prompt = engine.next_prompt(Q, engine.start())
    assert prompt.question_id == "is_channel_safe"
    first_pass = [s for s in engine.walk(Q, engine.start()) if s.kind == "question"]
    assert prompt.progress == f"Essentials 1/{len(first_pass)}"
    assert [o.id for o in prompt.options] == ["yes", "no"]
    assert not prompt.can_skip and not prompt.can_back


def test_unsafe_channel_stops() -> None:
    outcome = engine.apply(Q, engine.start(), Choose("no"))
    assert outcome.stopped and outcome.draft.stopped
    assert outcome.notices and "safe" in outcome.notices[0].lower()
    assert engine.next_prompt(Q, outcome.draft).kind == "stopped"
    assert not engine.apply(Q, outcome.draft, Answer("hello")).ok


def test_immediate_danger_shows_referral_then_continues() -> None:
    draft = step(engine.start(), Choose("yes"))
    outcome = engine.apply(Q, draft, Choose("yes"))
    assert outcome.ok and outcome.notices
    assert engine.next_prompt(Q, outcome.draft).question_id == "org_name"


def test_invalid_answer_keeps_question_and_says_why() -> None:
    draft = advance_to(engine.start(), "org_country")
    outcome = engine.apply(Q, draft, Answer("Narnia"))
    assert not outcome.ok and "country" in (outcome.error or "")
    assert engine.next_prompt(Q, outcome.draft).question_id == "org_country"
    ok = engine.apply(Q, draft, Answer("ng"))
    assert ok.ok and ok.draft.answers["org_country"] == "NG"


def test_required_cannot_be_skipped_optional_can() -> None:
    draft = advance_to(engine.start(), "contact_email")
    refused = engine.apply(Q, draft, Command("skip"))
    assert not refused.ok and "required" in (refused.error or "")
    draft = step(draft, Answer("a@example.org"))
    assert engine.next_prompt(Q, draft).question_id == "consent_status"  # the first pass asks only the essentials
    draft = advance_to(draft, "contact_secure_channel")  # the details round of the organisation
    draft = step(draft, Command("skip"))
    assert draft.answers["contact_secure_channel"] is None
    assert engine.next_prompt(Q, draft).question_id == "partner_orgs"


def test_back_then_answer_returns_to_where_you_were() -> None:
    draft = advance_to(engine.start(), "contact_name")
    draft = step(draft, Command("back"))
    prompt = engine.next_prompt(Q, draft)
    assert prompt.question_id == "org_country" and prompt.current is not None  # the first pass: essentials only
    draft = step(draft, Answer("Kenya"))
    assert draft.answers["org_country"] == "KE"
    assert engine.next_prompt(Q, draft).question_id == "contact_name"


def test_keep_after_back() -> None:
    draft = advance_to(engine.start(), "contact_name")
    before = dict(draft.answers)
    draft = step(step(draft, Command("back")), Command("keep"))
    assert draft.answers == before and engine.next_prompt(Q, draft).question_id == "contact_name"


def test_conditions_follow_answers_and_edit_prunes() -> None:
    draft = advance_to(engine.start(), "consent_status")
    draft = step(draft, Choose("no"))
    assert engine.next_prompt(Q, draft).question_id != "consent_limits"
    draft = advance_to(draft, "identities_held")
    draft = step(draft, Choose("yes"))
    assert engine.next_prompt(Q, draft).question_id == "interview_possible"
    draft = step(draft, Choose(engine.next_prompt(Q, draft).options[0].id))
    assert "interview_possible" in draft.answers
    # edit identities_held to no: the dependent answer disappears
    draft = step(draft, Command("edit", "identities_held"))
    draft = step(draft, Choose("no"))
    assert "interview_possible" not in draft.answers
    # edited mid-way: the flow goes on where it was
    assert engine.next_prompt(Q, draft).question_id == "anonymised_ack"


def test_multi_choice_toggles_and_done() -> None:
    draft = advance_to(engine.start(), "source_basis")
    prompt = engine.next_prompt(Q, draft)
    first, third = prompt.options[0].id, prompt.options[2].id
    draft = step(draft, Toggle(third))
    draft = step(draft, Toggle(first))
    draft = step(draft, Toggle(third))
    draft = step(draft, Toggle(third))
    assert [o.id for o in engine.next_prompt(Q, draft).options if o.selected] == [first, third]
    draft = step(draft, Command("done"))
    assert draft.answers["source_basis"] == [first, third]


def test_required_multi_choice_needs_one() -> None:
    draft = advance_to(engine.start(), "source_basis")
    outcome = engine.apply(Q, draft, Command("done"))
    assert not outcome.ok and "at least one" in (outcome.error or "")


def test_repeat_groups_nested_and_add_another() -> None:
    draft = advance_to(engine.start(), "perp_kind")
    prompt = engine.next_prompt(Q, draft)
    assert prompt.path == "perpetrators.0.perp_kind" and prompt.instance_label == "Alleged perpetrator 1"
    draft = step(draft, Choose("person"))
    draft = step(draft, Answer("Ivan Example"))
    # person-only questions appear; company ones do not
    ids = {s.path[-1] for s in engine.slots(Q, draft)}
    assert "perp_dob" in ids and "ent_reg_number" not in ids
    # the first pass asks kind and name only, then whether there is another perpetrator: a company
    assert engine.next_prompt(Q, draft).path == "perpetrators"
    draft = step(draft, Choose("yes"))
    draft = step(draft, Choose("company"))
    ids = {s.path[-1] for s in engine.slots(Q, draft) if s.path[:2] == ("perpetrators", 1)}
    assert "ent_reg_number" in ids and "perp_dob" not in ids
    draft = step(draft, Answer("Example Fishing Ltd"))
    draft = step(draft, Choose("no"))
    # the details round of the perpetrators reaches the nested ID document group: two documents
    for _ in range(300):
        prompt = engine.next_prompt(Q, draft)
        if prompt.kind == "add" and prompt.path == "perpetrators.0.perp_id_docs":
            break
        draft = step(draft, answer_for(prompt))
    assert draft.round == "perpetrators"
    draft = step(draft, Choose("yes"))
    assert engine.next_prompt(Q, draft).path == "perpetrators.0.perp_id_docs.0.id_doc_type"
    for _ in range(20):
        prompt = engine.next_prompt(Q, draft)
        if prompt.kind == "add":
            break
        draft = step(draft, answer_for(prompt))
    assert engine.next_prompt(Q, draft).path == "perpetrators.0.perp_id_docs"
    draft = step(draft, Choose("yes"))
    assert engine.next_prompt(Q, draft).path == "perpetrators.0.perp_id_docs.1.id_doc_type"
    while engine.next_prompt(Q, draft).kind != "add":
        draft = step(draft, answer_for(engine.next_prompt(Q, draft)))
    draft = step(draft, Choose("no"))
    assert len(draft.answers["perpetrators"][0]["perp_id_docs"]) == 2
    # the round goes on to the second perpetrator's details: a company's
    for _ in range(60):
        prompt = engine.next_prompt(Q, draft)
        if prompt.path and prompt.path.startswith("perpetrators.1."):
            break
        draft = step(draft, answer_for(prompt))
    assert engine.next_prompt(Q, draft).question_id == "perp_name_native"


def test_group_max_is_respected() -> None:
    group = Q.items_by_id()["perpetrators"]
    draft = Draft(answers={"perpetrators": [{} for _ in range(group.max)]})  # type: ignore[union-attr]
    assert not any(s.kind == "add" and s.key == "perpetrators" for s in engine.slots(Q, draft))


def test_review_submit_and_missing() -> None:
    draft = engine.start()
    outcome = engine.apply(Q, draft, Command("submit"))
    assert not outcome.ok and "missing" in (outcome.error or "")
    draft = step(draft, Command("review"))
    prompt = engine.next_prompt(Q, draft)
    assert prompt.kind == "review" and prompt.missing
    draft = step(draft, Command("continue"))
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        draft = step(draft, answer_for(prompt))
    assert not prompt.missing and engine.missing(Q, draft) == []
    assert [s.title for s in prompt.summary][0] == "Safety"
    outcome = engine.apply(Q, draft, Command("submit"))
    assert outcome.ok and outcome.ready_to_submit


def test_edit_section_walks_the_section_then_returns_to_review() -> None:
    draft = engine.start()
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        draft = step(draft, answer_for(prompt))
    draft = step(draft, Command("edit", "overview"))
    assert engine.next_prompt(Q, draft).question_id == "case_title"
    draft = step(draft, Answer("Fishing fleet abuse"))
    assert engine.next_prompt(Q, draft).question_id == "case_summary"
    draft = step(draft, Command("keep"))
    draft = step(draft, Command("keep"))
    assert engine.next_prompt(Q, draft).kind == "review"
    assert draft.answers["case_title"] == "Fishing fleet abuse"


def test_edit_validates_like_the_first_answer() -> None:
    draft = engine.start()
    while (prompt := engine.next_prompt(Q, draft)).kind != "review":
        draft = step(draft, answer_for(prompt))
    draft = step(draft, Command("edit", "victims_count"))
    bad = engine.apply(Q, draft, Answer("many"))
    assert not bad.ok and draft.answers["victims_count"] == 12
    unknown = engine.apply(Q, draft, Command("edit", "no_such_question"))
    assert not unknown.ok


def test_optional_when_minors() -> None:
    draft = advance_to(engine.start(), "victims_minors")
    yes = next(o.id for o in engine.next_prompt(Q, draft).options if o.id == "yes")
    draft = step(draft, Choose(yes))
    draft = advance_to(draft, "means_used")
    assert engine.next_prompt(Q, draft).can_skip


def test_set_answer_is_the_same_validation() -> None:
    draft = engine.start()
    bad = engine.set_answer(Q, draft, ("org_country",), "Narnia")
    assert not bad.ok
    good = engine.set_answer(Q, draft, ("perpetrators", 0, "perp_name"), "Acme Ltd")
    assert good.ok and good.draft.answers["perpetrators"][0]["perp_name"] == "Acme Ltd"


def test_section_intro_on_first_question_only() -> None:
    draft = advance_to(engine.start(), "org_name")
    assert engine.next_prompt(Q, draft).intro == Q.sections[1].intro.get("en")  # type: ignore[union-attr]
    draft = step(draft, Answer("Org"))
    assert engine.next_prompt(Q, draft).intro is None


def test_set_answer_opens_the_next_group_instance_only() -> None:
    draft = engine.start()
    first = engine.set_answer(Q, draft, ("perpetrators", 0, "perp_name"), "Acme Ltd")
    assert first.ok
    second = engine.set_answer(Q, first.draft, ("perpetrators", 1, "perp_name"), "Second Person")
    assert second.ok and [p["perp_name"] for p in second.draft.answers["perpetrators"]] == ["Acme Ltd", "Second Person"]
    skipped = engine.set_answer(Q, second.draft, ("perpetrators", 5, "perp_name"), "Too far")
    assert not skipped.ok and not skipped.applies
    # a nested group opens only where it applies (ID documents are for persons)
    assert not engine.set_answer(Q, second.draft, ("perpetrators", 0, "perp_id_docs", 0, "id_doc_number"), "X1").applies
    person = engine.set_answer(Q, second.draft, ("perpetrators", 0, "perp_kind"), "person").draft
    doc = engine.set_answer(Q, person, ("perpetrators", 0, "perp_id_docs", 0, "id_doc_number"), "X1")
    assert doc.ok and doc.draft.answers["perpetrators"][0]["perp_id_docs"] == [{"id_doc_number": "X1"}]
