"""Office Open XML packages (docx, xlsx, pptx) rewritten part by part with zipfile and lxml.

Nothing in the package is executed or interpreted beyond its XML; macros (vbaProject.bin) are copied as
bytes. Lost: every core property (creator, lastModifiedBy, dates, revision, title, subject, keywords,
category, description), every extended property (Company, Manager, Template, Application, AppVersion,
TotalTime, statistics), every custom property, the names, initials and ids of the people who wrote
comments or tracked changes (replaced by "Anonymous"), the EXIF/GPS/XMP of embedded JPEG, PNG, WebP
and TIFF pictures (re-encoded as in `images`, only when they carry any), and the zip's own timestamps,
comments and extra fields.
Kept: the document's content, styles, media and relationships; comments and tracked changes themselves.
Not handled: revision session ids (w:rsid), names typed into the content, embedded objects' own metadata.
Refused: archives with encrypted members, compression other than stored/deflate, more than MAX_MEMBERS
entries, or more than MAX_UNPACKED bytes once unpacked; parts with a DOCTYPE.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import zipfile

from lxml import etree

from intake.sanitise import images
from intake.sanitise.common import HOSTILE_INPUT_ERRORS, Refused

log = logging.getLogger(__name__)
REFUSED_OR_HOSTILE: tuple[type[BaseException], ...] = (Refused, *HOSTILE_INPUT_ERRORS)

MAX_MEMBERS = 5_000
MAX_UNPACKED = 256 * 1024 * 1024

_MAIN_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}
_EMPTY_PARTS = {
    "docProps/core.xml": (
        "Office core properties",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>',
    ),
    "docProps/app.xml": (
        "Office app properties",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
    ),
    "docProps/custom.xml": (
        "Office custom properties",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
    ),
}
_PROPERTY_RELATIONSHIPS = {
    "/metadata/core-properties": "docProps/core.xml",
    "/extended-properties": "docProps/app.xml",
    "/custom-properties": "docProps/custom.xml",
}
# Parts that name the people who commented or tracked changes (Word, Excel, PowerPoint).
_PEOPLE_PARTS = re.compile(
    r"^(word/(document|comments[A-Za-z]*|people|footnotes|endnotes|header\d*|footer\d*)\.xml"
    r"|xl/(comments\d*\.xml|threadedComments/[^/]+\.xml|persons/[^/]+\.xml|revisions/[^/]+\.xml)"
    r"|ppt/(commentAuthors\.xml|authors\.xml|comments/[^/]+\.xml))$"
)
_PERSON_ATTRIBUTES = {
    "author": "Anonymous",
    "initials": "A",
    "userId": "",
    "userName": "Anonymous",  # xl/revisions/revisionHeaders.xml
    "providerId": "None",
    "displayName": "Anonymous",
}
_PERSON_ELEMENTS = {"cmAuthor", "author", "person"}  # elements whose `name` attribute is a person's name
_ANONYMOUS_TEXT_ELEMENTS = {"author"}  # xl/commentsN.xml: <authors><author>Name</author></authors>
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_MEDIA = re.compile(r"^(word|xl|ppt)/media/[^/]+$")
MAX_MEDIA_BYTES = 64 * 1024 * 1024


def _local(name: object) -> str:
    """The local part of a namespaced tag or attribute name as lxml gives it ("{uri}local")."""
    return str(name).rpartition("}")[2]


def _anonymise(xml: bytes) -> tuple[bytes, bool]:
    """Replace the names, initials and ids of people in one XML part; returns the bytes and whether any changed."""
    root = etree.fromstring(xml, _PARSER)
    if root.getroottree().docinfo.doctype:
        raise Refused("XML part with a DOCTYPE", kind="unreadable")
    changed = False
    for element in root.iter(etree.Element):
        local = _local(element.tag)
        for attribute, value in element.attrib.items():
            attribute_local = _local(attribute)
            replacement = _PERSON_ATTRIBUTES.get(attribute_local)
            if attribute_local == "name" and local in _PERSON_ELEMENTS:
                replacement = "Anonymous"
            if replacement is not None and value != replacement:
                element.set(attribute, replacement)
                changed = True
        if local in _ANONYMOUS_TEXT_ELEMENTS and element.text and element.text.strip() and element.text != "Anonymous":
            element.text = "Anonymous"
            changed = True
    if not changed:
        return xml, False
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), True


def _check(archive: zipfile.ZipFile) -> tuple[list[zipfile.ZipInfo], str]:
    """The members to copy and the document kind, or Refused when the archive is not a plain OOXML package."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise Refused("archive with too many members")
    if sum(member.file_size for member in members) > MAX_UNPACKED:
        raise Refused("archive too large once unpacked")
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        raise Refused("archive with duplicate names", kind="unreadable")
    if any(member.flag_bits & 0x1 for member in members):
        raise Refused("archive with encrypted members")
    if any(member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for member in members):
        raise Refused("archive with a compression Office does not use")
    if "[Content_Types].xml" not in names:
        raise Refused("zip archive that is not an Office Open XML package")
    kind = next((kind for part, kind in _MAIN_PARTS.items() if part in names), None)
    if kind is None:
        raise Refused("Office Open XML package of an unsupported kind")
    return members, kind


