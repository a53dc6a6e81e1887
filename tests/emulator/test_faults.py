"""Application errors, retries, duplicate deliveries and status-callback faults."""

import itertools

import pytest
from twilio.twiml.voice_response import VoiceResponse

from emulator.scenario import Faults

from .conftest import make_scenario


def say(text: str) -> str:
    r = VoiceResponse()
    r.say(text)
    return str(r)


def test_500_is_retried_once_with_the_same_token_then_counted_as_application_error(drive):
    result, log = drive({"/voice": lambda f: ("boom", 500)})
    voice = [e for e in log if e["path"] == "/voice"]
    assert len(voice) == 2 and voice[0]["token"] == voice[1]["token"]
    call = result.truth[0]
    assert call.end_reason == "app-error" and len(call.app_errors) == 1
    assert call.app_errors[0].code == 11200 and result.application_errors == 1
    assert call.duration_s == pytest.approx(4.0)     # Twilio's error message, then hang-up
    status = [e["form"] for e in log if e["path"] == "/status"]
    assert status[0]["CallStatus"] == "completed"


def test_4xx_is_not_retried_and_rc_fragment_overrides_retry_count(drive):
    r = VoiceResponse()
    r.redirect("/fail#rc=0")
    result, log = drive({"/voice": lambda f: str(r), "/fail": lambda f: ("no", 503)})
    assert [e["path"] for e in log].count("/fail") == 1
    result, log = drive({"/voice": lambda f: ("missing", 404)})
    assert [e["path"] for e in log].count("/voice") == 1 and result.application_errors == 1


@pytest.mark.parametrize("body, code", [
    ("<Response><Say>unclosed</Response>", 12100),
    ("<html><body>hello</body></html>", 12100),
    ("<Response><Dance/></Response>", 12200),
    ("<Response><Gather><Dial>123</Dial></Gather></Response>", 12200),
])
def test_invalid_twiml_is_an_application_error(drive, body, code):
    result, _ = drive({"/voice": lambda f: body})
    assert [e.code for e in result.truth[0].app_errors] == [code]


def test_wrong_content_type_is_an_application_error(drive):
    result, _ = drive({"/voice": lambda f: ('{"twiml": 1}', 200, "application/json")})
    assert result.truth[0].app_errors[0].code == 12300


def test_verb_not_allowed_in_wait_url(drive):
    r = VoiceResponse()
    r.enqueue("q", wait_url="/wait")
    wait = VoiceResponse()
    wait.dial("+15550000000")
    result, _ = drive({"/voice": lambda f: str(r), "/wait": lambda f: str(wait)})
    assert result.truth[0].app_errors[0].code == 12200


def test_duplicate_delivery_sends_twice_and_follows_the_first_answer(drive):
    counter = itertools.count()

    def voice(f):
        r = VoiceResponse()
        r.say("first" if next(counter) == 0 else "second answer differs")
        return str(r)

    scenario = make_scenario(faults=Faults(duplicate_request=1.0))
    result, log = drive({"/voice": voice}, scenario)
    voice_reqs = [e for e in log if e["path"] == "/voice"]
    assert len(voice_reqs) == 2 and voice_reqs[0]["token"] == voice_reqs[1]["token"]
    assert result.duplicate_mismatches == 1
    assert result.truth[0].duration_s == pytest.approx(0.5)   # "first": one word, not the second answer


def test_equivalent_duplicate_answers_are_not_mismatches(drive):
    result, log = drive({"/voice": lambda f: say("same")},
                        make_scenario(faults=Faults(duplicate_request=1.0)))
    assert result.duplicate_mismatches == 0 and result.application_errors == 0


def test_lost_response_is_retried_as_a_read_timeout(drive):
    result, log = drive({"/voice": lambda f: say("hello")},
                        make_scenario(faults=Faults(lost_response=1.0)))
    voice = [e for e in log if e["path"] == "/voice"]
    assert len(voice) == 2 and voice[0]["token"] == voice[1]["token"]
    assert result.application_errors == 0


def test_status_callbacks_numbered_then_reordered_and_duplicated(drive):
    faults = Faults(reorder_status_callbacks=1.0, duplicate_status_callback=1.0)
    scenario = make_scenario(calls=8, faults=faults,
                             status_callback_events=["initiated", "ringing", "answered", "completed"])
    r = VoiceResponse()
    r.pause(length=20)
    result, log = drive({"/voice": lambda f: str(r)}, scenario)
    by_call = {}
    for e in log:
        if e["path"] == "/status":
            by_call.setdefault(e["form"]["CallSid"], []).append(e["form"])
    assert len(by_call) == 8
    for forms in by_call.values():
        seqs = [f["SequenceNumber"] for f in forms]
        assert sorted(set(seqs)) == ["0", "1", "2", "3"] and len(seqs) == 8   # each one twice
        status = {f["SequenceNumber"]: f["CallStatus"] for f in forms}
        assert status == {"0": "initiated", "1": "ringing", "2": "in-progress", "3": "completed"}
        assert all("CallDuration" in f for f in forms if f["CallStatus"] == "completed")
    assert any([f["SequenceNumber"] for f in forms][::2] != ["0", "1", "2", "3"] for forms in by_call.values())


def test_duplicate_answer_differing_only_in_formatting_is_equivalent(drive):
    answers = iter(['<Response><Say voice="alice" language="en-US">hi</Say></Response>',
                    '<?xml version="1.0"?>\n<Response>\n  <Say language="en-US" voice="alice">hi</Say>\n</Response>'])
    result, _ = drive({"/voice": lambda f: next(answers)}, make_scenario(faults=Faults(duplicate_request=1.0)))
    assert result.duplicate_mismatches == 0 and result.application_errors == 0
