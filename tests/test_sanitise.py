"""Cleaned evidence copies: every fixture is built here with the real libraries, cleaned, and re-read."""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import zipfile
import zlib

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageStat, TiffImagePlugin

from intake.sanitise import Cleaned, clean_copy

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Witness"/></rdf:RDF></x:xmpmeta>'


def _exif(*, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[0x9003] = "2026:11:01 10:00:00"  # DateTimeOriginal
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    return exif


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.new("RGB", size)
    image.putdata([(x * 255 // size[0], y * 255 // size[1], 128) for y in range(size[1]) for x in range(size[0])])
    return image.convert(mode)


def _jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    _gradient(size).save(out, format="JPEG", exif=_exif(orientation=orientation), comment=b"taken by Jane", xmp=XMP, quality=95)
    return out.getvalue()


def _assert_unchanged(result: Cleaned, data: bytes, kind: str) -> None:
    assert result.data is data and result.changed is False and result.removed == [] and result.kind == kind and result.reason


def test_jpeg_loses_exif_gps_xmp_and_comment_and_keeps_its_pixels() -> None:
    data = _jpeg_with_gps()
    before = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(GPS_IFD) and original.info.get("xmp")

    result = clean_copy(data, filename="IMG_0001.JPG", sniffed_type="image/jpeg")

    assert hashlib.sha256(data).hexdigest() == before
    assert result.changed and result.kind == "jpeg"
    assert {"EXIF", "GPS", "XMP", "comments and text"} <= set(result.removed)
    assert b"SecretCam" not in result.data and b"Jane" not in result.data and b"Exif" not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.format == "JPEG" and cleaned.size == (64, 48)
        exif = cleaned.getexif()
        assert len(exif) == 0 and not exif.get_ifd(GPS_IFD) and not exif.get_ifd(EXIF_IFD)
        assert "xmp" not in cleaned.info and "comment" not in cleaned.info and "icc_profile" not in cleaned.info
        # Same picture: the mean colour survives re-encoding at quality 90.
        with Image.open(io.BytesIO(data)) as original:
            assert max(abs(a - b) for a, b in zip(_mean(original), _mean(cleaned), strict=True)) < 3


def _mean(image: Image.Image) -> list[float]:
    return list(ImageStat.Stat(image.convert("RGB")).mean)


def test_jpeg_orientation_is_applied_not_kept() -> None:
    result = clean_copy(_jpeg_with_gps(size=(64, 48), orientation=6), filename="photo.jpg", sniffed_type=None)
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (48, 64)  # rotated 90° as a viewer would show it
        assert 0x0112 not in cleaned.getexif()


def test_png_loses_text_exif_and_icc_and_keeps_transparency() -> None:
    from PIL import ImageCms, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Witness")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    _gradient((40, 30), "RGBA").save(out, format="PNG", pnginfo=text, exif=_exif(), icc_profile=icc)

    result = clean_copy(out.getvalue(), filename="scan.png", sniffed_type="image/png")

    assert result.kind == "png" and {"EXIF", "GPS", "XMP", "ICC profile", "comments and text"} <= set(result.removed)
    assert b"Jane" not in result.data and b"SecretCam" not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (40, 30) and cleaned.mode == "RGBA"
        assert not cleaned.info.get("icc_profile") and not cleaned.getexif() and not getattr(cleaned, "text", {})


@pytest.mark.parametrize(("fmt", "kind", "mime"), [("WEBP", "webp", "image/webp"), ("HEIF", "heic", "image/heic")])
def test_webp_and_heic_lose_exif_and_xmp(fmt: str, kind: str, mime: str) -> None:
    out = io.BytesIO()
    _gradient((64, 48)).save(out, format=fmt, exif=_exif().tobytes(), xmp=XMP)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(GPS_IFD)

    result = clean_copy(data, filename=f"x.{kind}", sniffed_type=mime)

    assert result.changed and result.kind == kind and {"EXIF", "GPS"} <= set(result.removed)
    assert b"SecretCam" not in result.data and b"Jane" not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (64, 48) and len(cleaned.getexif()) == 0 and not cleaned.info.get("xmp")


def test_tiff_loses_artist_and_exif() -> None:
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[315] = "Jane Witness"  # Artist
    ifd[271] = "SecretCam"  # Make
    out = io.BytesIO()
    _gradient((32, 32)).save(out, format="TIFF", tiffinfo=ifd)

    result = clean_copy(out.getvalue(), filename="scan.tif", sniffed_type="image/tiff")

    assert result.kind == "tiff" and "EXIF" in result.removed
    assert b"Jane" not in result.data and b"SecretCam" not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (32, 32) and 315 not in cleaned.getexif() and 271 not in cleaned.getexif()


def test_animated_webp_is_refused_rather_than_cut_to_one_frame() -> None:
    out = io.BytesIO()
    frames = [_gradient((16, 16)), Image.new("RGB", (16, 16), "red")]
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:])
    data = out.getvalue()
    _assert_unchanged(clean_copy(data, filename="a.webp", sniffed_type="image/webp"), data, "unsupported")


def _pdf_with_author() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 720 Td (Hello evidence) Tj ET")
    comment = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[72, 600, 92, 620], T="Jane Witness", Contents="see page 2"
    )
    field = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, Rect=[72, 500, 272, 520], T="victim_name"
    )
    field = pdf.make_indirect(field)
    page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(comment), field]))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Jane Witness"]
    pdf.docinfo["/Author"] = "Jane Witness"
    pdf.docinfo["/Producer"] = "SecretWriter 1.0"
    pdf.docinfo["/CreationDate"] = "D:20261101100000Z"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _page_text(pdf: pikepdf.Pdf) -> list[str]:
    return [str(instruction.operands[0]) for instruction in pikepdf.parse_content_stream(pdf.pages[0]) if str(instruction.operator) == "Tj"]


