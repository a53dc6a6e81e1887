"""The review queue of findings (agent × kind × month): filters, paging, the finding's page,
bulk review with one comment, and ``flask flags list`` listing what the queue lists."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from html import unescape

from sqlalchemy import select

from dashboard.i18n import LABELS
from tests.dashboard import catalog
from store.accounts import AuditLog
from store.flags import KINDS, Flag
from tests.dashboard.seed import USERS

ROW = re.compile(r'id="finding-(\d+)"')


def _ids(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def _state(database, flag_id):
    with database.session() as s:
        return s.get(Flag, flag_id).state


def test_queue_lists_findings_not_legs_with_evidence_and_calls(browser, seeded):
    browser.login("supervisor")
    html = browser.get("/flags").get_data(as_text=True)
    f = seeded["flags"]
    assert sorted(_ids(html)) == sorted([f["cap-cliff"], f["early-hangup"], f["survey-dodging"]])
    assert f"flag-{f['truncated']}" not in html and f"flag-{f['cap-cut']}" not in html   # leg verdicts: evidence only
    assert "1–3 of 3" in html and "early hang-ups" in html
    assert "37.5% of 24 answered calls vs 10.0% expected" in html and "p = 0.0002, q = 0.0008" in html
    assert html.count('href="/calls/CA') == 15 and "all 9 calls" in html and "all 12 calls" in html
    assert 'name="comment"' in html and 'value="matching"' in html


def test_p_and_q_values_read_in_the_readers_language(browser, seeded):
    """Two significant digits with the reader's decimal sign; a tiny value is "< 0.0001", never "1e-09"."""
    browser.login("supervisor")
    html = unescape(browser.get("/flags").get_data(as_text=True))
    assert "p < 0.0001, q < 0.0001" in html and "e-0" not in html              # the cap cliff: p = 1e-9, q = 4e-9
    browser.post("/lang", {"lang": "ru", "back": "/flags"})
    html = unescape(browser.get("/flags").get_data(as_text=True))
    assert "p = 0,0002, q = 0,0008" in html and "p < 0,0001, q < 0,0001" in html
    finding = unescape(browser.get(f"/flags/{seeded['flags']['cap-cliff']}").get_data(as_text=True))
    assert "p < 0,0001" in finding and "e-0" not in finding


def test_queue_filters_by_team_agent_kind_state_and_period(browser, seeded, database):
    browser.login("supervisor")
    f = seeded["flags"]
    assert sorted(_ids(browser.get("/flags?team=south").get_data(as_text=True))) == sorted(
        [f["cap-cliff"], f["survey-dodging"]])
    assert _ids(browser.get("/flags?agent=ann").get_data(as_text=True)) == [f["early-hangup"]]
    assert _ids(browser.get("/flags?kind=cap-cliff&period=2026-10").get_data(as_text=True)) == [f["cap-cliff"]]
    page = browser.get("/flags?agent=nobody").get_data(as_text=True)                 # not in the list: not applied
    assert len(_ids(page)) == 3 and "“nobody” is not a known value" in page
    assert 'option value="ann"' in page                                              # agents are picked, not typed
    with database.session() as s:
        s.get(Flag, f["cap-cliff"]).state = "dismissed"
    assert len(_ids(browser.get("/flags").get_data(as_text=True))) == 2
    assert _ids(browser.get("/flags?state=dismissed").get_data(as_text=True)) == [f["cap-cliff"]]
    assert len(_ids(browser.get("/flags?state=all").get_data(as_text=True))) == 3


