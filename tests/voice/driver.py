"""A scripted caller for webhook tests: posts what Twilio would and follows the TwiML's URLs."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import format_datetime


class ScriptedCall:
    def __init__(self, twilio, sid: str, caller: str = "+15550001111"):
        self.twilio, self.sid, self.caller = twilio, sid, caller
        self.doc: ET.Element | None = None

    def post(self, url: str, **params) -> ET.Element:
        base = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller, "To": "+15559990000",
                "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        resp = self.twilio.post(url, {**base, **params})
        assert resp.status_code == 200, resp.data
        assert resp.mimetype == "text/xml"
        self.doc = ET.fromstring(resp.data)
        assert self.doc.tag == "Response"
        return self.doc

    # What the current document says
    def find(self, tag: str) -> ET.Element:
        node = self.doc.find(f".//{tag}")
        assert node is not None, f"no <{tag}> in {ET.tostring(self.doc, encoding='unicode')}"
        return node

    def has(self, tag: str) -> bool:
        return self.doc.find(f".//{tag}") is not None

    def said(self) -> str:
        return " ".join(s.text or "" for s in self.doc.iter("Say"))

    # Twilio's moves
    def incoming(self):
        return self.post("/voice/incoming", CallStatus="ringing")

    def press(self, digits: str = ""):
        """Answer the current <Gather> (empty = silence with actionOnEmptyResult)."""
        gather = self.find("Gather")
        assert gather.get("actionOnEmptyResult") == "true"
        return self.post(gather.get("action"), Digits=digits)

    def wait(self, position: int = 1, queue_time: int = 10):
        enqueue = self.find("Enqueue")
        return self.post(enqueue.get("waitUrl"), QueuePosition=position, QueueTime=queue_time,
                         QueueSid="QU1", AvgQueueTime=0, CurrentQueueSize=position)

    def leave_queue(self, enqueue: ET.Element, result: str = "leave", queue_time: int = 10):
        return self.post(enqueue.get("action"), QueueResult=result, QueueTime=queue_time, QueueSid="QU1")

    def end_dial(self, dial: ET.Element, *, agent_hung_up: bool, status: str = "completed", duration: int = 120):
        bridged = status == "completed"
        return self.post(dial.get("action"), DialCallStatus=status, DialCallDuration=duration if bridged else 0,
                         DialBridged=str(bridged).lower(), DialCallSid="CA-agent-" + self.sid,
                         CallStatus="in-progress" if agent_hung_up else "completed")

    def status(self, status: str = "completed", duration: int = 300, seq: int = 1,
               at: datetime = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)):
        return self.post("/voice/status", CallStatus=status, CallDuration=duration, SequenceNumber=seq,
                         Timestamp=format_datetime(at), CallbackSource="call-progress-events")

    def to_agent(self, *, language: str = "1", option: str = "1", queue_time: int = 10):
        """Incoming → language → menu → queue → matched: returns the <Dial> element."""
        self.incoming()
        self.press(language)
        self.press(option)
        enqueue = self.find("Enqueue")
        self.wait(queue_time=queue_time)
        assert self.has("Leave"), self.said()
        self.leave_queue(enqueue, queue_time=queue_time)
        return self.find("Dial")


def answers(database, sid: str) -> dict:
    """The call's stored answers: question → (value, status, agent)."""
    from sqlalchemy import select

    from store.calls import SurveyAnswer
    with database.session() as s:
        return {a.question: (a.value, a.status, a.agent_id)
                for a in s.scalars(select(SurveyAnswer).where(SurveyAnswer.call_sid == sid))}
