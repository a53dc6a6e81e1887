"""The daily scorecard rollup gives exactly the counts of the rows, and a day whose rows
change after it was rolled up is dropped and counted again."""
from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from aftercall import jobs
from aftercall.jobs import ROLLUP_JOB, RollupScheduler
from callflow.agents import create_agent
from scoring.payroll.periods import lock_period, period_bounds
from scoring.scorecards.rollup import (GRACE, RECOUNT_AFTER, check_against_rows, closed_before, missing_days, refresh,
                                       rolled_days, rolled_tally, rollup_key, settled_at)
from scoring.outcomes.rules import load_rules
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.tally import later_repeats, live_tally
from store.calls import Call, SurveyAnswer
from store.jobs import Job
from store.rollup import ScorecardCell, ScorecardDay
from survey.spool import AnswerSpool
from tests.conftest import TwilioClient, make_settings
from tests.voice.driver import ScriptedCall
from tests.payroll.conftest import Builder

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
DAYS = 12
LATER = START + timedelta(days=60)           # every seeded day is closed and settled by then
ROLLED = (closed_before(LATER) - START.date()).days   # the calls' days, then empty ones
ANONYMOUS = "anonymous"


def seed(session, rng: random.Random) -> None:
    """Calls over DAYS days at all hours: repeat calls across midnights (first-contact
    resolution reaches into the next days), withheld numbers, unanswered legs, transfers
    back to a second agent, surveys in every state."""
    b = Builder(session)
    agents = [b.agent(a, team=t) for a, t in (("ann", "red"), ("bob", "red"), ("cat", "blue"), ("dan", "blue"))]
    callers = [f"+1555{n:07d}" for n in range(40)] + [ANONYMOUS]
    for _ in range(400):
        at = START + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        sid = b.call(rng.choice(agents), at=at, from_number=rng.choice(callers),
                     queue=rng.choice(("billing", "tech")), language=rng.choice(("en", "ru")),
                     reason=rng.choice(("menu", "default")), talk=rng.randrange(20, 900),
                     bridged=rng.random() > 0.1, offered=rng.random() > 0.3,
                     adequate=rng.choice((None, 1, 2)), rating=rng.choice((None, 1, 3, 4, 5)))
        if rng.random() < 0.1:   # back to the queue after the survey: a second, later leg
            b.second_leg(sid, rng.choice(agents))
    session.commit()


@pytest.fixture
def seeded(database):
    with database.session() as s:
        seed(s, random.Random(5))
    return database


class Ctx:
    def __init__(self, db):
        self.db, self.notes = db, []

    def progress(self, fraction, note=""):
        self.notes.append((fraction, note))


def roll(database, **kwargs) -> dict:
    return refresh(Ctx(database), now=kwargs.pop("now", LATER).isoformat(), **kwargs)


def ranges():
    """Month-like ranges on local midnights, ranges cut mid-day, one day, and ranges running
    past the last rolled day."""
    local = timedelta(hours=-3)                               # Moscow midnight in UTC
    yield START + local, START + timedelta(days=DAYS) + local
    yield START + timedelta(days=2, hours=5, minutes=17), START + timedelta(days=9, hours=13)
    yield START + timedelta(days=4), START + timedelta(days=5)
    yield START - timedelta(days=3), START + timedelta(days=DAYS + 3)
    yield START + timedelta(hours=7), START + timedelta(hours=8)


def same_cards(a, b) -> bool:
    return [c.to_dict() for c in a] == [c.to_dict() for c in b]


def test_rolled_up_counts_equal_the_rows_for_any_range(seeded):
    result = roll(seeded)
    assert result["days"] == ROLLED and result["cells"] > 0
    cfg = load_config()
    with seeded.session() as s:
        for start, end in ranges():
            assert rolled_tally(s, start, end, cfg) == live_tally(s, start, end, cfg), (start, end)
            assert same_cards(build_scorecards(s, start, end, rollup=True), build_scorecards(s, start, end))
        assert len(rolled_days(s, *next(ranges()), rollup_key(cfg, load_rules()))) == DAYS - 1


