"""The queue: column filters, answer filters and full-text search over the blind index in the database."""

from __future__ import annotations

from intake.app import App
from review.search import normalise, terms
from review.service import Actor, QueueFilter, ReviewService
from tests.review.conftest import make_case
from tests.support import reply


def test_terms_and_normalise() -> None:
    assert terms('Acme "forced labour"  ÉCOLE') == ["acme", "forced labour", "ecole"]
    assert normalise("Ärzte İstanbul") == "arzte istanbul"


async def test_filters_and_search(app: App, review: ReviewService, alice: Actor) -> None:
    a = await make_case(app, "telegram", answers={"case_title": "Fishing fleet Zanzibar", "abuse_forms": "Forced labour",
                                                   "abuse_locations.0.loc_country": "Philippines", "victims_minors": "no",
                                                   "abuse_ongoing": "no"})
    app.clock.advance(minutes=1)  # type: ignore[attr-defined]
    b = await make_case(app, "email", answers={"case_title": "Домашнее рабство в Дубае", "abuse_forms": "Domestic servitude",
                                                "abuse_locations.0.loc_country": "AE", "victims_minors": "yes", "abuse_ongoing": "yes",
                                                "case_summary": "Maids kept by the Acme agency"})
    app.clock.advance(minutes=1)  # type: ignore[attr-defined]
    c = await make_case(app, "terminal", answers={"victims_minors": "unknown", "abuse_ongoing": "unknown"})
    await review.claim(alice, c)
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(a)
        assert case is not None
        await uow.attachments.add(case_id=case.id, filename="x.jpg", data=b"jpg", now=app.clock(), source="telegram")

    async def refs(**kw: object) -> list[str]:
        page = await review.queue(QueueFilter(**kw), actor=alice)  # type: ignore[arg-type]
        return [i.reference for i in page.items]

    assert await refs() == [c, b, a]
    assert await refs(newest_first=False) == [a, b, c]
    assert await refs(statuses=["in_review"]) == [c]
    assert await refs(channels=["telegram"]) == [a]
    assert await refs(abuse_forms=["domestic_servitude"]) == [b]
    assert await refs(country="ph") == [a]
    assert await refs(minors="yes") == [b]
    assert await refs(ongoing="no") == [a]
    assert await refs(assigned="me") == [c]
    assert await refs(assigned="unassigned") == [b, a]
    assert await refs(has_attachments=True) == [a]
    assert await refs(has_attachments=False) == [c, b]
    assert await refs(search="zanzibar") == [a]
    assert await refs(search="дубае") == [b]
    assert await refs(search='"acme agency"') == [b]
    assert await refs(search="acme zanzibar") == []
    assert await refs(search="Philippines") == [a]  # display values (country names, option texts) are searchable
    assert await refs(search=b.lower()) == [b]
    page = await review.queue(QueueFilter(per_page=2, page=2), actor=alice)
    assert [i.reference for i in page.items] == [a] and page.total == 3 and page.pages == 2
    assert page.counts == {"submitted": 2, "in_review": 1}
    item = (await review.queue(QueueFilter(search="zanzibar"))).items[0]
    assert item.abuse_forms == ["Forced labour"] and item.countries == ["PH"] and item.attachments == 1 and item.channel == "telegram"


async def test_index_follows_changes_and_destroyed_keys(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, answers={"case_title": "Brick kiln"})
    assert len((await review.queue(QueueFilter(search="kiln"))).items) == 1
    ref2 = await make_case(app, answers={"case_title": "Garment factory"})
    # a change bumps the version: the index re-decrypts only that case
    await review.set_status(alice, ref2, "in_review")
    await review.decide(alice, ref2, "declined", "Tannery in the reason")
    assert [i.reference for i in (await review.queue(QueueFilter(search="tannery"))).items] == [ref2]
    # crypto-shredding a case removes it from search
    async with app.store.write() as uow:
        case = await uow.cases.by_reference(ref)
        assert case is not None
        await uow.cases.destroy_content(case.id, now=app.clock())
    assert (await review.queue(QueueFilter(search="kiln"))).items == []


async def test_no_word_is_written_in_the_clear(app: App, review: ReviewService) -> None:
    await make_case(app, answers={"case_title": "Unique marker qwertyzzz"})
    assert len((await review.queue(QueueFilter(search="qwertyzzz"))).items) == 1
    for path in app.settings.data_dir.parent.rglob("*"):  # the SQLite file, its WAL, blobs, keys
        if path.is_file():
            assert b"qwertyzzz" not in path.read_bytes(), path


async def test_search_covers_the_thread_and_notes(app: App, review: ReviewService, alice: Actor) -> None:
    ref = await make_case(app, "terminal", who="thread-searcher")
    assert (await review.queue(QueueFilter(search="quarry"))).items == []
    await review.note(alice, ref, "Cross-check with the quarry inspection report")
    assert [i.reference for i in (await review.queue(QueueFilter(search="quarry"))).items] == [ref]
    await review.set_status(alice, ref, "in_review")
    await review.request_info(alice, ref, "Who owns the boats?")
    await reply(app, "terminal", "thread-searcher", "The harbourmaster Oleksandr owns them", reference=ref)
    assert [i.reference for i in (await review.queue(QueueFilter(search="oleksandr"))).items] == [ref]


async def test_filter_by_what_the_submitter_allowed(app: App, review: ReviewService) -> None:
    refused = await make_case(app, "terminal", answers={"consent_status": "No"})
    allowed = await make_case(app, "terminal", answers={"consent_status": "Yes, in writing"})
    assert [i.reference for i in (await review.queue(QueueFilter(consent="refused"))).items] == [refused]
    assert [i.reference for i in (await review.queue(QueueFilter(consent="allowed"))).items] == [allowed]