def test_queue_pages_say_n_of_m(browser, seeded, database):
    with database.session() as s:
        for year in range(2001, 2031):   # 30 more months of findings for ann
            s.add(Flag(key=f"repeat-calls:agent:ann:{year}-01", kind="repeat-calls", agent_id="ann",
                       occurred_at=datetime(year, 1, 1, tzinfo=timezone.utc),
                       period_end=datetime(year, 2, 1, tzinfo=timezone.utc), reason="r", evidence={},
                       rule_version="v"))
    browser.login("supervisor")
    first = browser.get("/flags").get_data(as_text=True)
    assert len(_ids(first)) == 25 and "1–25 of 33" in first and 'id="next"' in first and 'id="prev"' not in first
    second = browser.get("/flags?page=2").get_data(as_text=True)
    assert len(_ids(second)) == 8 and "26–33 of 33" in second and 'id="prev"' in second
    assert not set(_ids(first)) & set(_ids(second))
    assert "26–33 of 33" in browser.get("/flags?page=99").get_data(as_text=True)      # past the end: the last page
    assert "1–25 of 33" in browser.get("/flags?page=x").get_data(as_text=True)


def _csv_rows(resp) -> list[list[str]]:
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_findings_csv_holds_the_queue_as_shown(browser, seeded, database):
    browser.login("supervisor")
    f = seeded["flags"]
    page = browser.get("/flags?team=south").get_data(as_text=True)
    assert 'href="/flags.csv?state=open&amp;team=south"' in page                 # the download keeps the filter
    resp = browser.get("/flags.csv?state=open&team=south")
    assert 'filename="findings-open.csv"' in resp.headers["Content-Disposition"]
    rows = _csv_rows(resp)
    assert rows[0] == ["Finding", "Period", "Agent", "Team", "Kind", "Evidence", "p", "q", "Calls behind it", "State",
                       "Reviewed by", "Comment"]
    assert [int(r[0]) for r in rows[1:]] == _ids(page)                           # same findings, same order
    cliff = next(r for r in rows if r[0] == str(f["cap-cliff"]))
    assert cliff[1:5] == ["2026-10", "dan", "south", "calls piled up before the cap"]
    assert float(cliff[6]) == 1e-9 and float(cliff[7]) == 4e-9 and cliff[8] == "12" and cliff[9] == "open"
    everything = _csv_rows(browser.get("/flags.csv?state=all"))
    assert len(everything) == 1 + 3 and not any("+1555" in cell for r in everything for cell in r)
    with database.session() as s:
        s.get(Flag, f["early-hangup"]).state = "dismissed"
    assert [r[0] for r in _csv_rows(browser.get("/flags.csv?state=dismissed&period=2026-10"))[1:]] == \
        [str(f["early-hangup"])]
    browser.post("/lang", {"lang": "ru", "back": "/flags"})
    ru = _csv_rows(browser.get("/flags.csv?state=all&agent=ann"))
    assert ru[0][:3] == ["Запись", "Период", "Оператор"] and len(ru) == 2
    bad = browser.get("/flags.csv?agent=nobody")
    assert bad.status_code == 400 and "Ничего не скачано" in bad.get_data(as_text=True)


def test_finding_page_shows_all_calls_and_the_talk_time_histogram(browser, seeded):
    browser.login("supervisor")
    html = browser.get(f"/flags/{seeded['flags']['early-hangup']}").get_data(as_text=True)
    assert html.count('href="/calls/CA') == 9 and "svg" in html and "short 2:00" in html   # the threshold line
    assert "billing: 120 s" in html and "one-sided exact binomial" in html
    cliff = browser.get(f"/flags/{seeded['flags']['cap-cliff']}").get_data(as_text=True)
    assert cliff.count('href="/calls/CA') == 12 and "cap 13:00" in cliff
    assert browser.get("/flags/999999").status_code == 404
    call = browser.get(f"/calls/{seeded['cut_sid']}").get_data(as_text=True)      # leg verdicts stay as evidence
    assert "cut at the cap" in call and "Verdicts on this call" in call and 'name="decision"' not in call
    agent = browser.get("/agents/ann?period=2026-10").get_data(as_text=True)
    assert f'href="/flags/{seeded["flags"]["early-hangup"]}"' in agent