def clean(data: bytes, kind: str) -> tuple[bytes, list[str], str]:
    """Rewrite an OOXML package without its properties and people; returns the new bytes, the kinds removed and the kind."""
    removed: list[str] = []
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(out, "w") as target:
        members, document_kind = _check(archive)
        property_parts = _property_parts(archive)
        if archive.comment:
            removed.append("zip comment")
        for member in members:
            info = zipfile.ZipInfo(member.filename, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if member.compress_type == zipfile.ZIP_STORED else zipfile.ZIP_DEFLATED
            if member.filename in property_parts:
                label, empty = _EMPTY_PARTS[property_parts[member.filename]]
                if _has_children(archive.read(member)):
                    removed.append(label)
                target.writestr(info, empty)
            elif _PEOPLE_PARTS.match(member.filename):
                body, changed = _anonymise(archive.read(member))
                if changed and "Office comment and revision authors" not in removed:
                    removed.append("Office comment and revision authors")
                target.writestr(info, body)
            elif _MEDIA.match(member.filename) and member.file_size <= MAX_MEDIA_BYTES and _clean_media(archive, member, info, target):
                if "Office embedded image metadata" not in removed:
                    removed.append("Office embedded image metadata")
            else:
                with archive.open(member) as source, target.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink, 1024 * 1024)
    return out.getvalue(), removed, document_kind


def _clean_media(archive: zipfile.ZipFile, member: zipfile.ZipInfo, info: zipfile.ZipInfo, target: zipfile.ZipFile) -> bool:
    """Write an embedded picture re-encoded without its metadata; False (nothing written) when it cannot be."""
    data = archive.read(member)
    kind = images.signature_kind(data)
    if kind is None:
        return False
    try:
        cleaned, found, _ = images.clean(data, kind)
    except REFUSED_OR_HOSTILE as error:
        log.info("sanitise: embedded %s left as is (%s)", kind, type(error).__name__)
        return False
    if not found:
        return False  # nothing to remove: keep the picture bit for bit
    target.writestr(info, cleaned)
    return True


def _property_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Where this package keeps its core, extended and custom properties: the usual docProps/ names plus
    whatever the package relationships (_rels/.rels) point to, mapped to the usual name they stand for."""
    parts = {name: name for name in _EMPTY_PARTS}
    try:
        rels = etree.fromstring(archive.read("_rels/.rels"), _PARSER)
    except KeyError:
        return parts
    for relationship in rels:
        relationship_type = str(relationship.get("Type", ""))
        target = str(relationship.get("Target", "")).lstrip("/")
        for suffix, usual in _PROPERTY_RELATIONSHIPS.items():
            if relationship_type.endswith(suffix) and target and relationship.get("TargetMode") != "External":
                parts[target] = usual
    return parts


def _has_children(xml: bytes) -> bool:
    """Whether a properties part holds any property (an unparseable one counts as holding some)."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        return True
    return len(root) > 0
