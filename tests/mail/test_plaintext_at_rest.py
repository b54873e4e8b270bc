"""Nothing readable at rest, checked as an adversary reading the disk would: a real email through
SMTP (body, subject, sender, attachment name and content), and the staff side's note, follow-up
and decision reason — each with a unique marker — are searched for in the database files (the
WAL too) and the blob store, and in every row as text on PostgreSQL."""

from __future__ import annotations

from intake.app import App
from intake.settings import Settings
from review.auth import AuthService
from review.service import Actor, ReviewService
from tests.blob_support import stored_blobs
from tests.mail.conftest import Harness
from tests.mail.support import message
from tests.review.conftest import PASSWORD, cheap_hasher, make_case
from tests.test_storage import all_database_bytes

MARKERS = {
    "body": "Quokka-Body-7731 the overseer at the Kestrel quarry",
    "subject": "Quokka-Subject-5512",
    "sender": "quokka-sender-9904@ngo-example.org",
    "filename": "Quokka-Filename-2290.pdf",
    "file": "Quokka-FileContent-4471",
    "note": "Quokka-Note-3318 call the harbour master",
    "followup": "Quokka-Followup-6620 which boat left first?",
    "reason": "Quokka-Reason-8843 corroborated by two partners",
}


async def test_no_marker_is_readable_on_disk(mail: Harness, app: App, settings: Settings) -> None:
    raw, _ = message(
        MARKERS["body"], subject=MARKERS["subject"], sender=MARKERS["sender"],
        attachments=[(MARKERS["filename"], "application/pdf", f"%PDF-1.4 {MARKERS['file']}".encode() * 20)],
    )
    result = await mail.send(raw, mail_from=MARKERS["sender"])
    assert result.data == 250
    stored = await all_database_bytes(app, settings)  # as it waits in the inbox, before it is processed
    assert not [name for name in ("body", "subject", "sender", "filename", "file") if MARKERS[name].encode() in stored]
    await mail.pump()
    async with app.store.read() as uow:
        assert (await uow.inbox.counts()).get("done") == 1

    auth = AuthService(app.store, clock=app.clock, hasher=cheap_hasher())
    staff = await auth.add_staff("reviewer@example.org", PASSWORD, "admin")
    actor = Actor(staff.id, staff.email, staff.role, "127.0.0.1")
    review = ReviewService(app.store, app.questionnaire, clock=app.clock)
    ref = await make_case(app, "email", who="another-ngo@example.org")
    await review.claim(actor, ref)
    await review.note(actor, ref, MARKERS["note"])
    await review.request_info(actor, ref, MARKERS["followup"])
    await review.set_status(actor, ref, "in_review")
    await review.decide(actor, ref, "escalated", MARKERS["reason"])

    blobs = b"".join((await stored_blobs(app)).values())
    everything = await all_database_bytes(app, settings) + blobs
    found = {name for name, marker in MARKERS.items() if marker.encode() in everything or marker.lower().encode() in everything.lower()}
    assert found == set(), f"readable at rest: {sorted(found)}"
