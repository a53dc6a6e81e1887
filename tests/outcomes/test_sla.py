"""SLA figures on hand-built queue visits whose every count is known."""
from datetime import timedelta

import pytest

from scoring.outcomes.sla import sla_report
from store.agents import Agent
from tests.outcomes.builder import T0, agents, call, handled

END = T0 + timedelta(days=1)


@pytest.fixture
def visits(db_session):
    s = db_session
    agents(s, "ann")
    agents(s, "bob", team="blue")
    call(s, visits=[handled("ann", talk=100, wait=10)])
    call(s, visits=[handled("ann", talk=200, wait=30, survey={"anything_else": 1})])
    call(s, visits=[{"state": "abandoned", "wait": 60}])
    call(s, visits=[{"state": "abandoned", "wait": 3}])                       # short abandon
    call(s, visits=[handled("ann", dial="no-answer", wait=15),                # redirected on no answer
                    handled("bob", talk=50, wait=15, survey={"anything_else": 2})])
    call(s, visits=[handled("bob", dial="canceled", wait=40)])                # hung up while it rang
    call(s, status="in-progress", visits=[{"state": "waiting", "wait": None}])
    call(s, visits=[{"state": "failed", "wait": 2}, {"state": "abandoned", "wait": 8, "reason": "retry"}])
    call(s, visits=[handled("bob", talk=60, wait=5, queue="tech")])
    call(s, T0 - timedelta(minutes=1), visits=[{"state": "abandoned", "wait": 60}])  # outside the range
    return s


def test_per_queue(visits):
    rows = {r.key: r for r in sla_report(visits, T0, END, by="queue", sla_seconds=20, short_abandon_seconds=5)}
    b = rows["billing"]
    assert (b.offered, b.handled, b.abandoned, b.short_abandons, b.redirected, b.failed, b.in_progress) == \
        (8, 3, 3, 1, 1, 1, 1)
    assert b.answered_within == 2 and b.service_level == pytest.approx(2 / 8)
    assert b.abandonment_rate == pytest.approx(3 / 8)
    assert b.asa_seconds == pytest.approx((10 + 30 + 15) / 3)
    assert b.aht_seconds == pytest.approx((100 + 200 + 50) / 3)
    assert (b.transfer_backs, b.transfer_back_answers, b.transfer_back_rate) == (1, 2, 0.5)
    t = rows["tech"]
    assert (t.offered, t.handled, t.service_level, t.abandonment_rate, t.transfer_back_rate) == (1, 1, 1.0, 0.0, None)
    wider = {r.key: r for r in sla_report(visits, T0, END, sla_seconds=30)}
    assert wider["billing"].answered_within == 3


def test_per_agent_and_team_add_up_to_the_centre(visits):
    agents_rows = {r.key: r for r in sla_report(visits, T0, END, by="agent")}
    assert (agents_rows["ann"].offered, agents_rows["ann"].handled, agents_rows["ann"].redirected) == (3, 2, 1)
    assert (agents_rows["bob"].handled, agents_rows["bob"].abandoned) == (2, 1)
    assert agents_rows[None].offered == 3  # never routed: the queue abandon, the retry pair
    teams = {r.key: r for r in sla_report(visits, T0, END, by="team")}
    assert teams["red"].handled == 2 and teams["blue"].handled == 2
    queues = sla_report(visits, T0, END, by="queue")
    for rows in (agents_rows.values(), teams.values()):
        assert sum(r.offered for r in rows) == sum(r.offered for r in queues) == 9
    visits.get(Agent, "bob").team = ""
    visits.flush()
    assert None in {r.key for r in sla_report(visits, T0, END, by="team")}


def test_bad_arguments(db_session):
    with pytest.raises(ValueError, match="by must be one of"):
        sla_report(db_session, T0, END, by="shift")
    with pytest.raises(ValueError, match="end must be after start"):
        sla_report(db_session, END, T0)
    with pytest.raises(ValueError, match="timezone"):
        sla_report(db_session, T0.replace(tzinfo=None), END)