def test_pdf_loses_info_and_xmp_and_keeps_its_text() -> None:
    data = _pdf_with_author()
    before = hashlib.sha256(data).hexdigest()

    result = clean_copy(data, filename="report.pdf", sniffed_type="application/pdf")

    assert hashlib.sha256(data).hexdigest() == before
    assert result.changed and result.kind == "pdf"
    assert {"PDF Info author", "PDF Info producer", "PDF Info dates", "PDF XMP", "PDF annotation authors"} <= set(result.removed)
    assert b"Jane" not in result.data and b"SecretWriter" not in result.data
    with pikepdf.open(io.BytesIO(result.data)) as cleaned:
        assert "/Info" not in cleaned.trailer or "/Author" not in cleaned.docinfo
        assert "/Metadata" not in cleaned.Root
        assert _page_text(cleaned) == ["Hello evidence"]
        comment, field = cleaned.pages[0].Annots
        assert str(comment.T) == "Anonymous" and str(comment.Contents) == "see page 2"
        assert str(field.T) == "victim_name"  # a form field's name is not a person


def test_encrypted_pdf_is_returned_unchanged() -> None:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(_pdf_with_author())) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="user"))
    data = out.getvalue()
    _assert_unchanged(clean_copy(data, filename="locked.pdf", sniffed_type="application/pdf"), data, "unsupported")


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>Jane Witness</dc:creator><cp:lastModifiedBy>John Editor</cp:lastModifiedBy><cp:revision>7</cp:revision>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-01T10:00:00Z</dcterms:created></cp:coreProperties>'
)
APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Company>Secret NGO</Company><Template>Normal.dotm</Template><TotalTime>42</TotalTime></Properties>"
)
DOCUMENT = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'
    "<w:p><w:r><w:t>The factory kept our passports.</w:t></w:r></w:p>"
    '<w:p><w:ins w:id="1" w:author="John Editor" w:date="2026-11-02T10:00:00Z"><w:r><w:t>Added later.</w:t></w:r></w:ins></w:p>'
    "</w:body></w:document>"
)
COMMENTS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments xmlns:w="{W}">'
    '<w:comment w:id="0" w:author="Jane Witness" w:initials="JW"><w:p><w:r><w:t>check dates</w:t></w:r></w:p></w:comment></w:comments>'
)


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = b"made by Jane"
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
        archive.writestr("word/document.xml", DOCUMENT)
        archive.writestr("word/comments.xml", COMMENTS)
        archive.writestr("docProps/core.xml", CORE)
        archive.writestr("docProps/app.xml", APP)
        archive.writestr("word/media/image1.png", b"\x89PNG not really")
        archive.writestr("word/media/image2.jpeg", _jpeg_with_gps())
    return out.getvalue()