def test_the_dashboard_reads_the_stored_days(seeded):
    """Change a stored cell: the rollup path shows it, the rows path does not (so the test
    above compared two different computations)."""
    roll(seeded)
    day = (START + timedelta(days=3)).date()
    with seeded.session() as s:
        s.execute(update(ScorecardCell).where(ScorecardCell.day == day).values(handled=ScorecardCell.handled + 1))
    with seeded.session() as s:
        start, end = START, START + timedelta(days=DAYS)
        rolled, rows = rolled_tally(s, start, end, load_config()), live_tally(s, start, end, load_config())
        changed = s.scalar(select(func.count()).select_from(ScorecardCell).where(ScorecardCell.day == day))
    handled = [sum(c[0] for c in t.cells.values()) for t in (rolled, rows)]
    assert changed and handled[0] == handled[1] + changed


def test_days_are_rolled_up_once_closed(seeded):
    """A day is closed, and rolled up, 6 h after its end (the longest call, Twilio's retries)."""
    closes = START + timedelta(days=DAYS) + GRACE
    assert roll(seeded, now=closes - timedelta(minutes=1))["days"] == DAYS - 1
    last = (START + timedelta(days=DAYS - 1)).date()
    with seeded.session() as s:
        assert missing_days(s, closes - timedelta(minutes=1)) == []
        assert missing_days(s, closes) == [last]
    assert roll(seeded, now=closes)["days"] == 1


def test_a_day_whose_repeat_window_is_open_adds_the_repeat_calls_since(seeded):
    """Rolled up mid-way through the seeded calls: the last closed days' first-contact
    resolution still changes. Their stored repeats are those seen when counted; the repeat
    calls since are added from the rows, so any range still equals the rows (which already
    hold the later calls), and the days are counted again hourly until their window passes."""
    now = START + timedelta(days=7, hours=8)
    assert roll(seeded, now=now)["days"] == 7
    cfg, rules = load_config(), load_rules()
    with seeded.session() as s:
        open_days = [d for d, at in rolled_days(s, START, START + timedelta(days=DAYS), rollup_key(cfg, rules)).items()
                     if at < settled_at(d, rules)]
        assert len(open_days) == 3
        midnights = [datetime.combine(d, datetime.min.time(), timezone.utc) for d in open_days]
        later = [later_repeats(s, m, m + timedelta(days=1), now) for m in midnights]
        assert any(t.cells for t in later)         # the seed has repeat calls after `now`: the test reaches them
        for start, end in ranges():
            assert rolled_tally(s, start, end, cfg) == live_tally(s, start, end, cfg), (start, end)
        assert missing_days(s, now + RECOUNT_AFTER - timedelta(minutes=1)) == []
        assert missing_days(s, now + RECOUNT_AFTER) == open_days
    settled = settled_at(open_days[-1], rules)
    roll(seeded, now=settled)                      # their windows have passed: counted for the last time
    with seeded.session() as s:
        assert not set(missing_days(s, settled + timedelta(days=1))) & set(open_days)


def test_another_counting_rule_ignores_the_stored_days(seeded):
    roll(seeded)
    strict = ScoringConfig(csat_top_box_min=5)
    with seeded.session() as s:
        assert not rolled_days(s, START, START + timedelta(days=DAYS), rollup_key(strict, load_rules()))
        start, end = START, START + timedelta(days=DAYS)
        assert rolled_tally(s, start, end, strict) == live_tally(s, start, end, strict)


def test_a_final_status_on_a_rolled_up_day_drops_that_day_and_those_it_reaches(seeded, app):
    """Emulated time: a call whose Timestamp puts it on a day already rolled up."""
    roll(seeded)
    with seeded.session() as s:
        create_agent(s, {"id": "eve", "skills": ["billing", "general"], "presence": "available"},
                     app.config["MENU"].queues)
    call = ScriptedCall(TwilioClient(app.test_client()), "CAlate", caller="+15550000003")
    call.end_dial(call.to_agent(), agent_hung_up=True)
    call.press("1"), call.press("5"), call.press("2")
    landed = START + timedelta(days=6, hours=10)
    call.status(at=landed + timedelta(minutes=5))
    with seeded.session() as s:
        days = set(s.scalars(select(ScorecardDay.day)))
    gone = {(landed - timedelta(days=k)).date() for k in range(4)}       # its day and the 3 days its window reaches
    assert not days & gone and len(days) == ROLLED - len(gone)
    assert roll(seeded)["days"] == len(gone)
    cfg = load_config()
    with seeded.session() as s:
        start, end = START, START + timedelta(days=DAYS)
        assert rolled_tally(s, start, end, cfg) == live_tally(s, start, end, cfg)
        assert any(c.agent_id == "eve" for c in build_scorecards(s, start, end, rollup=True))
    # A webhook of that call after its end (a late progress callback) drops the day again.
    call.status(status="in-progress", seq=0, at=landed + timedelta(minutes=1))
    with seeded.session() as s:
        assert landed.date() not in set(s.scalars(select(ScorecardDay.day)))


