"""The queue paged by the database and the blind search index: order, counts and page boundaries,
filters, searches in several scripts, terms that follow every change (and go with a shred, a
withdrawal or a deleted draft, never made for a draft), and a page whose statement count does not
grow with the number of cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from intake.app import App
from intake.seeding import seed_cases
from review.search import reindex
from review.service import Actor, QueueFilter, ReviewService
from storage.models import Case, CaseTerm
from tests.review.conftest import make_case
from tests.support import fill_form, reply


async def refs(review: ReviewService, actor: Actor | None = None, **kw: Any) -> list[str]:
    return [i.reference for i in (await review.queue(QueueFilter(**kw), actor=actor)).items]


async def seed(app: App, n: int, start: int = 0) -> list[str]:
    """n cases, one minute apart (queue time order = seeding order)."""
    out = []
    for i in range(start, start + n):
        out += await seed_cases(app, 1, start=i)
        app.clock.advance(minutes=1)  # type: ignore[attr-defined]
    return out


async def terms_of(app: App, reference: str) -> int:
    async with app.store.read() as uow:
        case_id = await uow.session.scalar(select(Case.id).where(Case.reference == reference))
        return int(await uow.session.scalar(select(func.count()).select_from(CaseTerm).where(CaseTerm.case_id == case_id)) or 0)


# "gathered": every term is rare, its cases are gathered first; "walked": every term counts as common
# (RARE = 0), the cases are walked in queue order and probed, the total counted from the index rows
STRATEGIES = pytest.mark.parametrize("strategy", ["gathered", "walked"])


def use(strategy: str, monkeypatch: Any) -> None:
    import storage.queue_pages as pages_module

    if strategy == "walked":
        monkeypatch.setattr(pages_module, "RARE", 0)


@STRATEGIES
async def test_pages_in_order_with_counts_and_boundaries(app: App, review: ReviewService, alice: Actor, strategy: str, monkeypatch: Any) -> None:
    use(strategy, monkeypatch)
    made = await seed(app, 12)
    await review.set_status(alice, made[3], "in_review")
    await review.set_status(alice, made[4], "in_review")
    newest = list(reversed(made))
    pages = [await review.queue(QueueFilter(per_page=5, page=p)) for p in (1, 2, 3, 4)]
    assert [i.reference for p in pages for i in p.items] == newest
    assert [len(p.items) for p in pages] == [5, 5, 2, 0]
    assert all(p.total == 12 and p.pages == 3 for p in pages)
    assert pages[0].counts == {"submitted": 10, "in_review": 2}
    assert await refs(review, newest_first=False, per_page=4, page=2) == made[4:8]
    assert await refs(review, statuses=["in_review"]) == [made[4], made[3]]
    page = await review.queue(QueueFilter(statuses=["submitted"], per_page=3, page=4))
    assert page.total == 10 and [i.reference for i in page.items] == [made[0]]
    # facets: abuse form i % 4, country i % 7, minors i % 3, ongoing i % 2 (intake.seeding)
    assert await refs(review, abuse_forms=["debt_bondage"], newest_first=False) == [made[2], made[6], made[10]]
    assert await refs(review, abuse_forms=["debt_bondage", "sex_trafficking"], newest_first=False) == [made[i] for i in (2, 3, 6, 7, 10, 11)]
    assert await refs(review, country="ae", newest_first=False) == [made[1], made[8]]
    assert await refs(review, minors="yes", ongoing="no", newest_first=False) == [made[3], made[9]]
    assert await refs(review, consent="allowed", statuses=["in_review"]) == [made[4], made[3]]
    item = (await review.queue(QueueFilter(search="seed5x"))).items[0]
    assert item.reference == made[5] and item.abuse_forms == ["Domestic servitude"] and item.countries == ["QA"]


@STRATEGIES
async def test_search_in_several_scripts(app: App, review: ReviewService, strategy: str, monkeypatch: Any) -> None:
    use(strategy, monkeypatch)
    made = await seed(app, 20)  # words of case i: WORDS[i % 20] and WORDS[(7i + 3) % 20]
    assert await refs(review, search="ÉCOLE") == await refs(review, search="ecole") == [made[6], made[5]]
    assert await refs(review, search="Дубай") == await refs(review, search="ДУБАЙ") == [made[9], made[6]]
    assert await refs(review, search="مزرعة", newest_first=False) == [made[8], made[15]]
    assert await refs(review, search="مزرعة seed15x") == [made[15]]
    assert await refs(review, search='"seeded brick"') == [made[17], made[2]]  # a phrase matches as all its words
    assert await refs(review, search="kiln fishing") == []
    assert await refs(review, search="nowhere") == [] and await refs(review, search="  ") == await refs(review)
    page = await review.queue(QueueFilter(search="seeded", per_page=7, page=3))
    assert page.total == 20 and len(page.items) == 6
    assert await refs(review, search=made[11].lower()) == [made[11]]


async def test_terms_follow_changes_and_leave_with_the_content(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal", who="changer", answers={"case_title": "Sawmill near the river"})
    assert await refs(review, search="sawmill") == [ref]
    async with app.store.write() as uow:  # an answer changed after submission (staff edit, follow-up answer)
        case = await uow.cases.by_reference(ref, lock=True)
        assert case is not None
        case.draft["answers"]["case_title"] = "Tea estate"
        await uow.cases.save(case, now=app.clock())
    assert await refs(review, search="sawmill") == [] and await refs(review, search="estate") == [ref]
    await review.note(alice, ref, "Called the labour inspectorate")
    assert await refs(review, search="inspectorate") == [ref]
    assert await app.cases.withdraw("terminal", "changer", ref)
    assert await terms_of(app, ref) == 0 and await refs(review, search="estate") == []
    assert ref not in await refs(review)


async def test_drafts_are_never_indexed(app: App, review: ReviewService, alice: Actor, admin: Actor) -> None:
    await fill_form(app, "terminal", "drafter", {"case_title": "Unsubmitted saltpan"})
    async with app.store.read() as uow:
        draft_ref = await uow.session.scalar(select(Case.reference).where(Case.status == "draft"))
    assert draft_ref is not None and await terms_of(app, draft_ref) == 0
    assert await refs(review, admin, search="saltpan", statuses=["draft"]) == []
    assert await refs(review, admin, statuses=["draft"]) == [draft_ref]


async def test_reindex_builds_what_an_upgrade_lacks(app: App, review: ReviewService) -> None:
    made = await seed(app, 3)
    async with app.store.write() as uow:  # as after the migration: no terms, no search key
        await uow.session.execute(CaseTerm.__table__.delete())
        await uow.session.execute(Case.__table__.update().values(search_key=None))
    assert await refs(review, search="seeded") == []
    assert await reindex(app.store, batch=2) == 3
    assert await refs(review, search="seeded", newest_first=False) == made
    assert await reindex(app.store) == 0 and await reindex(app.store, force=True) == 3


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = app.store.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_page_costs_the_same_at_any_size(app: App, review: ReviewService, alice: Actor) -> None:
    async def cost(**kw: Any) -> int:
        with statements(app) as seen:
            await review.queue(QueueFilter(per_page=5, **kw), actor=alice)
        return len(seen)

    await seed_cases(app, 10)
    small = [await cost(), await cost(search="seeded"), await cost(abuse_forms=["forced_labour"], order="needs"), await cost(order="ready")]
    await seed_cases(app, 40, start=10)
    assert [await cost(), await cost(search="seeded"), await cost(abuse_forms=["forced_labour"], order="needs"), await cost(order="ready")] == small
    assert small[0] <= 8, small


async def test_needs_order_follows_the_thread(app: App, review: ReviewService, alice: Actor) -> None:
    first = await make_case(app, "telegram", who="tg-needs", answers={"immediate_danger": "no"})
    app.clock.advance(hours=1)  # type: ignore[attr-defined]
    second = await make_case(app, "terminal", who="needs-2", answers={"immediate_danger": "no"})
    assert await refs(review, alice, order="needs") == [first, second]  # the longest waiting first
    await review.request_info(alice, second, "Which port?")
    app.clock.advance(hours=1)  # type: ignore[attr-defined]
    await reply(app, "terminal", "needs-2", "Mombasa", reference=second)
    assert await refs(review, alice, order="needs") == [second, first]  # a new reply comes first
    await review.note(alice, second, "noted")  # an internal note does not answer the submitter
    assert await refs(review, alice, order="needs") == [second, first]
    await review.request_info(alice, second, "And the boat?")  # our answer: no new reply any more
    assert await refs(review, alice, order="needs") == [first, second]
    app.clock.advance(hours=1)  # type: ignore[attr-defined]
    danger = await make_case(app, "terminal", who="needs-3", answers={"immediate_danger": "yes"})
    assert (await refs(review, alice, order="needs"))[0] == danger


async def test_the_total_is_counted_up_to_a_bound(app: App, review: ReviewService, monkeypatch: Any) -> None:
    """Past the bound (ten pages ahead, at least COUNT_BOUND) the count stops: "N+" and a next page,
    so a page does not walk every match of a broad filter."""
    import review.queue as queue_module
    import storage.queue_pages as pages_module

    monkeypatch.setattr(pages_module, "COUNT_BOUND", 3)
    monkeypatch.setattr(queue_module, "COUNT_BOUND", 3)
    made = await seed(app, 14)
    first = await review.queue(QueueFilter(per_page=1, page=1))
    assert (first.total, first.more, first.total_text, first.pages) == (10, True, "10+", 10)
    assert [i.reference for i in first.items] == [made[-1]]
    later = await review.queue(QueueFilter(per_page=1, page=5))  # the bound moves with the page
    assert (later.total, later.more) == (14, False) and [i.reference for i in later.items] == [made[-5]]
    whole = await review.queue(QueueFilter(per_page=5, page=1))  # ten pages of five cover all 14: exact
    assert (whole.total, whole.more, whole.to_dict()["more"]) == (14, False, False)
    # the counts per status stop at the bound too (the status index is not walked to its end)
    assert first.counts == {"submitted": 4} and first.count_text("submitted") == "3+" and first.to_dict()["counts_bound"] == 3
    monkeypatch.setattr(pages_module, "RARE", 0)  # a common term: the total is counted from its index rows, up to the bound
    facet = await review.queue(QueueFilter(per_page=1, page=1, abuse_forms=["forced_labour", "debt_bondage"]))
    assert (facet.total, facet.more) == (7, False) and await refs(review, per_page=1, search="seeded") == [made[-1]]
    assert (await review.queue(QueueFilter(per_page=1, page=1, search="seeded"))).total_text == "10+"
