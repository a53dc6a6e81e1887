"""Pay periods (lock, freeze, adjust in the next period) and export files read back."""
from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from scoring.payroll import columns
from scoring.payroll.exports import export_period, render
from scoring.payroll.periods import COLUMNS, PeriodError, get_or_create_period, list_periods, lock_period, period_bounds
from scoring.scorecards.config import ScoringConfig
from store.accounts import AuditLog
from store.agents import Agent
from store.calls import Leg, SurveyAnswer

SEP = datetime(2026, 9, 7, 9, 0, tzinfo=timezone.utc)


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_period_keys_and_bounds():
    assert period_bounds("2026-11") == (datetime(2026, 10, 31, 21, tzinfo=timezone.utc),
                                        datetime(2026, 11, 30, 21, tzinfo=timezone.utc))
    weekly = ScoringConfig(period="weekly", timezone="UTC")
    assert period_bounds("2026-W01", weekly) == (datetime(2025, 12, 29, tzinfo=timezone.utc),
                                                 datetime(2026, 1, 5, tzinfo=timezone.utc))
    for bad in ("2026-13", "26-11", "2026-11-01", ""):
        with pytest.raises(PeriodError):
            period_bounds(bad)
    with pytest.raises(PeriodError):
        period_bounds("2026-W54", weekly)


def test_lock_freezes_export_and_later_answers_become_adjustments(build, db_session):
    build.agent("a"), build.agent("b")
    build.answers("a", 19, 0, start=SEP)            # 19 < 20 responses: insufficient
    build.answers("b", 15, 10, start=SEP)
    get_or_create_period(db_session, "2026-10")       # the next open period: it will carry adjustments
    lock_period(db_session, "2026-09", actor="hr:olga")
    first = export_period(db_session, "2026-09", "csv", actor="hr:olga")
    rows = {r["agent_id"]: r for r in read_csv(first.bytes)}
    assert first.filename == "bonus-2026-09.csv"
    assert rows["a"]["tier"] == "insufficient-data" and rows["a"]["rank"] == ""
    with pytest.raises(PeriodError, match="already locked"):
        lock_period(db_session, "2026-09", actor="hr:olga")

    # A late answer for a September call: a now has 20 responses.
    build.call("a", at=SEP + timedelta(days=3), adequate=1, rating=5)
    again = export_period(db_session, "2026-09", "csv", actor="hr:olga")
    assert again.bytes == first.bytes and again.checksum == first.checksum      # frozen

    october = export_period(db_session, "2026-10", "csv", actor="hr:olga")
    assert october.filename == "bonus-2026-10-provisional.csv"
    adjustments = [r for r in read_csv(october.bytes) if r["row_type"] == "adjustment"]
    assert [(r["agent_id"], r["source_period"], r["previous_tier"]) for r in adjustments] == \
        [("a", "2026-09", "insufficient-data")]
    adj = adjustments[0]
    assert adj["tier"] != "insufficient-data" and int(adj["surveys_completed"]) == 20
    assert float(adj["multiplier_delta"]) == pytest.approx(float(adj["multiplier"]) - float(adj["previous_multiplier"]))

    # Locking October pays the adjustment once: November no longer shows it.
    october_locked = lock_period(db_session, "2026-10", actor="hr:olga")
    assert [r["agent_id"] for r in october_locked.snapshot["adjustments"]] == ["a"]
    november = export_period(db_session, "2026-11", "json", actor="hr:olga")
    assert json.loads(november.bytes)["rows"] == []
    assert [p.key for p in list_periods(db_session)] == ["2026-11", "2026-10", "2026-09"]
    audit = db_session.query(AuditLog).order_by(AuditLog.id).all()
    assert [(e.action, e.target) for e in audit] == [
        ("period.lock", "2026-09"), ("export.bonus", "2026-09"), ("export.bonus", "2026-09"),
        ("export.bonus", "2026-10"), ("period.lock", "2026-10"), ("export.bonus", "2026-11")]
    assert audit[1].detail["checksum"] == first.checksum and audit[1].actor == "hr:olga"


def test_unfinished_period_cannot_be_locked(db_session):
    with pytest.raises(PeriodError, match="after it ends"):
        lock_period(db_session, "2026-11", actor="hr", now=datetime(2026, 11, 20, tzinfo=timezone.utc))


