"""Bonus exports for payroll: CSV, XLSX and JSON of a period's pay rows, audit-logged.

Columns are `periods.COLUMNS`, in that order, in every format (a period locked before the last
columns were added keeps the columns it was locked with, so its file keeps its bytes). No caller phone numbers are
in the rows. Text cells that a spreadsheet would run as a formula (starting with = + - @,
tab or carriage return) are prefixed with a single quote (OWASP CSV injection guidance);
numbers are written as numbers, so a negative adjustment stays a number.

The XLSX is laid out like a payroll file a person opens: headers and tiers in words in the
exporting user's language (``columns``), bold frozen header with filters, columns wide enough
for their contents, shares as percentages, rates and multipliers with fixed decimals,
`insufficient` as a real boolean, and a second sheet explaining every column next to its
key (CSV and JSON keep the keys and codes).
"""
from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from scoring.payroll import columns
from scoring.payroll.periods import COLUMNS, period_rows
from scoring.payroll.reasons import reason_text
from scoring.scorecards.config import ScoringConfig, load_config
from store.accounts import audit
from store.base import utcnow
from store.payroll import EXPORT_FORMATS, ExportFile

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@dataclass(frozen=True)
class ExportResult:
    bytes: bytes
    filename: str
    checksum: str
    """sha256 of `bytes`, hex: what the audit log records."""
    export_id: int | None = None


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value):
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


PERCENT = "0.0%"
# Number formats of the XLSX columns; a column not named here is text or a whole number.
XLSX_FORMATS = {
    **{c: PERCENT for c in ("response_rate", "adequacy_raw", "adequacy", "adequacy_low", "adequacy_high",
                            "csat_raw", "csat", "csat_low", "csat_high", "fcr_raw", "fcr", "fcr_low", "fcr_high")},
    "mean_rating": "0.00", "flag_penalty": "0.0", "composite": "0.0",
    "multiplier": "0.00", "previous_multiplier": "0.00", "multiplier_delta": "+0.00;-0.00;0.00",
    **{c: "0" for c in ("handled", "surveys_offered", "surveys_completed", "confirmed_flags", "rank")},
}
WIDTH_MIN, WIDTH_MAX = 8, 40


def _xlsx_cell(value):
    return value if isinstance(value, bool) else _cell(value)


def _width(column: str, values: list, title: str) -> float:
    """Characters a column needs: its header, or its longest value as the format shows it."""
    shown = [len(title)]
    for value in values:
        if value is None:
            continue
        if isinstance(value, float) and XLSX_FORMATS.get(column) == PERCENT:
            shown.append(7)                                  # "100.0%"
        elif isinstance(value, float):
            shown.append(len(f"{value:.2f}"))
        else:
            shown.append(len(str(value)))
    return min(WIDTH_MAX, max(WIDTH_MIN, max(shown) + 2))


def written_columns(rows: list[dict]) -> tuple[str, ...]:
    """``COLUMNS``, less the trailing ones no row holds: rows a lock froze before a column was
    added (``disputes_open``) re-export byte for byte as they were, and new columns stay at the end."""
    columns = list(COLUMNS)
    while rows and len(columns) > 1 and not any(columns[-1] in row for row in rows):
        columns.pop()
    return tuple(columns)


def _csv(rows: list[dict]) -> bytes:
    columns = written_columns(rows)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8-sig")   # BOM: Excel then reads UTF-8 names correctly


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off while a workbook is built and saved (as it was). openpyxl
    makes an object per cell (each pointing back at its sheet) plus its style and XML element;
    at 1,000 agents × 33 columns the collections this churn sets off, walking objects that all
    stay alive, took a fifth to two fifths of the export (profiled; docs/developers.md). The
    workbook is freed by the first collection after it. The bytes are the same either way."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _xlsx(rows: list[dict], stamp: datetime, lang: str) -> bytes:
    with _collector_paused():
        return _workbook(rows, stamp, columns.language(lang))


def _shown(row: dict, column: str, lang: str):
    value = row.get(column)
    return columns.word(value, lang) if column in columns.WORDED else value


