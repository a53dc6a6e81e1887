"""X-Twilio-Signature is checked on every voice webhook."""
import pytest

from tests.conftest import TwilioClient, make_settings
from aftercall.app import create_app

VOICE_PATHS = ["/voice/incoming", "/voice/language?attempt=1", "/voice/menu?attempt=1", "/voice/queue/wait",
               "/voice/queue/done", "/voice/dial/done?leg=1", "/voice/survey?leg=1&q=0", "/voice/status"]


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_unsigned_and_badly_signed_requests_are_refused(twilio, path):
    params = {"CallSid": "CA1", "From": "+15550001"}
    assert twilio.post(path, params, sign=False).status_code == 403
    assert twilio.post(path, params, headers={"X-Twilio-Signature": "bogus"}, sign=False).status_code == 403
    wrong_key = TwilioClient(twilio.client, token="another-token")
    assert wrong_key.post(path, params).status_code == 403


def test_signature_over_tampered_params_is_refused(twilio):
    from tests.conftest import BASE
    sig = twilio.validator.compute_signature(BASE + "/voice/incoming", {"CallSid": "CA1", "From": "+1555"})
    resp = twilio.client.post("/voice/incoming", data={"CallSid": "CA1", "From": "+1666"},
                              headers={"X-Twilio-Signature": sig}, base_url=BASE)
    assert resp.status_code == 403


def test_public_base_url_is_what_gets_validated(database):
    """Behind a TLS proxy Twilio signs https://public-host/…, not the internal URL."""
    app = create_app(make_settings(database, PUBLIC_BASE_URL="https://calls.example.com"), db=database)
    client = app.test_client()
    from twilio.request_validator import RequestValidator
    v = RequestValidator("test-auth-token")
    params = {"CallSid": "CA1"}
    good = v.compute_signature("https://calls.example.com/voice/incoming", params)
    internal = v.compute_signature("http://localhost/voice/incoming", params)
    assert client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": good}).status_code == 200
    assert client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": internal}).status_code == 403


def test_no_auth_token_configured_refuses_everything(database):
    app = create_app(make_settings(database, TWILIO_AUTH_TOKEN=""), db=database)
    assert TwilioClient(app.test_client()).post("/voice/incoming", {"CallSid": "CA1"}).status_code == 403


def test_skip_setting_turns_checks_off_with_a_warning(database, caplog):
    app = create_app(make_settings(database, TWILIO_SKIP_SIGNATURE_CHECK="1"), db=database)
    resp = app.test_client().post("/voice/incoming", data={"CallSid": "CA1"})
    assert resp.status_code == 200
    assert "NOT checked" in caplog.text
