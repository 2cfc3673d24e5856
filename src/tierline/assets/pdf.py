"""PDFs of the estate, drawn with fpdf2: the estate report (tables and bar charts made of the
library's own rectangles) and sheets of asset labels (QR codes from segno).

Text goes out in DejaVu Sans (Debian's `fonts-dejavu-core`, `scripts/ensure-fonts.sh`), so
names in any script print as typed. Where the font is missing the PDF still renders, in the
PDF's built-in Helvetica, with what Latin-1 cannot show replaced by "?"."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tierline.assets.reports import EstateReport, Section

FONT_DIR = Path(os.environ.get("TIERLINE_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
INK = (33, 37, 41)
MUTED = (90, 96, 104)
BAR = (37, 99, 171)
RULE = (200, 204, 210)


def unicode_font_available() -> bool:
    return all((FONT_DIR / name).is_file() for name in FONT_FILES.values())


class _Document(FPDF):
    """An FPDF with the house font and a text helper that never raises on a character the
    font cannot show."""

    def __init__(self, *, title: str, footer_text: str = "", **kwargs: object) -> None:
        super().__init__(unit="mm", format="A4", **kwargs)
        self.footer_text = footer_text
        self.unicode = unicode_font_available()
        if self.unicode:
            for style, name in FONT_FILES.items():
                self.add_font("DejaVu", style, str(FONT_DIR / name))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.set_title(title)
        self.set_creator("Tierline")
        self.set_text_color(*INK)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def text_of(self, value: object) -> str:
        text = "" if value is None else str(value)
        # Control characters have no glyph; a line break inside a cell is a space.
        text = "".join(" " if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 else c for c in text)
        if not self.unicode:
            text = text.encode("latin-1", "replace").decode("latin-1")
        return text

    def fit(self, value: object, width: float) -> str:
        """The text, cut with an ellipsis to fit `width` mm in the current font."""
        text = self.text_of(value)
        if self.get_string_width(text) <= width:
            return text
        ellipsis = "…" if self.unicode else "..."
        while text and self.get_string_width(text + ellipsis) > width:
            text = text[:-1]
        return text + ellipsis

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.font(8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.text_of(f"{self.footer_text}    page {self.page_no()}"), align="R")
        self.set_text_color(*INK)


# ---- the estate report -----------------------------------------------------------------------

LABEL_W = 62.0
BAR_W = 95.0
COUNT_W = 20.0
ROW_H = 5.2
BAR_H = 3.8


def _heading(pdf: _Document, text: str, rows: int) -> None:
    # Keep a heading with its chart: start a page when the chart would not fit.
    if pdf.will_page_break(12 + rows * ROW_H):
        pdf.add_page()
    pdf.ln(3)
    pdf.font(12, bold=True)
    pdf.cell(0, 8, pdf.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _chart(pdf: _Document, section: Section) -> None:
    """Horizontal bars drawn with rectangles, the label on the left and the count after."""
    largest = section.largest or 1
    pdf.font(8.5)
    left = pdf.l_margin
    for row in section.rows:
        if pdf.will_page_break(ROW_H):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(left, y)
        pdf.cell(LABEL_W, ROW_H, pdf.fit(row.label, LABEL_W - 2), align="R")
        width = BAR_W * row.count / largest
        if width > 0:
            pdf.set_fill_color(*BAR)
            pdf.rect(left + LABEL_W + 1, y + (ROW_H - BAR_H) / 2, max(width, 0.4), BAR_H, style="F")
        pdf.set_xy(left + LABEL_W + 2 + width, y)
        pdf.cell(COUNT_W, ROW_H, f"{row.count:,}")
        pdf.set_xy(left, y + ROW_H)


def _table(pdf: _Document, section: Section) -> None:
    detail = bool(section.detail_column)
    widths = (110.0, 30.0, 40.0) if detail else (140.0, 40.0, 0.0)
    pdf.ln(2)

    def header() -> None:
        pdf.font(8.5, bold=True)
        pdf.set_draw_color(*RULE)
        pdf.cell(widths[0], ROW_H, pdf.text_of(section.column), border="B")
        pdf.cell(widths[1], ROW_H, pdf.text_of(section.count_column), border="B", align="R")
        if detail:
            pdf.cell(widths[2], ROW_H, pdf.text_of(section.detail_column), border="B", align="R")
        pdf.ln(ROW_H)
        pdf.font(8.5)

    header()
    for row in section.rows:
        if pdf.will_page_break(ROW_H):
            pdf.add_page()
            header()
        pdf.cell(widths[0], ROW_H, pdf.fit(row.label, widths[0] - 2))
        pdf.cell(widths[1], ROW_H, f"{row.count:,}", align="R")
        if detail:
            pdf.cell(widths[2], ROW_H, pdf.fit(row.detail, widths[2] - 2), align="R")
        pdf.ln(ROW_H)
    if not section.rows:
        pdf.set_text_color(*MUTED)
        pdf.cell(0, ROW_H, "None.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
    if section.note:
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, ROW_H, pdf.text_of(section.note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)


def estate_report_pdf(report: EstateReport) -> bytes:
    """The estate report: title, date, filters, then each section's bar chart and table, and
    the devices not seen recently."""
    stamp = report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    pdf = _Document(title="Estate report", footer_text=f"Tierline estate report, {stamp}")
    pdf.set_creation_date(report.generated_at)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.font(18, bold=True)
    pdf.cell(0, 10, "Estate report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(10)
    pdf.cell(0, 6, pdf.text_of(f"Generated {stamp}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    filters = "; ".join(f"{k}: {v}" for k, v in report.filter_labels) or "the whole estate"
    pdf.multi_cell(0, 6, pdf.text_of(f"Filters: {filters}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.font(10, bold=True)
    plural = "" if report.total == 1 else "s"
    pdf.cell(0, 6, f"{report.total:,} asset{plural}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in report.sections:
        _heading(pdf, section.title, len(section.rows))
        if section.rows:
            _chart(pdf, section)
        _table(pdf, section)
    _heading(pdf, f"Devices not seen for {report.offline_hours} hours", len(report.not_seen))
    pdf.font(8.5)
    for device in report.not_seen:
        if pdf.will_page_break(ROW_H):
            pdf.add_page()
        pdf.cell(110, ROW_H, pdf.fit(device.name, 108))
        seen = device.last_seen_at.strftime("%Y-%m-%d %H:%M") if device.last_seen_at else "never"
        pdf.cell(70, ROW_H, seen, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not report.not_seen:
        pdf.cell(0, ROW_H, "None.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# ---- labels ----------------------------------------------------------------------------------

# A4 sheet of 3 x 8 labels, 70 x 37 mm each (the common "24 per sheet" stationery).
COLUMNS, ROWS = 3, 8
LABEL_W_MM, LABEL_H_MM = 70.0, 37.0
SHEET_TOP_MM = (297.0 - ROWS * LABEL_H_MM) / 2
PER_SHEET = COLUMNS * ROWS
QR_MM = 29.0
PAD_MM = 3.0


@dataclass(frozen=True)
class Label:
    tag: str
    name: str
    kind: str
    url: str


def qr_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The URL as a QR code (error correction M) with the standard 4-module quiet zone: its
    size in modules and its dark modules as horizontal runs (row, first column, length)."""
    code = segno.make(url, error="m", micro=False)
    runs = []
    size = 0
    for y, row in enumerate(code.matrix_iter(scale=1, border=4)):
        size = len(row)
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return size, runs


