"""PDF documents rewritten by qpdf (pikepdf) without their document metadata.

Lost: the whole document information dictionary (Author, Creator, Producer, Title, Subject, Keywords,
CreationDate, ModDate and any custom entry), every XMP metadata stream (the document's and those attached
to pages, images or fonts), /PieceInfo application data, and the author (/T) of markup annotations such
as comments and highlights (replaced by "Anonymous"). Earlier incremental-update revisions go too, as
qpdf writes only the objects the current document reaches.
Kept: pages, text, fonts, images, annotations and their text, forms, outlines, the file identifier (/ID).
Not handled (out of scope): document JavaScript, embedded files and attachments (with their own
metadata), EXIF inside JPEG images embedded in pages (DCTDecode streams are copied as they are),
annotation dates, and anything a producer wrote into the page content itself.
Refused: encrypted PDFs (kind "unsupported").
"""

from __future__ import annotations

import io

import pikepdf

from intake.sanitise.common import Refused

# Markup annotations (comments, highlights…) carry their author in /T; a form field's /T is its name and stays.
_MARKUP_ANNOTATIONS = {
    f"/{name}"
    for name in (
        "Text FreeText Line Square Circle Polygon PolyLine Highlight Underline Squiggly StrikeOut Stamp Caret Ink "
        "FileAttachment Sound Redact"
    ).split()
}
_INFO_NAMES = {
    "/Author": "PDF Info author",
    "/Creator": "PDF Info creator",
    "/Producer": "PDF Info producer",
    "/Title": "PDF Info title",
    "/Subject": "PDF Info subject",
    "/Keywords": "PDF Info keywords",
    "/CreationDate": "PDF Info dates",
    "/ModDate": "PDF Info dates",
    "/Trapped": "PDF Info trapped",
}


def clean(data: bytes, kind: str) -> tuple[bytes, list[str], str]:
    """Rewrite a PDF without Info, XMP and PieceInfo; returns the new bytes, the kinds removed and "pdf"."""
    try:
        document = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as error:
        raise Refused("encrypted PDF") from error
    with document:
        if document.is_encrypted:
            raise Refused("encrypted PDF")
        removed: list[str] = []
        info = document.trailer.get("/Info")
        if isinstance(info, pikepdf.Dictionary):
            for key in info.keys():
                name = _INFO_NAMES.get(str(key), "PDF Info custom entries")
                if name not in removed:
                    removed.append(name)
        if "/Info" in document.trailer:
            del document.trailer["/Info"]
        if "/Metadata" in document.Root:
            removed.append("PDF XMP")
        attached_xmp = piece_info = annotation_authors = False
        for obj in document.objects:
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            if "/Metadata" in obj:
                attached_xmp = attached_xmp or obj.objgen != document.Root.objgen
                del obj["/Metadata"]
            if "/PieceInfo" in obj:
                piece_info = True
                del obj["/PieceInfo"]
            if obj.get("/Subtype") in _MARKUP_ANNOTATIONS and "/T" in obj and str(obj.T) != "Anonymous":
                annotation_authors = True
                obj.T = pikepdf.String("Anonymous")
        if attached_xmp:
            removed.append("PDF XMP on pages and images")
        if piece_info:
            removed.append("PDF PieceInfo")
        if annotation_authors:
            removed.append("PDF annotation authors")
        out = io.BytesIO()
        document.save(out, fix_metadata_version=False, preserve_pdfa=False)
    return out.getvalue(), removed, kind