ROW = {c: None for c in COLUMNS} | {
    "period": "2026-09", "row_type": "score", "source_period": "2026-09", "agent_id": "a1",
    "agent_name": "=HYPERLINK(\"http://x\",\"click\")", "team": "Отдел продаж", "handled": 12,
    "composite": 71.25, "tier": "silver", "multiplier": 1.0, "insufficient": False, "multiplier_delta": -0.5,
}


def test_csv_is_utf8_documented_and_formula_safe():
    data = render([ROW], "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["agent_name"].startswith("'=") and rows[0]["team"] == "Отдел продаж"
    assert rows[0]["multiplier_delta"] == "-0.5" and rows[0]["insufficient"] == "false"
    assert rows[0]["rank"] == ""


def test_xlsx_reads_back_as_text_not_formulas():
    ws = load_workbook(io.BytesIO(render([ROW], "xlsx"))).active
    values = list(ws.iter_rows(values_only=True))
    assert list(values[0]) == [columns.header(c, "en") for c in COLUMNS]
    row = dict(zip(COLUMNS, values[1]))
    assert row["agent_name"] == "'" + ROW["agent_name"] and ws.cell(2, COLUMNS.index("agent_name") + 1).data_type == "s"
    assert row["composite"] == 71.25 and row["multiplier_delta"] == -0.5 and row["team"] == "Отдел продаж"
    assert row["tier"] == "silver" and row["row_type"] == "score"
    assert render([ROW], "xlsx") == render([ROW], "xlsx")     # deterministic: same rows, same checksum


def test_json_and_bad_format():
    body = json.loads(render([ROW], "json"))
    assert body["columns"] == list(COLUMNS) and body["rows"][0]["agent_name"] == ROW["agent_name"]
    with pytest.raises(ValueError, match="format must be one of"):
        render([ROW], "pdf")


def test_exports_carry_no_phone_numbers(build, db_session):
    build.agent("a")
    build.answers("a", 3, 1, start=SEP)
    result = export_period(db_session, "2026-09", "json", actor="hr")
    assert b"+1555" not in result.bytes
    assert db_session.get(Leg, 1) is not None and db_session.query(SurveyAnswer).count() == 8


def test_xlsx_is_laid_out_like_a_payroll_file():
    rows = [ROW, ROW | {"agent_id": "a2", "insufficient": True, "adequacy": 0.734, "response_rate": 0.5,
                        "agent_name": "Анна Бергман-Лунд", "rank": 3}]
    ws = load_workbook(io.BytesIO(render(rows, "xlsx"))).active
    col = {c: i + 1 for i, c in enumerate(COLUMNS)}
    assert ws.freeze_panes == "A2" and ws.cell(1, 1).font.b and ws.auto_filter.ref == f"A1:{ws.cell(1, len(COLUMNS)).column_letter}3"
    assert ws.cell(2, col["insufficient"]).value is False and ws.cell(3, col["insufficient"]).value is True
    assert ws.cell(3, col["insufficient"]).data_type == "b"
    assert ws.cell(3, col["adequacy"]).number_format == "0.0%" and ws.cell(3, col["adequacy"]).value == 0.734
    assert ws.cell(2, col["composite"]).number_format == "0.0" and ws.cell(3, col["rank"]).number_format == "0"
    assert ws.cell(2, col["multiplier_delta"]).number_format.startswith("+0.00")
    widths = {c: ws.column_dimensions[ws.cell(1, i).column_letter].width for c, i in col.items()}
    assert widths["agent_name"] >= len("=HYPERLINK(\"http://x\",\"click\")") and widths["rank"] >= len("rank")
    assert all(8 <= w <= 40 for w in widths.values())
    assert render(rows, "xlsx") == render(rows, "xlsx")
    assert read_csv(render(rows, "csv"))[1]["insufficient"] == "true"     # CSV keeps its text


def test_xlsx_bytes_stay_the_same_and_the_collector_is_left_as_it_was():
    """A locked period's re-export must keep its checksum: the workbook's bytes are pinned (with
    the pinned openpyxl and lxml), whatever is done to make it faster."""
    rows = [ROW, ROW | {"agent_id": "a2", "insufficient": True, "adequacy": 0.734, "response_rate": 0.5,
                        "agent_name": "Анна Бергман-Лунд", "rank": 3}]
    # rows frozen before ``disputes_open`` existed keep the workbook they were locked with (pins re-taken
    # with the employee number, the pay reasons and the XLSX's words)
    before_disputes = [{k: v for k, v in row.items() if k != "disputes_open"} for row in rows]
    assert hashlib.sha256(render(before_disputes, "xlsx")).hexdigest() == \
        "00c115b59e2438d8c9149d5f6f6826e31d249efcf6bde5f8db19ea427fa047db"
    pinned = "9f9e45c31a211b867cbdc895efdcf51441c5f3513687f8bc7f4f1dc1f730ab6d"
    assert gc.isenabled() and hashlib.sha256(render(rows, "xlsx")).hexdigest() == pinned and gc.isenabled()
    gc.disable()
    try:
        assert hashlib.sha256(render(rows, "xlsx")).hexdigest() == pinned and not gc.isenabled()
    finally:
        gc.enable()


def test_xlsx_speaks_the_exporting_users_language_and_explains_its_columns():
    """Headers, tiers and row types in words, in Russian for a Russian user, with a sheet that
    explains every column next to its key; the CSV and JSON keep the keys and codes."""
    rows = [ROW | {"employee_number": "T-0042"},
            ROW | {"agent_id": "a2", "tier": "insufficient-data", "insufficient": True, "row_type": "adjustment",
                   "previous_tier": "none"}]
    book = load_workbook(io.BytesIO(render(rows, "xlsx", lang="ru")))
    assert book.sheetnames == ["премии", "столбцы"]
    sheet = list(book["премии"].iter_rows(values_only=True))
    assert sheet[0][:4] == ("Период выплаты", "Строка", "За период", "ID оператора")
    assert sheet[0][COLUMNS.index("employee_number")] == "Табельный номер"
    assert COLUMNS.index("employee_number") > COLUMNS.index("multiplier_delta")   # new columns after the old
    assert not any(c.isascii() and c.isalpha() for header in sheet[0] for c in header.replace("ID", ""))
    got = [dict(zip(COLUMNS, line)) for line in sheet[1:]]
    assert [(r["tier"], r["row_type"], r["previous_tier"], r["employee_number"]) for r in got] == [
        ("серебро", "оценка", None, "T-0042"), ("нет (мало ответов)", "поправка", "без уровня", None)]
    about = list(book["столбцы"].iter_rows(values_only=True))
    assert about[0] == ("Столбец", "Ключ в CSV и JSON", "Что в нём")
    assert [line[1] for line in about[1:]] == list(COLUMNS) and all(line[0] and line[2] for line in about[1:])
    english = load_workbook(io.BytesIO(render(rows, "xlsx")))
    assert english.sheetnames == ["bonus", "columns"] and english["bonus"].cell(2, COLUMNS.index("tier") + 1).value == "silver"
    assert read_csv(render(rows, "csv"))[1]["tier"] == "insufficient-data"
    assert read_csv(render(rows, "csv"))[0]["employee_number"] == "T-0042"
    assert json.loads(render(rows, "json"))["rows"][1]["previous_tier"] == "none"


def test_every_export_carries_the_agents_employee_number(build, db_session):
    build.agent("a"), build.agent("b")
    build.answers("a", 3, 1, start=SEP)
    build.answers("b", 3, 1, start=SEP)
    db_session.get(Agent, "a").employee_number = "E-17"
    db_session.flush()
    rows = {r["agent_id"]: r for r in read_csv(export_period(db_session, "2026-09", "csv", actor="hr").bytes)}
    assert list(rows["a"]) == list(COLUMNS)
    assert (rows["a"]["employee_number"], rows["b"]["employee_number"]) == ("E-17", "")
    lock_period(db_session, "2026-09", actor="hr")
    db_session.get(Agent, "a").employee_number = "E-99"      # the locked file keeps the number it was locked with
    body = json.loads(export_period(db_session, "2026-09", "json", actor="hr").bytes)
    assert {r["agent_id"]: r["employee_number"] for r in body["rows"]} == {"a": "E-17", "b": None}
