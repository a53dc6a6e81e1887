"""The scorecard's follow-up funnel and the answer channel in the case mix, from rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import load_config
from scoring.scorecards.tally import live_tally
from store.calls import Leg, SurveyAnswer
from store.followups import Followup
from tests.outcomes.builder import agents, call, handled

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def test_funnel_counts_both_channels_and_keeps_in_call_numbers(database):
    with database.session() as s:
        agents(s, "ann")
        call(s, T0, number="+15550000001", visits=[handled("ann", survey={"adequate": 1, "satisfaction": 5})])
        c2 = call(s, T0 + timedelta(hours=1), number="+15550000002", visits=[handled("ann", ended_by="caller")])
        call(s, T0 + timedelta(hours=2), number="+15550000003", visits=[handled("ann", ended_by="caller")])
        leg = s.scalar(select(Leg).where(Leg.call_sid == c2.sid))
        leg.survey_state = "follow-up"
        s.add(Followup(leg_id=leg.id, call_sid=c2.sid, channel="sms", state="answered", to_number="+15550000002",
                       questions=["adequate", "satisfaction"], position=2, sent_at=T0 + timedelta(hours=2)))
        for q, v in (("adequate", 2), ("satisfaction", 2)):
            s.add(SurveyAnswer(leg_id=leg.id, call_sid=c2.sid, agent_id="ann", survey_version="t", question=q,
                               value=v, status="answered", channel="sms"))
    cfg = load_config()
    with database.session() as s:
        [card] = build_scorecards(s, T0, T0 + timedelta(days=1), config=cfg)
        tally = live_tally(s, T0, T0 + timedelta(days=1), cfg)
    assert card.funnel == {"legs": 3, "incall_completed": 1, "followups_sent": 1, "followups_answered": 1}
    assert (card.surveys_offered, card.surveys_completed, card.response_rate) == (2, 2, 1.0)
    assert {mix[3] for (_agent, mix), counts in tally.cells.items() if counts[4]} == {"call", "sms"}
    assert card.case_mix["adequacy"].n == 2