def test_bulk_review_one_comment_each_audited(browser, seeded, database):
    browser.login("supervisor")
    f = seeded["flags"]
    picked = [f["cap-cliff"], f["early-hangup"]]
    resp = browser.post("/flags/review", {"ids": picked, "decision": "confirm", "comment": " ", "back": "/flags"})
    assert resp.status_code == 302 and {_state(database, i) for i in picked} == {"open"}
    assert "A comment is required" in browser.get("/flags").get_data(as_text=True)
    resp = browser.post("/flags/review", {"ids": [*picked, 999999], "decision": "confirm",
                                          "comment": "Listened to five calls each.", "back": "/flags?state=all"})
    assert resp.headers["Location"] == "/flags?state=all"
    assert [_state(database, i) for i in picked] == ["confirmed", "confirmed"]
    page = browser.get("/flags?state=all").get_data(as_text=True)
    assert "Confirmed: 2." in page and "#999999: no flag 999999" in page               # the partial failure, said
    with database.session() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "flag.confirm").order_by(AuditLog.id)).all()
        assert [(a.actor, a.target, a.detail["comment"]) for a in audit] == [
            (USERS["supervisor"], f"flag:{i}", "Listened to five calls each.") for i in picked]
    assert "Tick at least one" in browser.get(browser.post("/flags/review", {
        "decision": "dismiss", "comment": "x", "back": "/flags"}).headers["Location"]).get_data(as_text=True)
    browser.post("/flags/review", {"ids": ["1; drop"], "decision": "dismiss", "comment": "x"})
    assert "was not understood" in browser.get("/flags").get_data(as_text=True)
    # Everything the filter matches: here the one open survey-dodging finding, in Russian.
    browser.post("/lang", {"lang": "ru", "back": "/flags"})
    browser.post("/flags/review", {"scope": "matching", "state": "open", "team": "south", "decision": "dismiss",
                                   "comment": "Разобрано на планёрке."})
    assert _state(database, f["survey-dodging"]) == "dismissed" and _state(database, f["cap-cut"]) == "open"
    assert "Отклонено: 1." in browser.get("/flags").get_data(as_text=True)


def test_hr_cannot_bulk_review(browser, seeded, database):
    browser.login("hr")
    flag_id = seeded["flags"]["early-hangup"]
    assert browser.post("/flags/review", {"ids": [flag_id], "decision": "confirm", "comment": "x"}).status_code == 403
    assert browser.get(f"/flags/{flag_id}").status_code == 403
    assert _state(database, flag_id) == "open"


def test_every_kind_has_a_name_in_both_languages():
    names = dict(catalog.pairs())
    assert all(k in LABELS["flag_kind"] and names.get(LABELS["flag_kind"][k]) for k in KINDS)