def _workbook(rows: list[dict], stamp: datetime, lang: str) -> bytes:
    """Workbook bytes that depend only on rows, `stamp` and `lang`: openpyxl's save() stamps
    "now" into the properties and every zip entry, so the archive is written and then re-packed."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    bonus, about, about_headers = columns.SHEET_TEXT[lang]
    cols = written_columns(rows)
    titles = [columns.header(c, lang) for c in cols]
    wb = Workbook()
    ws = wb.active
    ws.title = bonus
    ws.append(titles)
    values = [[_xlsx_cell(_shown(row, c, lang)) for c in cols] for row in rows]
    for line in values:
        ws.append(line)
    formats = [XLSX_FORMATS.get(c) for c in cols]
    for cells in ws.iter_rows(min_row=2):   # one pass: ws[ws.max_row] per row rescans the sheet
        for cell, fmt in zip(cells, formats):
            if isinstance(cell.value, str):
                cell.data_type = "s"   # never a formula, whatever the text
            elif fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    bold, wrap = Font(bold=True), Alignment(vertical="top")
    for i, column in enumerate(cols, start=1):
        ws.cell(1, i).font, ws.cell(1, i).alignment = bold, wrap
        ws.column_dimensions[get_column_letter(i)].width = _width(column, [line[i - 1] for line in values],
                                                                  titles[i - 1])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(1, len(values) + 1)}"
    notes = wb.create_sheet(about)
    notes.append(list(about_headers))
    for column, title in zip(cols, titles):
        notes.append([title, column, columns.explanation(column, lang)])
    for i, width in enumerate((34, 22, 90), start=1):
        notes.cell(1, i).font = bold
        notes.column_dimensions[get_column_letter(i)].width = width
    notes.freeze_panes = "A2"
    naive = stamp.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    wb.properties.created = wb.properties.modified = naive
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=naive.timetuple()[:6]), src.read(info),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _json(rows: list[dict]) -> bytes:
    columns = written_columns(rows)
    return json.dumps({"columns": list(columns), "rows": [{c: row.get(c) for c in columns} for row in rows]},
                      ensure_ascii=False, indent=1).encode()


def render(rows: list[dict], fmt: str, *, stamp: datetime | None = None, lang: str = "en") -> bytes:
    """Rows (dicts keyed by `COLUMNS`) as csv, xlsx or json bytes; `stamp` dates the workbook,
    `lang` ("en" or "ru") is the language of its words (the CSV and JSON have none)."""
    if fmt == "csv":
        return _csv(rows)
    if fmt == "xlsx":
        return _xlsx(rows, stamp or datetime(2000, 1, 1, tzinfo=timezone.utc), lang)
    if fmt == "json":
        return _json(rows)
    raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")


def in_language(rows: list[dict], language: str, cfg: ScoringConfig) -> list[dict]:
    """The rows with ``pay_reason_text`` in ``language`` (from each row's code and figures)."""
    out = []
    for row in rows:
        text = reason_text(row, language, min_responses=cfg.min_responses)
        out.append({**row, "pay_reason_text": text if text is not None else row.get("pay_reason_text")})
    return out


def export_period(session: Session, key: str, fmt: str, actor: str, *, job_id: int | None = None,
                  config: ScoringConfig | None = None, lang: str = "en") -> ExportResult:
    """Build a period's bonus file, store it and audit-log who, when, which period and its checksum.

    A locked period exports its frozen snapshot (the same bytes every time, per language); an
    open one a provisional file named ``…-provisional``. ``lang`` (the exporting user's) words
    the XLSX and every format's ``pay_reason_text``; every other CSV/JSON cell is the same in
    every language.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    if job_id is not None:
        done = session.query(ExportFile).filter_by(job_id=job_id).one_or_none()
        if done is not None:
            return ExportResult(done.content, done.filename, done.checksum, done.id)
    cfg = config or load_config()
    period, rows = period_rows(session, key, cfg)
    rows = in_language(rows, lang, cfg)
    locked = period.state == "locked"
    data = render(rows, fmt, stamp=period.locked_at if locked else utcnow(), lang=lang)
    filename = f"bonus-{key}{'' if locked else '-provisional'}.{fmt}"
    digest = hashlib.sha256(data).hexdigest()
    file = ExportFile(period_key=key, fmt=fmt, filename=filename, checksum=digest, size=len(data), content=data,
                      created_by=actor, job_id=job_id)
    session.add(file)
    session.flush()
    audit(session, actor, "export.bonus", key, format=fmt, filename=filename, checksum=digest, rows=len(rows),
          locked=locked, snapshot_checksum=period.checksum, export_id=file.id, language=columns.language(lang))
    return ExportResult(data, filename, digest, file.id)