def _draw_qr(pdf: _Document, url: str, *, x: float, y: float, side: float) -> None:
    """The QR code drawn with the PDF's own filled rectangles: vector, sharp at any printer's
    resolution, and no image to encode and decode again."""
    size, runs = qr_runs(url)
    module = side / size
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in runs:
        pdf.rect(x + column * module, y + row * module, length * module, module, style="F")


def labels_pdf(labels: list[Label]) -> bytes:
    """A4 sheets of labels: a QR code of the asset page's URL, the tag, the name and type."""
    pdf = _Document(title="Asset labels")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    for n, label in enumerate(labels):
        if n % PER_SHEET == 0:
            pdf.add_page()
        column, row = (n % PER_SHEET) % COLUMNS, (n % PER_SHEET) // COLUMNS
        x = column * LABEL_W_MM
        y = SHEET_TOP_MM + row * LABEL_H_MM
        _draw_qr(pdf, label.url, x=x + PAD_MM, y=y + (LABEL_H_MM - QR_MM) / 2, side=QR_MM)
        text_x = x + PAD_MM + QR_MM + 1.5
        text_w = LABEL_W_MM - (text_x - x) - PAD_MM
        pdf.set_xy(text_x, y + 7)
        pdf.font(11, bold=True)
        pdf.cell(text_w, 6, pdf.fit(label.tag or "(no tag)", text_w))
        pdf.font(8.5)
        for line_no, text in enumerate((label.name, label.kind)):
            pdf.set_xy(text_x, y + 14 + line_no * 5)
            pdf.cell(text_w, 5, pdf.fit(text, text_w))
    return bytes(pdf.output())