def test_replayed_answers_drop_their_day(seeded, tmp_path):
    roll(seeded)
    with seeded.session() as s:
        leg_id, call_sid, at = s.execute(select(SurveyAnswer.leg_id, SurveyAnswer.call_sid, SurveyAnswer.created_at)
                                         .where(SurveyAnswer.question == "adequate").limit(1)).one()
        s.execute(SurveyAnswer.__table__.delete().where(SurveyAnswer.leg_id == leg_id))
        day = s.get(Call, call_sid).started_at.date()
    spool = AnswerSpool(tmp_path / "spool")
    spool.append({"leg_id": leg_id, "call_sid": call_sid, "survey_version": "v1", "question": "adequate",
                  "value": 1, "status": "answered", "spooled_at": (at or START).isoformat()})
    assert spool.replay(seeded) == 1
    with seeded.session() as s:
        assert day not in set(s.scalars(select(ScorecardDay.day)))


def test_locking_checks_the_rollup_against_the_rows(seeded, caplog):
    roll(seeded)
    key = "2026-10"
    start, end = period_bounds(key)
    day = (START + timedelta(days=2)).date()
    with seeded.session() as s:                  # a stale day, as a missed invalidation would leave it
        s.execute(update(ScorecardCell).where(ScorecardCell.day == day).values(completed=ScorecardCell.completed + 2))
    with seeded.session() as s, caplog.at_level(logging.ERROR, logger="scoring.scorecards.rollup"):
        period = lock_period(s, key, "hr", now=end + timedelta(days=1))
        rows = {r["agent_id"]: r for r in period.snapshot["rows"]}
    assert "rollup disagrees with the rows" in caplog.text
    with seeded.session() as s:
        live = {c.agent_id: c for c in build_scorecards(s, start, end)}
        assert {a: r["surveys_completed"] for a, r in rows.items()} == {a: c.surveys_completed for a, c in live.items()}
        left = set(s.scalars(select(ScorecardDay.day)))
        assert left and min(left) > end.date()                          # October dropped, to be recounted
    assert roll(seeded)["days"] == ROLLED - len(left)
    with seeded.session() as s:
        assert check_against_rows(s, start, end, load_config(), live_tally(s, start, end, load_config()))


def test_the_worker_submits_one_refresh_when_days_are_missing(seeded, app, monkeypatch):
    monkeypatch.setattr("scoring.scorecards.rollup.utcnow", lambda: LATER)
    scheduler = RollupScheduler(make_settings(seeded, SCORECARD_ROLLUP_SECONDS="1"), seeded)
    assert scheduler.tick()
    scheduler.clock.next_at = 0
    assert not scheduler.tick()                               # one is pending already
    with seeded.session() as s:
        job_id = s.scalar(select(Job.id).where(Job.func == ROLLUP_JOB))
    assert jobs.run(seeded, job_id) == "done"
    scheduler.clock.next_at = 0
    assert not scheduler.tick()                               # nothing missing any more
    with seeded.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.func == ROLLUP_JOB)) == 1
        assert s.scalar(select(func.count()).select_from(ScorecardDay)) == ROLLED


def test_the_rollup_command_shows_progress_and_rebuilds(seeded, app, monkeypatch):
    monkeypatch.setattr("scoring.scorecards.rollup.utcnow", lambda: LATER)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["scorecards", "rollup"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1])["result"]["days"] == ROLLED
    last = (START + timedelta(days=ROLLED - 1)).date().isoformat()
    assert f"rolled up {last}" in first.stderr and "100%" in first.stderr
    assert json.loads(runner.invoke(args=["scorecards", "rollup"]).stdout.splitlines()[-1])["result"]["days"] == 0
    again = runner.invoke(args=["scorecards", "rollup", "--rebuild"])
    assert json.loads(again.stdout.splitlines()[-1])["result"]["days"] == ROLLED