def test_docx_loses_core_app_and_people_and_keeps_its_text() -> None:
    data = _docx()
    before = hashlib.sha256(data).hexdigest()

    result = clean_copy(data, filename="statement.docx", sniffed_type="application/zip")

    assert hashlib.sha256(data).hexdigest() == before
    assert result.changed and result.kind == "docx"
    assert result.removed == [
        "zip comment",
        "Office comment and revision authors",
        "Office core properties",
        "Office app properties",
        "Office embedded image metadata",
    ]
    with zipfile.ZipFile(io.BytesIO(result.data)) as cleaned:
        assert cleaned.namelist() == [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/document.xml",
            "word/comments.xml",
            "docProps/core.xml",
            "docProps/app.xml",
            "word/media/image1.png",
            "word/media/image2.jpeg",
        ]
        assert cleaned.comment == b"" and all(member.date_time == (1980, 1, 1, 0, 0, 0) for member in cleaned.infolist())
        everything = b"".join(cleaned.read(name) for name in cleaned.namelist())
        for secret in (b"Jane", b"John", b"Secret NGO", b"JW", b"2026-11-01", b"SecretCam"):
            assert secret not in everything
        assert b"The factory kept our passports." in cleaned.read("word/document.xml")
        assert b"Added later." in cleaned.read("word/document.xml") and b"check dates" in cleaned.read("word/comments.xml")
        assert cleaned.read("word/media/image1.png") == b"\x89PNG not really"  # unreadable picture: copied as it is
        with Image.open(io.BytesIO(cleaned.read("word/media/image2.jpeg"))) as photo:
            assert photo.size == (64, 48) and not photo.getexif().get_ifd(GPS_IFD)
        assert b"Anonymous" in cleaned.read("word/comments.xml")


def test_core_properties_are_found_where_the_package_relationships_point() -> None:
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="/meta/props.xml"/>'
        "</Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", DOCUMENT)
        archive.writestr("meta/props.xml", CORE)

    result = clean_copy(out.getvalue(), filename="odd.docx", sniffed_type=None)

    assert "Office core properties" in result.removed
    with zipfile.ZipFile(io.BytesIO(result.data)) as cleaned:
        assert b"Jane" not in cleaned.read("meta/props.xml") and b"coreProperties" in cleaned.read("meta/props.xml")


def test_zip_that_is_not_office_is_unsupported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    data = out.getvalue()
    _assert_unchanged(clean_copy(data, filename="notes.zip", sniffed_type="application/zip"), data, "unsupported")


def test_office_part_with_a_doctype_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><w:comments xmlns:w="x">&lol2;</w:comments>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", DOCUMENT)
        archive.writestr("word/comments.xml", bomb)
    data = out.getvalue()
    result = clean_copy(data, filename="x.docx", sniffed_type=None)
    assert result.data is data and not result.changed and result.kind == "unreadable"


