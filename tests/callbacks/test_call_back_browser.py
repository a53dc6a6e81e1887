""""Call back" in a real headless Chromium, in English and Russian: the supervisor sets where
to ring on the profile page, clicks "Call back", the worker's ring job places the call on the
emulator's Twilio stand-in, the emulated supervisor and caller answer (or not) over HTTP, and
the worklist row shows how the call ended."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from aftercall.app import create_app
from callbacks import calling
from callbacks.tasks import open_tasks, set_team_supervisor
from emulator import Target
from emulator.click_to_call import ClickToCallPlayer
from emulator.scenario import ClickToCall, Scenario
from emulator.twilio_rest import FakeTwilioRest
from outbound.twilio_rest import TwilioDialer, TwilioSender
from store.callbacks import CallAttempt, CallbackTask
from store.users import User
from tests.conftest import AUTH_TOKEN, make_settings
from tests.browser import auth, chromium, database_copy, needs_chromium, page, shot, serving  # noqa: F401  (fixtures)
from tests.dashboard.seed import USERS, seed

pytestmark = needs_chromium
ACCOUNT, FROM = "AC" + "5" * 32, "+15005550006"


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    db = database_copy(tmp_path_factory.mktemp("browser-call-back"), sqlite_template)
    seed(db)
    app = create_app(make_settings(db, TWILIO_FROM_NUMBER=FROM, TWILIO_ACCOUNT_SID=ACCOUNT), db=db)
    with db.session() as s:
        sup = s.scalar(select(User).where(User.email == USERS["supervisor"]))
        set_team_supervisor(s, "north", sup.id, actor="test")
        assert open_tasks(s, app.config["MENU"].hours, lookback_days=100000)
    rest = FakeTwilioRest(ACCOUNT, AUTH_TOKEN, seed=3)
    rest.start()
    with serving(app) as url:
        app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], public_base_url=url)   # Twilio is configured
        yield {"url": url, "db": db, "rest": rest, "target": Target.http(url)}
    rest.stop()
    db.dispose()


def worker_and_people(server, caller: ClickToCall):
    """What the worker (the ring job) and then Twilio's emulated people do after the click."""
    db, rest = server["db"], server["rest"]
    dialer = TwilioDialer(TwilioSender(ACCOUNT, AUTH_TOKEN, from_number=FROM, base_url=rest.url))
    with db.session() as s:
        attempt_id = s.scalar(select(CallAttempt.id).where(CallAttempt.state == "queued"))
    assert calling.ring(db, dialer, calling.Urls(server["url"]), attempt_id) == "rang"
    scenario = Scenario(account_sid=ACCOUNT, auth_token=AUTH_TOKEN, click_to_call=caller)
    (truth,) = ClickToCallPlayer(scenario, rest, server["target"]).play(dt.datetime.now(dt.timezone.utc))
    return attempt_id, truth


def test_call_back_from_the_worklist_in_english_and_russian(server, page, auth):
    db = server["db"]
    auth.login("supervisor")
    with db.session() as s:
        first, second = s.scalars(select(CallbackTask.id).where(CallbackTask.team == "north")
                                  .order_by(CallbackTask.due_at, CallbackTask.id).limit(2)).all()

    page.click("text=Call-backs")
    page.locator(f"#task-{first} button.call-back").click()
    page.wait_for_load_state()
    assert "set one on the profile page" in page.locator(".flash").inner_text()   # no phone yet

    page.click("#profile-link")
    page.fill("#ring_to", "+15557770000")
    page.click("#profile button")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Saved."

    page.click("text=Call-backs")
    page.locator(f"#task-{first} button.call-back").click()
    page.wait_for_load_state()
    assert "Twilio is ringing +15557770000" in page.locator(".flash").inner_text()
    assert "queued" in page.locator(f"#task-{first} ul.attempts").inner_text()
    page.locator(f"#task-{first} button.call-back").click()                         # the double click
    page.wait_for_load_state()
    assert "already has a call under way" in page.locator(".flash").inner_text()

    attempt_id, truth = worker_and_people(server, ClickToCall(supervisor_answer=1.0, caller_answer=1.0,
                                                              caller_decline=0.0, talk_s=(65, 65)))
    assert (truth.caller, truth.caller_id) == ("answered", FROM)
    page.reload()
    row = page.locator(f"#task-{first}")
    assert "talked" in row.locator(f"#attempt-{attempt_id}").inner_text()
    assert "talked 65 s" in row.inner_text()
    assert row.locator("td").nth(3).inner_text() == "called"
    shot(page, "call-back-en")

    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    page.locator(f"#task-{second} button.call-back").click()
    page.wait_for_load_state()
    assert "Twilio звонит на +15557770000" in page.locator(".flash").inner_text()
    attempt_id, truth = worker_and_people(server, ClickToCall(supervisor_answer=1.0, caller_answer=0.0,
                                                              caller_decline=1.0))
    assert truth.caller == "declined"
    page.reload()
    row = page.locator(f"#task-{second}")
    assert "не дозвонились (занято)" in row.locator(f"#attempt-{attempt_id}").inner_text()
    assert row.locator("td").nth(3).inner_text() == "не дозвонились"
    assert row.locator("button.call-back").inner_text() == "Перезвонить"
    shot(page, "call-back-ru")
    with db.session() as s:
        assert [s.get(CallbackTask, t).state for t in (first, second)] == ["called", "not-reached"]
