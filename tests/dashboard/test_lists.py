"""Every list says how much of the whole it shows ("1–50 of 96 calls") and pages through it;
/calls searches and filters by GET arguments; CSV downloads hold what the page shows; a
scorecard's n leads to its calls; the SLA panel adds up; the centre's weeks add up."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta


from dashboard.call_list import CallFilter, count_calls, iter_calls, parse_search
from dashboard.csv_out import csv_response
from dashboard.masking import mask
from scoring.outcomes.rules import load_rules
from scoring.outcomes.sla import sla_report, sla_total
from scoring.scorecards.drilldown import trace
from scoring.trends import centre_trend
from store.accounts import audit
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry
from tests.dashboard.seed import AGENTS, CALLS_PER_AGENT, CUTTER, PERIOD, START, add_call

ALL = len(AGENTS) * CALLS_PER_AGENT     # 96 seeded calls, all in October
COUNT = re.compile(r'<span class="count">(.*?)</span>', re.S)
ROW_SID = re.compile(r'href="/calls/(CA\w+)"')
ERROR = re.compile(r'<p class="flash error"[^>]*>(.*?)</p>', re.S)


def page(browser, url):
    resp = browser.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def counts(text) -> list[str]:
    return [html.unescape(re.sub(r"\s+", " ", c)).strip() for c in COUNT.findall(text)]


def errors(text) -> list[str]:
    return [html.unescape(e) for e in ERROR.findall(text)]


def sids(text) -> list[str]:
    return list(dict.fromkeys(ROW_SID.findall(text)))


def rows_of(resp) -> list[list[str]]:
    body = resp.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- paging ---------------------------------------------------------------------------------
def test_calls_pages_show_n_of_m_and_together_hold_every_call_once(browser):
    browser.login("supervisor")
    first = page(browser, f"/calls?period={PERIOD}")
    assert counts(first) == [f"1–50 of {ALL} calls"] * 2 and not errors(first)
    second = page(browser, f"/calls?period={PERIOD}&page=2")
    assert counts(second)[0] == f"51–{ALL} of {ALL} calls"
    assert len(sids(first)) == 50 and len(sids(second)) == ALL - 50 and not set(sids(first)) & set(sids(second))
    assert 'rel="next"' in first and 'rel="prev"' not in first and 'rel="prev"' in second and 'rel="next"' not in second
    assert f"period={PERIOD}" in re.search(r'rel="next" href="([^"]+)"', first).group(1)
    past = page(browser, f"/calls?period={PERIOD}&page=7")          # past the end: the last page
    assert counts(past)[0] == f"51–{ALL} of {ALL} calls" and not errors(past)
    bad = page(browser, f"/calls?period={PERIOD}&page=abc")
    assert errors(bad) == ["Page: “abc” is not a page number, so the first page is shown."]
    assert counts(bad)[0] == f"1–50 of {ALL} calls"
    for value in ("0", "-1", "9" * 30):
        assert errors(page(browser, f"/calls?period={PERIOD}&page={value}")), value


def test_counts_are_declined_in_russian(browser):
    browser.login("supervisor")
    browser.post("/lang", {"lang": "ru", "back": "/"})
    one = page(browser, f"/calls?period={PERIOD}&q=CA{1:032d}")
    assert counts(one)[0] == "1–1 из 1 звонка"
    assert counts(page(browser, f"/calls?period={PERIOD}"))[0] == f"1–50 из {ALL} звонков"
    assert counts(page(browser, f"/calls?period={PERIOD}&agent={CUTTER}"))[0] == "1–24 из 24 звонков"
    bad = page(browser, f"/calls?period={PERIOD}&page=x")
    assert errors(bad) == ["Страница: «x» — не номер страницы, поэтому показана первая."]


def test_the_audit_log_pages(browser, database):
    with database.session() as s:
        for i in range(130):
            audit(s, "test@example.com", "test.entry", f"thing:{i}")
    browser.login("hr")
    first = page(browser, "/hr/audit?action=test.")
    assert counts(first)[0] == "1–100 of 130 entries"
    second = page(browser, "/hr/audit?action=test.&page=2")
    assert counts(second)[0] == "101–130 of 130 entries" and "thing:0<" in second and "thing:129<" not in second


def test_the_agent_page_is_in_sections_with_paged_lists(browser, database):
    with database.session() as s:
        for i in range(30):
            add_call(s, f"CA9{i:031d}", CUTTER, START + timedelta(days=2, minutes=i), 100, "caller", {})
    browser.login("supervisor")
    text = page(browser, f"/agents/{CUTTER}?period={PERIOD}")
    for section in ("summary", "trends", "handle-time", "agent-flags", "agent-calls"):
        assert f'id="{section}"' in text and f'href="#{section}"' in text
    assert counts(text) == ["1–2 of 2 flags"] * 2 + ["1–25 of 54 calls"] * 2   # a cut and the month's cap-cliff finding
    second = page(browser, f"/agents/{CUTTER}?period={PERIOD}&calls_page=2")
    assert counts(second)[2] == "26–50 of 54 calls"
    link = re.search(r'rel="next" href="([^"]+)"', second).group(1)
    assert "calls_page=3" in html.unescape(link) and link.endswith("#agent-calls")


# --- search and filters -----------------------------------------------------------------------
def test_search_by_number_digits_or_callsid_shows_numbers_masked(browser, database):
    with database.session() as s:
        number = s.get(Call, f"CA{7:032d}").from_number            # +15550000007
    browser.login("supervisor")
    for q in (number, number[-4:], "+1 555 000-0007", "0000007"):
        text = page(browser, f"/calls?period={PERIOD}&q={q.replace('+', '%2B').replace(' ', '+')}")
        assert sids(text) == [f"CA{7:032d}"], q
        table = text[text.index('<table class="calls"'):]           # the box echoes what was typed; the list masks
        assert number not in table and mask(number) in table and mask(number).endswith(number[-4:])
    assert sids(page(browser, f"/calls?period={PERIOD}&q=CA{7:032d}")) == [f"CA{7:032d}"]
    assert sids(page(browser, f"/calls?period={PERIOD}&q=CA{999:032d}")) == []
    for bad in ("abc", "12", "CA-1"):
        text = page(browser, f"/calls?period={PERIOD}&q={bad}")
        assert errors(text) == [f"Search by a caller number (the whole number or at least its last 4 digits) or a "
                                f"CallSid (CA…), not “{bad}”; the search was not applied."]
        assert counts(text)[0] == f"1–50 of {ALL} calls"


def _ivr_and_unanswered(database):
    at = START + timedelta(days=3)
    with database.session() as s:
        s.add(Call(sid="CAivr", from_number="+15559990001", status="completed", started_at=at))
        s.add(Call(sid="CAgaveup", from_number="+15559990002", status="completed", started_at=at))
        s.add(QueueEntry(call_sid="CAgaveup", visit=1, queue="tech", reason="menu", state="abandoned",
                         wait_seconds=40, created_at=at))


def test_filters_by_agent_outcome_and_queue_are_shareable_get_args(browser, database):
    _ivr_and_unanswered(database)
    browser.login("supervisor")
    def shown(args):
        text = page(browser, f"/calls?period={PERIOD}&{args}")
        return counts(text)[0] if counts(text) else None, errors(text)
    assert shown(f"agent={CUTTER}") == ("1–24 of 24 calls", [])
    assert shown("outcome=handled") == (f"1–50 of {ALL} calls", [])
    assert shown("outcome=ivr") == ("1–1 of 1 call", [])
    assert shown("outcome=unanswered") == ("1–1 of 1 call", [])
    assert shown("queue=tech") == ("1–1 of 1 call", [])
    assert shown("queue=billing&agent=ann&outcome=handled") == ("1–24 of 24 calls", [])
    assert shown("outcome=maybe") == (f"1–50 of {ALL + 2} calls",
                                      ["Outcome: “maybe” is not a known value, so this filter was not applied."])
    assert shown("agent=nobody")[1] == ["Agent: “nobody” is not a known value, so this filter was not applied."]
    text = page(browser, f"/calls?period={PERIOD}&agent={CUTTER}")
    assert f'<option value="{CUTTER}" selected>' in text                # picked from a list
    assert f"/calls.csv?agent={CUTTER}&amp;period={PERIOD}" in text       # the download keeps the selection


def test_no_page_shows_a_whole_caller_number(browser, database):
    """The call's own page masks its caller as the lists do; so do the pages that list calls."""
    sid = f"CA{7:032d}"
    with database.session() as s:
        number = s.get(Call, sid).from_number
    browser.login("supervisor")
    call = page(browser, f"/calls/{sid}")
    assert number not in call and number[1:] not in call
    assert html.unescape(re.search(r'<dd id="caller">(.*?)</dd>', call).group(1)) == mask(number)
    for url in (f"/calls?period={PERIOD}", f"/calls.csv?period={PERIOD}", f"/agents/{CUTTER}?period={PERIOD}",
                "/flags?state=all", f"/flags.csv?state=all", f"/scorecards?period={PERIOD}"):
        text = browser.get(url).get_data(as_text=True)
        assert "+1555" not in text and "15550000" not in text, url


