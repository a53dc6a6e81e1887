"""Builders that write calls, legs and survey answers straight into the store."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc)   # a Monday in October 2026
OCT = (datetime(2026, 9, 30, 21, 0, tzinfo=timezone.utc), datetime(2026, 10, 31, 21, 0, tzinfo=timezone.utc))


class Builder:
    """`call(...)` adds one call with one bridged leg and optional answers; numbers are unique
    unless given, so no call counts as a repeat by accident."""

    def __init__(self, session):
        self.s = session
        self.seq = itertools.count(1)

    def agent(self, agent_id: str, team: str = "red", name: str | None = None) -> str:
        self.s.add(Agent(id=agent_id, name=name or agent_id.title(), team=team, skills=["billing", "tech"]))
        self.s.flush()
        return agent_id

    def call(self, agent_id: str, *, at: datetime = T0, adequate: int | None = None, rating: int | None = None,
             queue: str = "billing", language: str = "en", reason: str = "menu", talk: int = 300,
             from_number: str | None = None, bridged: bool = True, offered: bool | None = None,
             ended_by: str = "caller") -> str:
        i = next(self.seq)
        sid = f"CA{i:032d}"
        self.s.add(Call(sid=sid, from_number=from_number or f"+1555{i:07d}", language=language, status="completed",
                        started_at=at, time_source="twilio"))
        entry = QueueEntry(call_sid=sid, visit=1, queue=queue, reason=reason, state="left", agent_id=agent_id)
        self.s.add(entry)
        self.s.flush()
        answered = adequate is not None or rating is not None
        leg = Leg(call_sid=sid, seq=1, entry_id=entry.id, queue=queue, agent_id=agent_id, language=language,
                  dial_status="completed" if bridged else "no-answer", bridged=bridged,
                  talk_seconds=talk if bridged else 0, ended_by=ended_by if bridged else None,
                  survey_state=("finished" if answered else "offered") if (offered or answered) else "not-offered")
        self.s.add(leg)
        self.s.flush()
        for question, value in (("adequate", adequate), ("satisfaction", rating)):
            if value is not None:
                self.s.add(SurveyAnswer(leg_id=leg.id, call_sid=sid, agent_id=agent_id, survey_version="v1",
                                        question=question, value=value, status="answered"))
        self.s.flush()
        return sid

    def second_leg(self, sid: str, agent_id: str, *, talk: int = 200, adequate: int | None = 1) -> None:
        """The caller went back to the queue after the first leg's survey: a later bridged leg."""
        entry = QueueEntry(call_sid=sid, visit=2, queue="billing", reason="transfer-back", state="left",
                           agent_id=agent_id)
        self.s.add(entry)
        self.s.flush()
        leg = Leg(call_sid=sid, seq=2, entry_id=entry.id, queue="billing", agent_id=agent_id, language="en",
                  dial_status="completed", bridged=True, talk_seconds=talk, ended_by="agent",
                  survey_state="finished" if adequate else "offered")
        self.s.add(leg)
        self.s.flush()
        if adequate is not None:
            self.s.add(SurveyAnswer(leg_id=leg.id, call_sid=sid, agent_id=agent_id, survey_version="v1",
                                    question="adequate", value=adequate, status="answered"))
        self.s.flush()

    def answers(self, agent_id: str, yes: int, no: int, *, rating_yes: int = 5, rating_no: int = 2,
                start: datetime = T0, **kwargs) -> None:
        """`yes` calls answered adequate=yes / rating_yes and `no` calls adequate=no / rating_no."""
        for k in range(yes + no):
            ok = k < yes
            self.call(agent_id, at=start + timedelta(minutes=10 * k), adequate=1 if ok else 2,
                      rating=rating_yes if ok else rating_no, **kwargs)


@pytest.fixture
def build(db_session):
    return Builder(db_session)
