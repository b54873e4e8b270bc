"""What the cleaners share: the refusal they raise for input they will not process, and the errors hostile input causes."""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib

import pikepdf
from lxml import etree
from PIL import Image

# What a hostile or broken file may make a parser raise. Caught by type; a warning escalated to an
# error by the process's warning filter counts as a refusal too.
HOSTILE_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    Image.DecompressionBombError,
    pikepdf.PdfError,
    etree.LxmlError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    OSError,
    EOFError,
    SyntaxError,  # Pillow's "not a valid file" for several formats
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    RuntimeError,  # libheif limits, recursion depth
    MemoryError,
    NotImplementedError,
    Warning,
)


class Refused(Exception):
    """The input is well-formed enough to recognise but will not be cleaned (encrypted, too large, several frames)."""

    def __init__(self, reason: str, *, kind: str = "unsupported") -> None:
        super().__init__(reason)
        self.kind = kind
