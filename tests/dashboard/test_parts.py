"""The dashboard's own pieces: timeline and talk-time queries, SVG charts, date filters."""
from __future__ import annotations

from datetime import date, datetime, timezone
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from dashboard import call_list, queries, svg
from dashboard.call_list import CallFilter
from dashboard.filters import BAD_TO, FilterError, from_args
from tests.dashboard.seed import CUTTER, START

WIDE = (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))


def test_call_timeline_tells_the_story_in_order(db_session, seeded):
    call, events = queries.call_timeline(db_session, seeded["cut_sid"])
    assert [e.kind for e in events][:4] == ["ivr", "ivr", "queue", "leg"]
    assert events[0].data == {"step": "language", "attempt": "1", "digits": "1"}
    leg = events[3].data
    assert leg["agent_id"] == CUTTER and leg["ended_by"] == "agent" and 770 <= leg["talk_seconds"] < 780
    assert queries.call_timeline(db_session, "CA-nope") is None


def test_agent_ended_talk_times_leave_caller_hangups_out(db_session, seeded):
    talk = queries.agent_ended_talk_times(db_session, *WIDE)
    assert set(talk) == {"ann", "bob", "cat", "dan"}
    near_cap = [x for x in talk[CUTTER] if 750 <= x < 780]
    assert len(near_cap) >= 12                                   # every other call of the cutter
    only_dan = queries.agent_ended_talk_times(db_session, *WIDE, agent_id=CUTTER)
    assert only_dan == {CUTTER: talk[CUTTER]}
    south = queries.agent_ended_talk_times(db_session, *WIDE, team="south")
    assert set(south) == {"cat", "dan"}
    assert queries.agent_ended_talk_times(db_session, datetime(2025, 1, 1, tzinfo=timezone.utc), START) == {}


def test_list_calls_filters_by_agent_and_time(db_session, seeded):
    rows = call_list.list_calls(db_session, CallFilter(*WIDE, agent_id=CUTTER))
    assert len(rows) == 24 and all(r.agents == (CUTTER,) for r in rows)
    assert rows == sorted(rows, key=lambda r: r.started_at, reverse=True)
    assert len(call_list.list_calls(db_session, CallFilter(*WIDE, team="north"))) == 48


def test_bin_counts():
    assert queries.bin_counts([0, 9, 10, 25, 999], 10, 30) == [2, 1, 2]
    with pytest.raises(ValueError):
        queries.bin_counts([1], 10, 25)


def test_histogram_marks_the_cap_and_the_window():
    counts = queries.bin_counts([100, 200, 775, 776, 777], 10, 1080)
    doc = ElementTree.fromstring(str(svg.histogram(counts, 10, 780, window=30, title="t <&>")))
    ns = {"s": "http://www.w3.org/2000/svg"}
    cap = doc.find(".//s:line[@class='cap']", ns)
    x_cap = float(cap.get("x1"))
    assert x_cap == pytest.approx(40 + 780 * (560 - 50) / 1080, abs=0.1)  # default width 560
    near = doc.findall(".//s:rect[@class='bar near-cap']", ns)
    assert len(near) == 1 and near[0].find("s:title", ns).text.endswith(": 3")
    assert len(doc.findall(".//s:rect[@class='bar']", ns)) == 2
    assert doc.find("s:title", ns).text == "t <&>"                # escaped, still well-formed XML


def test_trend_draws_bands_and_leaves_gaps():
    points = [(0.8, 0.7, 0.9), None, (0.6, 0.5, 0.7), (0.65, 0.55, 0.75)]
    doc = ElementTree.fromstring(str(svg.trend(["a", "b", "c", "d"], [svg.Series("Adequacy", "s-adequacy", points)])))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(doc.findall(".//s:polyline", ns)) == 2             # the gap splits the line
    assert len(doc.findall(".//s:polygon", ns)) == 2
    assert len(doc.findall(".//s:circle", ns)) == 3


