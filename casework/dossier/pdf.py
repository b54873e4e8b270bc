"""The dossier as PDF (fpdf2): Noto fonts embedded, text shaped by HarfBuzz (uharfbuzz) so
Arabic is joined and laid right to left, with fallbacks for Arabic and CJK scripts.

Fonts come from Debian's fonts-noto-core and fonts-droid-fallback (installed by `make fonts` and CI),
looked up in INTAKE_DOSSIER_FONT_DIR first, then the system font folders."""

from __future__ import annotations

import os
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from casework.dossier.model import Block, Document

FONT_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/droid", "/usr/share/fonts/noto", "/usr/local/share/fonts")
FONTS = {  # family, style → (file, index in a collection)
    ("NotoSans", ""): ("NotoSans-Regular.ttf", 0),
    ("NotoSans", "B"): ("NotoSans-Bold.ttf", 0),
    ("NotoSansArabic", ""): ("NotoSansArabic-Regular.ttf", 0),
    ("NotoSansArabic", "B"): ("NotoSansArabic-Bold.ttf", 0),
    # CJK: a TrueType font, so the PDF maps its glyphs back to text (Noto Sans CJK is CFF in a
    # collection, and fpdf2 embeds it with a CMap that text extractors do not read)
    ("DroidSansFallback", ""): ("DroidSansFallbackFull.ttf", 0),
    ("DroidSansFallback", "B"): ("DroidSansFallbackFull.ttf", 0),
}
FONTS_MISSING = ("PDF export needs the Noto fonts: install Debian's fonts-noto-core and fonts-droid-fallback (`make fonts`), "
                 "or point INTAKE_DOSSIER_FONT_DIR at a folder holding {files}")


class FontsMissing(RuntimeError):
    pass


def find_fonts() -> dict[tuple[str, str], tuple[Path, int]]:
    """Where each font file is; `FontsMissing` names the files not found."""
    dirs = [d for d in (os.environ.get("INTAKE_DOSSIER_FONT_DIR"), *FONT_DIRS) if d]
    found, missing = {}, []
    for key, (name, index) in FONTS.items():
        path = next((Path(d) / name for d in dirs if (Path(d) / name).is_file()), None)
        if path is None:
            missing.append(name)
        else:
            found[key] = (path, index)
    if missing:
        raise FontsMissing(FONTS_MISSING.format(files=", ".join(sorted(set(missing)))))
    return found


class _Pdf(FPDF):
    def __init__(self, reference: str) -> None:
        super().__init__(format="A4")
        self.reference = reference

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("NotoSans", "", 8)
        self.cell(0, 6, f"{self.reference} · confidential · page {self.page_no()}/{{nb}}", align="C")


LRM = "\u200e"  # a left-to-right mark: every paragraph is an English one, Arabic runs inside it go right to left


def _text(pdf: FPDF, text: str, *, size: float = 10, style: str = "", h: float = 5.2) -> None:
    pdf.set_font("NotoSans", style, size)
    pdf.multi_cell(0, h, "\n".join(LRM + line for line in text.split("\n")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _block(pdf: FPDF, block: Block) -> None:
    if block.title:
        _text(pdf, block.title, size=11, style="B", h=6.5)
    if block.kind == "p":
        _text(pdf, block.text)
    elif block.kind == "facts":
        if not block.facts:
            _text(pdf, "Not provided.")
        for label, value in block.facts:
            _text(pdf, label, size=8.5, style="B", h=4.6)
            _text(pdf, value)
    elif block.kind == "list":
        for item in block.items:
            _text(pdf, f"• {item}")
    else:
        pdf.set_font("NotoSans", "", 7.5)
        with pdf.table(line_height=4, text_align="LEFT", first_row_as_headings=True) as t:
            t.row([h for h in block.headers])
            for row in block.rows:
                t.row([c or "" for c in row])
    pdf.ln(2)


def render(doc: Document, reference: str) -> bytes:
    """The PDF bytes of `doc` (`FontsMissing` when the fonts are not installed)."""
    fonts = find_fonts()
    pdf = _Pdf(reference)
    pdf.set_title(doc.title)
    pdf.set_creator("Magnitsky Intake")
    for (family, style), (path, index) in fonts.items():
        pdf.add_font(family, style, str(path), collection_font_number=index)
    pdf.set_fallback_fonts(["NotoSansArabic", "DroidSansFallback"], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    _text(pdf, doc.title, size=16, style="B", h=8)
    _text(pdf, doc.subtitle, size=9)
    pdf.ln(2)
    for label, value in doc.facts:
        _text(pdf, f"{label}: {value}", size=9, h=4.8)
    pdf.ln(2)
    _text(pdf, doc.notice, size=9, style="B")
    for n, section in enumerate(doc.sections, 1):
        pdf.ln(3)
        _text(pdf, f"{n}. {section.title}", size=13, style="B", h=7)
        for block in section.blocks:
            _block(pdf, block)
    return bytes(pdf.output())