def test_garbage_and_truncated_files_come_back_unchanged() -> None:
    garbage = bytes(range(256)) * 4
    _assert_unchanged(clean_copy(garbage, filename="blob.bin", sniffed_type=None), garbage, "unsupported")
    truncated = _jpeg_with_gps()[:200]
    _assert_unchanged(clean_copy(truncated, filename="cut.jpg", sniffed_type="image/jpeg"), truncated, "unreadable")
    not_pdf = b"this is not a PDF at all"
    _assert_unchanged(clean_copy(not_pdf, filename="fake.pdf", sniffed_type=None), not_pdf, "unreadable")
    half_pdf = _pdf_with_author()[:60]
    _assert_unchanged(clean_copy(half_pdf, filename="half.pdf", sniffed_type="application/pdf"), half_pdf, "unreadable")
    half_zip = _docx()[:100]
    _assert_unchanged(clean_copy(half_zip, filename="half.docx", sniffed_type=None), half_zip, "unreadable")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height pixels, followed by a tiny compressed stream."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(8_000, 8_000), (100_000, 100_000)])
def test_decompression_bomb_sized_png_is_refused_unchanged(width: int, height: int) -> None:
    # 64 MP is over our own limit; 10 000 MP is over Pillow's DecompressionBombError threshold.
    data = _png_header(width, height)
    result = clean_copy(data, filename="bomb.png", sniffed_type="image/png")
    assert result.data is data and not result.changed and result.removed == [] and result.kind in {"unsupported", "unreadable"}


_SIGNATURES = [
    b"\xff\xd8\xff\xe1",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"II*\x00",
    b"\x00\x00\x00\x18ftypheic",
    b"%PDF-1.7\n",
    b"PK\x03\x04",
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_SIGNATURES), st.binary(max_size=400))
def test_hostile_bytes_behind_a_real_signature_never_raise(signature: bytes, tail: bytes) -> None:
    data = signature + tail
    result = clean_copy(data, filename="x", sniffed_type=None)
    assert isinstance(result, Cleaned) and (result.changed or result.data is data)


def test_mpo_keeps_only_its_primary_image() -> None:
    out = io.BytesIO()
    primary, depth_map = _gradient((64, 48)), Image.new("RGB", (32, 24), "gray")
    primary.save(out, format="MPO", save_all=True, append_images=[depth_map], exif=_exif())
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as original:
        assert original.format == "MPO" and getattr(original, "n_frames", 1) == 2

    result = clean_copy(data, filename="IMG.JPG", sniffed_type="image/jpeg")

    assert result.kind == "jpeg" and {"EXIF", "GPS", "MPO secondary images"} <= set(result.removed)
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.format == "JPEG" and cleaned.size == (64, 48) and getattr(cleaned, "n_frames", 1) == 1


def test_refusals_log_the_kind_and_error_type_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="intake.sanitise")
    truncated = _jpeg_with_gps()[:200]
    clean_copy(truncated, filename="Jane_Witness_passport.jpg", sniffed_type="image/jpeg")
    assert caplog.records and all("Jane" not in record.getMessage() for record in caplog.records)
    assert "jpeg unreadable" in caplog.text


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_real_files_with_flipped_bytes_never_raise(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(_mutation_seeds()))
    mutated = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    cut = bytes(mutated[: data.draw(st.integers(1, len(mutated)))])
    result = clean_copy(cut, filename="x", sniffed_type=None)
    assert isinstance(result, Cleaned) and (result.changed or result.data is cut)


@functools.cache
def _mutation_seeds() -> list[bytes]:
    """Valid files of every kind, PDFs and zips left uncompressed so flipped bytes reach the parsers."""
    raw_pdf = io.BytesIO()
    with pikepdf.open(io.BytesIO(_pdf_with_author())) as pdf:
        pdf.save(raw_pdf, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    stored_docx = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx())) as source, zipfile.ZipFile(stored_docx, "w", zipfile.ZIP_STORED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
    seeds = [_jpeg_with_gps(), raw_pdf.getvalue(), stored_docx.getvalue(), _docx()]
    for fmt in ("PNG", "WEBP", "TIFF", "HEIF"):
        out = io.BytesIO()
        _gradient((40, 30)).save(out, format=fmt, exif=_exif().tobytes())
        seeds.append(out.getvalue())
    return seeds