def test_trend_legend_wraps_inside_the_chart():
    """Four series do not fit a 520 px row of 150 px entries: the fourth goes on a second row
    (it was drawn past the right edge, and cut off), and the chart grows to hold it."""
    names = ["Service level", "Abandonment", "Adequacy", "CSAT"]
    one = [svg.Series(n, f"s-{i}", [(0.5, 0.4, 0.6)]) for i, n in enumerate(names)]
    doc = ElementTree.fromstring(str(svg.trend(["w1"], one, width=520, height=200)))
    ns = {"s": "http://www.w3.org/2000/svg"}
    swatches = doc.findall(".//s:rect[@width='10']", ns)
    assert len(swatches) == 4 and all(float(r.get("x")) + svg.LEGEND_W <= 520 + 8 for r in swatches)
    assert len({r.get("y") for r in swatches}) == 2 and doc.get("height") == str(200 + svg.LEGEND_H)
    assert max(float(r.get("y")) for r in swatches) + 10 <= 200 + svg.LEGEND_H


def test_date_filters():
    tz = ZoneInfo("Europe/Moscow")
    rng = from_args({"from": "2026-10-01", "to": "2026-10-31"}, tz, date(2026, 11, 25))
    assert rng.start == datetime(2026, 9, 30, 21, tzinfo=timezone.utc)
    assert rng.end == datetime(2026, 10, 31, 21, tzinfo=timezone.utc)
    default = from_args({}, tz, date(2026, 11, 25))
    assert (default.first_day, default.last_day) == (date(2026, 10, 29), date(2026, 11, 25))
    with pytest.raises(FilterError, match="start date must be a date like 2026-11-30, not “yesterday”"):
        from_args({"from": "yesterday"}, tz, date(2026, 11, 25))
    with pytest.raises(FilterError, match="no period “1999-01”"):
        from_args({"period": "1999-01"}, tz, date(2026, 11, 25), {})
    for far in ("0001-01-01", "9999-12-31"):      # beyond datetime's range once moved to UTC
        with pytest.raises(FilterError, match="Dates must lie between 2000-01-01 and 2099-12-31"):
            from_args({"from": far, "to": far}, tz, date(2026, 11, 25))
    with pytest.raises(FilterError, match="at most 400 days"):
        from_args({"from": "2024-01-01", "to": "2026-01-01"}, tz, date(2026, 11, 25))
    with pytest.raises(FilterError) as refused:
        from_args({"to": "x" * 500}, tz, date(2026, 11, 25))
    assert refused.value.msgid == BAD_TO and len(refused.value.params["value"]) == 41   # shortened in the message


def test_a_lone_week_is_a_bar_with_its_value_not_a_dot():
    doc = ElementTree.fromstring(str(svg.trend(["w1"], [svg.Series("Adequacy", "s-adequacy", [(0.72, 0.6, 0.8)])])))
    ns = {"s": "http://www.w3.org/2000/svg"}
    whisker = doc.find(".//s:line[@class='whisker s-adequacy']", ns)
    assert whisker is not None and float(whisker.get("y1")) > float(whisker.get("y2"))    # low below high
    assert doc.find(".//s:text[@class='label value s-adequacy']", ns).text == "72%"
    two = ElementTree.fromstring(str(svg.trend(["w1", "w2"], [svg.Series("A", "s-a", [(0.7, 0.6, 0.8)] * 2)])))
    assert two.find(".//s:line[@class='whisker s-a']", ns) is None                   # a line says it itself


def test_insufficient_rows_sort_last_whatever_the_column():
    from types import SimpleNamespace as Row

    from dashboard.supervise import sort_rows
    rows = [Row(agent_id="a", handled=50, insufficient=True), Row(agent_id="b", handled=10, insufficient=False),
            Row(agent_id="c", handled=30, insufficient=False), Row(agent_id="d", handled=None, insufficient=False)]
    assert [r.agent_id for r in sort_rows(rows, "handled", "desc")] == ["c", "b", "a", "d"]
    assert [r.agent_id for r in sort_rows(rows, "agent", "asc")][-1] == "a"


def test_a_deadline_at_midnight_is_the_end_of_the_day_before(app):
    from flask_babel import force_locale

    from dashboard.templating import deadline
    with app.test_request_context(), force_locale("ru"):
        midnight = datetime(2026, 12, 7, 21, 0, tzinfo=timezone.utc)        # 8 Dec 00:00 in Moscow
        assert deadline(midnight).replace("\u202f", " ") == "7 дек. 2026 г., 24:00"
        assert deadline(datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)).endswith("18:00")
