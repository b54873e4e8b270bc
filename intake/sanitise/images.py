"""Images (JPEG, PNG, WebP, TIFF, HEIC) re-encoded from their pixels alone.

Lost: EXIF (camera, serial numbers, dates, GPS), XMP, IPTC/Photoshop blocks, ICC profiles, comments and
text chunks, embedded thumbnails, MPO secondary images (depth maps, previews), HEIC auxiliary images.
Kept: the pixels in the same format, with the EXIF orientation applied (so the picture looks the same
without the tag), the transparency, and the size. Lossy formats are re-encoded at quality 90.
Refused: images above MAX_PIXELS, and images with several frames (animations, multi-page TIFF), which a
single re-encoded frame would silently cut short.
"""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image, ImageOps, TiffImagePlugin

from intake.sanitise.common import Refused

# Larger images are refused. Pillow itself warns above 89.5 MP and raises DecompressionBombError above
# 179 MP while opening; either way the file comes back unchanged.
MAX_PIXELS = 50_000_000

# Pillow format names each cleaner may open (no other decoder is reached from hostile bytes).
_FORMATS: dict[str, tuple[str, ...]] = {
    "jpeg": ("JPEG", "MPO"),
    "png": ("PNG",),
    "webp": ("WEBP",),
    "tiff": ("TIFF",),
    "heic": ("HEIF",),
}
_SAVE_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "heic": "HEIF"}

# Registers the HEIF decoder with Pillow for the whole process (without thumbnails, depth or auxiliary images).
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# TIFF keeps its structure (width, strips…) in the same directory as EXIF; these are the descriptive tags.
_TIFF_DESCRIPTIVE_TAGS = {270, 271, 272, 305, 306, 315, 316, 33432}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def signature_kind(data: bytes) -> str | None:
    """The image kind its first bytes announce, or None for anything else."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


def _found(im: Image.Image) -> list[str]:
    """Names of the metadata kinds present in an opened image."""
    info = im.info
    exif = im.getexif()
    is_tiff = isinstance(im, TiffImagePlugin.TiffImageFile)
    found: list[str] = []
    descriptive = _TIFF_DESCRIPTIVE_TAGS.intersection(exif) if is_tiff else set(exif)
    if descriptive or exif.get_ifd(0x8769):
        found.append("EXIF")
    if exif.get_ifd(0x8825):
        found.append("GPS")
    if info.get("xmp") or info.get("XML:com.adobe.xmp") or (is_tiff and 700 in exif):
        found.append("XMP")
    if info.get("photoshop") or (is_tiff and 33723 in exif):
        found.append("IPTC")
    if info.get("icc_profile"):
        found.append("ICC profile")
    text_keys = {"comment", "Comment", "Description", "Author", "Software", "Title", "Copyright", "Creation Time"}
    if info.get("comment") or any(key in info for key in text_keys) or getattr(im, "text", None):
        found.append("comments and text")
    if getattr(im, "n_frames", 1) > 1 and im.format == "MPO":
        found.append("MPO secondary images")
    return found


def clean(data: bytes, kind: str) -> tuple[bytes, list[str], str]:
    """Re-encode an image from its pixels; returns the new bytes, the metadata kinds removed and the kind."""
    with Image.open(io.BytesIO(data), formats=_FORMATS[kind]) as im:
        width, height = im.size
        if width * height > MAX_PIXELS:
            raise Refused(f"image above {MAX_PIXELS} pixels")
        if getattr(im, "n_frames", 1) > 1 and im.format != "MPO":
            raise Refused("image with several frames")
        removed = _found(im)
        transparency = im.info.get("transparency")
        ImageOps.exif_transpose(im, in_place=True)
        pixels = im.copy()  # a plain Image: no file-specific tags, no cached EXIF
    pixels.info = {} if transparency is None else {"transparency": transparency}
    out = io.BytesIO()
    pixels.save(out, format=_SAVE_FORMAT[kind], **_save_options(kind))
    return out.getvalue(), removed, kind


def _save_options(kind: str) -> dict[str, object]:
    """Encoder options: explicit empty metadata and a reasonable quality."""
    if kind == "jpeg":
        return {"quality": 90, "exif": b"", "icc_profile": None, "comment": b""}
    if kind == "webp":
        return {"quality": 90, "exif": b"", "xmp": b"", "icc_profile": ""}
    if kind == "tiff":
        return {"compression": "tiff_lzw"}
    if kind == "heic":
        return {"quality": 90, "exif": None, "xmp": None}
    return {}