def test_parse_search():
    assert parse_search("  ") is None
    assert parse_search("CA123abc").sid == "CA123abc"
    assert parse_search("+1 (555) 000-1234").digits == "15550001234"
    assert mask("+15550001234") == "••••••••1234" and mask("123") == "•••" and mask("") == ""


def test_count_calls_matches_the_list(db_session, seeded):
    from dashboard.call_list import list_calls
    wide = (START - timedelta(days=1), START + timedelta(days=60))
    for f in (CallFilter(*wide), CallFilter(*wide, team="south"), CallFilter(*wide, search=parse_search("0001"))):
        everything = list_calls(db_session, f, limit=None)
        assert count_calls(db_session, f) == len(everything)
        assert list(iter_calls(db_session, f, chunk=7)) == everything          # chunked, same rows, same order


# --- CSV ----------------------------------------------------------------------------------------
def test_calls_csv_holds_the_selection_masked_and_refuses_a_bad_filter(browser, database):
    browser.login("supervisor")
    resp = browser.get(f"/calls.csv?period={PERIOD}&agent={CUTTER}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = rows_of(resp)
    assert rows[0] == ["Started", "CallSid", "Caller", "Agents", "Talk (s)", "Ended by", "Adequacy", "CSAT 1–5",
                       "Status"]
    assert len(rows) == 1 + 24 and {r[3] for r in rows[1:]} == {CUTTER}
    listed = sids(page(browser, f"/calls?period={PERIOD}&agent={CUTTER}"))
    assert [r[1] for r in rows[1:]] == listed                           # same calls, same order
    assert not any("+1555" in cell for r in rows for cell in r)
    assert all(r[2].startswith("•") for r in rows[1:])
    everything = rows_of(browser.get(f"/calls.csv?period={PERIOD}"))
    assert len(everything) == 1 + ALL                                    # every page, not only the first
    bad = browser.get(f"/calls.csv?period={PERIOD}&agent=nobody")
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    assert "Nothing was downloaded" in bad.get_data(as_text=True)


def test_scorecards_csv_follows_the_page_sort_and_defuses_formulas(browser, database):
    with database.session() as s:
        s.add(Agent(id="eve", name='=HYPERLINK("http://evil.example","x")', team="north", skills=["billing"]))
        s.flush()
        add_call(s, "CA8" + "0" * 31, "eve", START + timedelta(days=1), 200, "agent", {"adequate": 1})
    browser.login("supervisor")
    shown = page(browser, f"/scorecards?period={PERIOD}&sort=aht&dir=desc")
    order = re.findall(r'data-agent="([^"]+)"', shown)
    rows = rows_of(browser.get(f"/scorecards.csv?period={PERIOD}&sort=aht&dir=desc"))
    assert [r[1] for r in rows[1:]] == order and len(order) == len(AGENTS) + 1
    header = rows[0]
    eve = next(r for r in rows if r[1] == "eve")
    assert eve[header.index("Name")] == '\'=HYPERLINK("http://evil.example","x")'
    dan = next(r for r in rows if r[1] == CUTTER)
    assert float(dan[header.index("Adequacy %")]) > 0 and int(dan[header.index("Handled")]) == 24
    only_south = rows_of(browser.get(f"/scorecards.csv?period={PERIOD}&team=south"))
    assert {r[3] for r in only_south[1:]} == {"south"}
    assert browser.get(f"/scorecards.csv?period={PERIOD}&sort=nope").status_code == 400


def test_scorecards_page_50_agents_at_a_time_with_n_of_m(browser, database):
    with database.session() as s:
        for i in range(60):                                  # 64 agents in all: two pages
            s.add(Agent(id=f"z{i:02d}", name=f"Agent {i}", team="north", skills=["billing"]))
            s.flush()
            add_call(s, f"CA9{i:031d}", f"z{i:02d}", START + timedelta(days=2), 200, "caller", {"adequate": 1})
    browser.login("supervisor")
    first = page(browser, f"/scorecards?period={PERIOD}&sort=agent&dir=asc")
    assert counts(first) == ["1–50 of 64 agents"] * 2
    second = page(browser, f"/scorecards?period={PERIOD}&sort=agent&dir=asc&page=2")
    assert counts(second) == ["51–64 of 64 agents"] * 2
    agents = [re.findall(r'data-agent="([^"]+)"', t) for t in (first, second)]
    assert [len(a) for a in agents] == [50, 14] and not set(agents[0]) & set(agents[1])
    assert agents[0] + agents[1] == [r[1] for r in rows_of(browser.get(
        f"/scorecards.csv?period={PERIOD}&sort=agent&dir=asc"))[1:]]          # the CSV: every page, same order
    link = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    assert "page=2" in link and "sort=agent" in link and f"period={PERIOD}" in link
    browser.post("/lang", {"lang": "ru", "back": "/scorecards"})
    assert counts(page(browser, f"/scorecards?period={PERIOD}&page=2"))[0] == "51–64 из 64 операторов"


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(app):
    with app.test_request_context():
        resp = csv_response("x.csv", ["a", "b"], [["=1+1", -3], ["@SUM(A1)", "+x"], ["\tcmd", None]])
        assert rows_of(resp)[1:] == [["'=1+1", "-3"], ["'@SUM(A1)", "'+x"], ["'\tcmd", ""]]


# --- n → calls ---------------------------------------------------------------------------------
def test_a_scorecards_n_leads_to_the_calls_behind_it(browser, database):
    browser.login("supervisor")
    text = page(browser, f"/scorecards?period={PERIOD}")
    link = re.search(rf'href="(/agents/{CUTTER}/calls/adequacy\?[^"]+)"[^>]*>n=(\d+)<', text)
    assert link, "the n of the adequacy column links to its calls"
    n = int(link.group(2))
    behind = page(browser, html.unescape(link.group(1)))
    with database.session() as s:
        from tests.dashboard.test_lists import _october
        traced = trace(s, CUTTER, *_october(s), "adequacy")
    assert n == len(traced) > 0 and counts(behind)[0] == f"1–{n} of {n} calls"
    assert set(sids(behind)) == {r["call_sid"] for r in traced}
    handled = page(browser, f"/agents/{CUTTER}/calls/handled?period={PERIOD}")
    assert counts(handled)[0] == "1–24 of 24 calls"
    assert browser.get(f"/agents/{CUTTER}/calls/nonsense?period={PERIOD}").status_code == 404
    assert browser.get(f"/agents/nobody/calls/handled?period={PERIOD}").status_code == 404


def _october(s):
    from store.payroll import PayPeriod
    p = s.get(PayPeriod, PERIOD)
    return p.starts_at, p.ends_at


# --- SLA and the centre's weeks --------------------------------------------------------------------
def _others(database):
    """A call whose agent did not answer (back to the queue, then handled) and one that failed."""
    at = START + timedelta(days=4)
    with database.session() as s:
        s.add(Call(sid="CAredir", from_number="+15559990003", status="completed", started_at=at))
        first = QueueEntry(call_sid="CAredir", visit=1, queue="billing", reason="menu", state="left",
                           wait_seconds=10, created_at=at)
        second = QueueEntry(call_sid="CAredir", visit=2, queue="billing", reason="redirect", state="left",
                            wait_seconds=15, created_at=at + timedelta(seconds=40))
        s.add_all([first, second])
        s.flush()
        s.add(Leg(call_sid="CAredir", seq=1, entry_id=first.id, queue="billing", agent_id="ann",
                  dial_status="no-answer", bridged=False, created_at=at))
        s.add(Leg(call_sid="CAredir", seq=2, entry_id=second.id, queue="billing", agent_id="bob",
                  dial_status="completed", bridged=True, talk_seconds=100, ended_by="caller", created_at=at))
        s.add(Call(sid="CAfailed", from_number="+15559990004", status="failed", started_at=at))
        s.add(QueueEntry(call_sid="CAfailed", visit=1, queue="tech", reason="menu", state="left",
                         wait_seconds=3, created_at=at))


def test_the_sla_panel_adds_up_to_what_flask_sla_says(app, browser, database):
    _others(database)
    _ivr_and_unanswered(database)
    browser.login("supervisor")
    text = html.unescape(page(browser, f"/scorecards?period={PERIOD}"))
    offered = re.search(r'id="sla-offered">(.*?)</dd>', text, re.S).group(1)
    numbers = [int(x) for x in re.findall(r"\d+", offered.replace(",", ""))]
    assert numbers[0] == sum(numbers[1:])
    rules = load_rules()
    with database.session() as s:
        rows = sla_report(s, *_october(s), by="queue", sla_seconds=rules.service_level_seconds,
                          short_abandon_seconds=rules.short_abandon_seconds)
    total = sla_total(rows)
    assert total["redirected"] == 1 and total["failed"] == 1 and total["abandoned"] >= 1
    assert numbers == [total["offered"], total["handled"], total["abandoned"], total["redirected"] + total["failed"]]
    assert total["offered"] == total["handled"] + total["abandoned"] + total["redirected"] + total["failed"]
    others = re.search(r'id="sla-others">(.*?)</dd>', text, re.S).group(1)
    assert "did not answer, back to the queue 1" in others and "failed 1" in others
    with database.session() as s:
        start, end = _october(s)
    cli = app.test_cli_runner().invoke(args=["sla", "--start", start.isoformat(), "--end", end.isoformat(), "--json"])
    assert cli.exit_code == 0, cli.output
    import json
    printed = [json.loads(line) for line in cli.output.splitlines() if line.startswith("{")]
    assert sum(r["offered"] for r in printed) == total["offered"]
    assert sum(r["handled"] for r in printed) == total["handled"]
    assert sum(r["others"] for r in printed) == total["others"] == 2
    for by in ("queue", "team"):                         # the table: an others column, and the panel's total
        table = app.test_cli_runner().invoke(args=["sla", "--start", start.isoformat(), "--end", end.isoformat(),
                                                   "--by", by])
        assert table.exit_code == 0, table.output
        lines = [line.split() for line in table.output.splitlines()]
        assert lines[0][:6] == [by, "offered", "handled", "aband", "others", "short"]
        assert [int(v) for v in lines[-1][1:5]] == numbers and lines[-1][0] == "(all)"
        for line in lines[1:-1]:
            assert int(line[1]) == sum(int(v) for v in line[2:5])    # offered = handled + abandoned + others


def test_the_centres_weeks_add_up_and_are_charted(browser, database):
    _others(database)
    rules = load_rules()
    with database.session() as s:
        start, end = _october(s)
        weeks = centre_trend(s, start, end, sla_seconds=rules.service_level_seconds,
                             short_abandon_seconds=rules.short_abandon_seconds)
        total = sla_total(sla_report(s, start, end, sla_seconds=rules.service_level_seconds,
                                     short_abandon_seconds=rules.short_abandon_seconds))
    assert [w["week"].weekday() for w in weeks] == [0] * len(weeks) and len(weeks) >= 3
    assert sum(w["offered"] for w in weeks) == total["offered"]
    assert all(0 <= w[k] <= 1 for w in weeks for k in ("service_level", "adequacy", "csat") if w[k] is not None)
    browser.login("supervisor")
    text = page(browser, f"/scorecards?period={PERIOD}")
    chart = re.search(r'id="centre-trends">(.*?)</section>', text, re.S).group(1)
    assert "<svg" in chart and all(f"s-{k}" in chart for k in ("sl", "abandon", "adequacy", "csat"))


def test_the_agent_page_says_what_each_count_counts_and_call_verdicts_are_evidence(browser, seeded):
    browser.login("supervisor")
    page = browser.get(f"/agents/{CUTTER}?period={PERIOD}").get_data(as_text=True)
    assert 'id="what-counts"' in page and "every time this agent was rung" in page
    verdict = re.search(rf'<tr id="flag-{seeded["flags"]["cap-cut"]}".*?</tr>', page, re.S).group()
    finding = re.search(rf'<tr id="flag-{seeded["flags"]["cap-cliff"]}".*?</tr>', page, re.S).group()
    assert "evidence, not a finding to review" in verdict and ">open<" not in verdict.replace("\n", "")
    assert "evidence, not a finding" not in finding and "open" in finding      # a finding stays one to review
    assert "Findings and call verdicts" in page.split('id="sections"')[1][:800]


def test_cap_cut_verdicts_beside_no_cliff_say_they_are_expected(browser, seeded, database):
    """An honest agent's talk times spread smoothly past the cap: the cliff test finds nothing, so
    the odd call ending just before the cap is said to be expected, in both languages."""
    from store.flags import Flag
    with database.session() as s:
        s.add(Agent(id="eve", name="Eve", team="north", skills=["billing"]))
        s.flush()
        legs = [add_call(s, f"CA9{i:031d}", "eve", START + timedelta(days=i % 20, hours=i % 7), 545 + 8 * i, "agent", {})
                for i in range(60)]                           # 545 s .. 1017 s, one every 8 s
        near = next(leg for leg in legs if 750 <= leg.talk_seconds < 780)
        s.add(Flag(key=f"cap-cut:{near.call_sid}", kind="cap-cut", leg_id=near.id, call_sid=near.call_sid,
                   agent_id="eve", occurred_at=START, reason="agent ended the call just before the 13-minute cap",
                   evidence={"talk_seconds": near.talk_seconds, "cap_seconds": 780}, rule_version="2026-11-r1"))
    browser.login("supervisor")
    honest = page(browser, f"/agents/eve?period={PERIOD}")
    assert "No cliff" in honest and 'id="cap-cut-no-cliff"' in honest
    assert "a few calls ending near the cap are expected" in honest
    cutter = page(browser, f"/agents/{CUTTER}?period={PERIOD}")   # a real cliff: no such reassurance
    assert "cut at the cap" in cutter and 'id="cap-cut-no-cliff"' not in cutter
    assert 'id="cap-cut-no-cliff"' not in page(browser, f"/agents/bob?period={PERIOD}")   # no cap-cut verdict
    browser.post("/profile", {"locale": "ru"})
    russian = page(browser, f"/agents/eve?period={PERIOD}")
    note = html.unescape(re.search(r'id="cap-cut-no-cliff">(.*?)</p>', russian, re.S).group(1))
    assert "ожидаем" in note and not re.search(r"[A-Za-z]{3,}", note)
