"""Evidence copies without metadata: what a submitter sends is kept as received (sha256 recorded);
staff download a copy without EXIF/GPS or document authors; the original needs an admin."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from PIL import Image

from intake.app import App
from review.model import Forbidden
from review.service import Actor, ReviewService
from tests.review.conftest import make_case
from tests.support import reply
from tests.test_sanitise import GPS_IFD, _jpeg_with_gps, _pdf_with_author


async def test_staff_get_the_clean_copy_and_admins_the_original(app: App, review: ReviewService, alice: Actor, admin: Actor) -> None:
    ref = await make_case(app, "telegram", who="gps-sender")
    photo, pdf = _jpeg_with_gps(), _pdf_with_author()
    from intake.cases import IncomingFile

    await reply(app, "telegram", "gps-sender", "Two files", reference=ref, files=[
        IncomingFile(filename="boat.jpg", data=photo, source_key="p1"), IncomingFile(filename="contract.pdf", data=pdf, source_key="p2"),
    ])
    view = await review.show(ref, alice)
    files = {a["filename"] if isinstance(a, dict) else a.filename: a for a in view.attachments}
    jpg = files["boat.jpg"]
    jpg_id = jpg["id"] if isinstance(jpg, dict) else jpg.id
    record, cleaned = await review.download(ref, jpg_id, alice)
    assert record.sha256 == hashlib.sha256(photo).hexdigest()  # the evidence hash is of the original
    assert record.cleaned and "GPS" in record.removed
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not image.getexif().get_ifd(GPS_IFD) and image.size == (64, 48)
    with pytest.raises(Forbidden):
        await review.download(ref, jpg_id, alice, original=True)
    _, original = await review.download(ref, jpg_id, admin, original=True)
    assert original == photo
    pdf_entry = files["contract.pdf"]
    pdf_id = pdf_entry["id"] if isinstance(pdf_entry, dict) else pdf_entry.id
    _, clean_pdf = await review.download(ref, pdf_id, alice)
    with pikepdf.open(io.BytesIO(clean_pdf)) as doc:
        assert "/Author" not in doc.docinfo
    async with app.store.read() as uow:
        events = [(e.action, e.actor_id) for e in await uow.audit.for_case(record.case_id)]
    assert ("attachment.original_downloaded", admin.staff_id) in events and ("access.refused", alice.staff_id) in events
