"""Follow-up fixtures: the app with follow-ups on, pointed at the emulator's REST stand-in."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aftercall.app import create_app
from aftercall.followups import sender as make_sender
from emulator.twilio_rest import FakeTwilioRest
from tests.conftest import AUTH_TOKEN, BASE, TwilioClient, make_settings

ACCOUNT = "AC" + "1" * 32
FROM = "+15005550006"
NOW = datetime(2026, 11, 3, 11, 0, tzinfo=timezone.utc)


@pytest.fixture
def rest():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, seed=7, slow_s=1.0) as fake:
        yield fake


@pytest.fixture
def fapp(database, rest):
    settings = make_settings(database, FOLLOWUPS_ENABLED="1", TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_FROM_NUMBER=FROM,
                             TWILIO_API_BASE_URL=rest.url, PUBLIC_BASE_URL=BASE)
    app = create_app(settings, db=database)
    app.config["TESTING"] = True
    app.extensions["followup_clock"] = lambda: NOW     # the tests' calls are on 3 November 2026
    return app


@pytest.fixture
def sender(fapp):
    s = make_sender(fapp.config["SETTINGS"])
    s.client.http_client.timeout = 0.4     # the stand-in's "timeout" answers after 1 s
    return s


@pytest.fixture
def twilio_f(fapp) -> TwilioClient:
    return TwilioClient(fapp.test_client())