def test_flags_list_lists_what_the_queue_lists(app, seeded, database):
    runner = app.test_cli_runner()
    f = seeded["flags"]
    listed = runner.invoke(args=["flags", "list"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    # October's findings are dated 2026-10-01, long before "the last 30 days": still listed.
    assert [r["id"] for r in rows] == [f["early-hangup"], f["survey-dodging"], f["cap-cliff"]]   # ann, cat, dan
    assert all(r["leg_id"] is None and r["state"] == "open" for r in rows)
    south = runner.invoke(args=["flags", "list", "--team", "south", "--period", "2026-10"])
    assert sorted(json.loads(line)["agent_id"] for line in south.output.splitlines()) == ["cat", "dan"]
    legs = runner.invoke(args=["flags", "list", "--kind", "truncated", "--state", "all"])
    assert [json.loads(line)["id"] for line in legs.output.splitlines()] == [f["truncated"]]
    bad = runner.invoke(args=["flags", "list", "--period", "October"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    done = runner.invoke(args=["flags", "review", str(f["cap-cliff"]), str(f["early-hangup"]), "999999", "--dismiss",
                               "--comment", "reviewed at the weekly meeting", "--actor", "sup:ivan"])
    assert done.exit_code != 0 and "flag 999999: no flag 999999" in done.output
    assert [json.loads(line)["state"] for line in done.stdout.splitlines()] == ["dismissed", "dismissed"]
    assert [json.loads(line)["id"] for line in runner.invoke(args=["flags", "list"]).output.splitlines()] == \
        [f["survey-dodging"]]


def test_the_queue_says_what_confirming_would_do_to_pay_in_both_languages(browser, seeded, database):
    from scoring.payroll.confirm_cost import confirm_cost
    browser.login("supervisor")
    f = seeded["flags"]
    with database.session() as s:
        cost = confirm_cost(s, f["early-hangup"], rollup=True)
    b, a = cost.before, cost.after
    html = unescape(browser.get("/flags").get_data(as_text=True))
    shown = re.search(rf'id="cost-{f["early-hangup"]}">([^<]*)<', html)[1]
    assert shown.startswith("confirming moves Ann from" if cost.moves_pay else "confirming leaves Ann at")
    assert f"×{a.multiplier:.2f}" in shown and f"(composite {b.composite:.1f} → {a.composite:.1f})" in shown
    assert b.composite > a.composite
    page = unescape(browser.get(f"/flags/{f['early-hangup']}").get_data(as_text=True))
    assert f'id="confirm-cost">{shown}<' in page
    browser.post("/lang", {"lang": "ru", "back": "/flags"})
    ru = unescape(browser.get("/flags").get_data(as_text=True))
    said = re.search(rf'id="cost-{f["early-hangup"]}">([^<]*)<', ru)[1]
    assert said.startswith("подтверждение ") and "итоговый балл" in said
    # Once confirmed there is nothing to preview.
    browser.post(f"/flags/{f['early-hangup']}/review", {"decision": "confirm", "comment": "heard them"})
    assert f'id="cost-{f["early-hangup"]}"' not in browser.get("/flags?state=all").get_data(as_text=True)
    assert 'id="confirm-cost"' not in browser.get(f"/flags/{f['early-hangup']}").get_data(as_text=True)


def test_a_transfer_out_finding_reads_in_both_languages_with_its_histogram(browser, seeded, database):
    with database.session() as s:
        legs = s.scalars(select(Flag)).all()
        ann_legs = next(x for x in legs if x.kind == "early-hangup").evidence["leg_ids"]
        flag = Flag(key="transfer-out:agent:ann:2026-10", kind="transfer-out", agent_id="ann",
                    occurred_at=datetime(2026, 10, 1, tzinfo=timezone.utc),
                    period_end=datetime(2026, 11, 1, tzinfo=timezone.utc), reason="transferred 9 of 24",
                    rule_version="2026-12-r2",
                    evidence={"legs": 24, "observed": 9, "expected": 1.2, "share": 0.375, "expected_share": 0.05,
                              "excess": 0.325, "p_value": 0.0001, "q_value": 0.0004, "agents_tested": 4, "fdr": 0.05,
                              "transferred_to": {"general": 7, "tech": 2}, "leg_ids": ann_legs})
        s.add(flag)
        s.flush()
        flag_id = flag.id
    browser.login("supervisor")
    html = unescape(browser.get("/flags?kind=transfer-out").get_data(as_text=True))
    assert _ids(html) == [flag_id] and "transfers out" in html
    assert "transferred 9 of 24 answered calls (38%) to another queue" in html
    page = unescape(browser.get(f"/flags/{flag_id}").get_data(as_text=True))
    assert "Talk before the transfer" in page and "<svg" in page and "median call" in page
    assert "general: 7, tech: 2" in page and page.count('href="/calls/CA') == 9
    browser.post("/lang", {"lang": "ru", "back": "/flags"})
    ru = unescape(browser.get(f"/flags/{flag_id}").get_data(as_text=True))
    assert "Разговор до перевода" in ru and "переводы в другие очереди" in ru and "перевёл 9 из 24" in ru
