"""The REST stand-in answers as api.twilio.com does, seen through the real ``twilio`` client."""
from __future__ import annotations

import datetime as dt

import httpx
import pytest

from emulator.twilio_rest import FakeTwilioRest
from outbound.twilio_rest import TwilioSender
from survey.followups import SendError

ACCOUNT, TOKEN = "AC" + "3" * 32, "rest-token"


@pytest.fixture
def rest():
    with FakeTwilioRest(ACCOUNT, TOKEN, seed=3, slow_s=0.6) as fake:
        yield fake


def _sender(rest, token=TOKEN, **kw):
    sender = TwilioSender(ACCOUNT, token, from_number="+15005550006", base_url=rest.url, **kw)
    sender.client.http_client.timeout = 0.3
    return sender


def test_create_list_and_errors(rest):
    sender = _sender(rest)
    sid, status = sender.send_sms(to="+15551110000", body="hi", status_callback="http://app/sms/status")
    assert sid.startswith("SM") and len(sid) == 34 and status == "queued"
    call_sid, _ = sender.start_call(to="+15551110000", url="http://app/start", status_callback="http://app/st")
    assert call_sid.startswith("CA")
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    assert sender.find_sent(channel="sms", to="+15551110000", since=since) == (sid, "queued")
    assert sender.find_sent(channel="sms", to="+15559999999", since=since) is None
    for fault, retryable, ambiguous, code in (("429", True, False, 20429), ("500", True, True, 20500),
                                              ("timeout", True, True, None), ("21610", False, False, 21610),
                                              ("21211", False, False, 21211)):
        rest.fail(fault)
        with pytest.raises(SendError) as err:
            sender.send_sms(to="+15551110001", body="hi", status_callback="http://app/sms/status")
        assert (err.value.retryable, err.value.ambiguous, err.value.code) == (retryable, ambiguous, code)
    with pytest.raises(SendError) as err:
        _sender(rest, token="wrong").send_sms(to="+15551110000", body="x", status_callback="http://app/s")
    assert err.value.status == 401 and not err.value.retryable
    raw = httpx.post(f"{rest.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json", auth=(ACCOUNT, TOKEN),
                     data={"To": "+1555", "From": "+1555"})
    assert raw.status_code == 400 and raw.json()["code"] == 21602 and "more_info" in raw.json()
    assert len(rest.sent("message")) == 1
