"""The worklist, click-to-call and the audit log in a real headless Chromium, on a running app
set up as ``make run`` sets it up: the worker in its loop and the emulated Twilio
(``emulator.demo_twilio``, a process of its own) answering "call back" over HTTP.

The worklist: ranked (the rank column never rises down the list), the team's daily capacity
stated with the callers texted instead, the default view = mine + my teams' unassigned, an
unassigned task's owner select preselecting nobody (Assign without a choice changes nothing).
Click-to-call: the click rings, and the attempt ends as Twilio's emulated people decided, not
"not configured". The audit log: an action chosen from the select, in words, in Russian too.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from aftercall.app import create_app
from aftercall.jobs import work
from callbacks.tasks import open_tasks, set_user_team
from store.callbacks import CallAttempt, CallbackTask
from store.db import Database
from store.users import User
from tests.browser import auth, chromium, needs_chromium, page, shot  # noqa: F401  (fixtures)
from tests.conftest import AUTH_TOKEN, make_settings
from tests.dashboard.seed import START, USERS, add_call, seed

pytestmark = needs_chromium
ACCOUNT, FROM = "AC" + "6" * 32, "+15005550006"
CAPACITY = 2
FINAL_ATTEMPTS = ("connected", "not-reached", "supervisor-missed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("browser-worklist") / "aftercall.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    seed(db)
    with db.session() as s:   # a bad morning for team north: five unhappy callers, past its capacity
        for n in range(5):
            add_call(s, f"CA{900 + n:032d}", "ann", START + timedelta(days=3, minutes=10 * n), 300, "agent",
                     {"adequate": 2, "satisfaction": 1 + n % 2, "anything_else": 2})
    web, rest_port = free_port(), free_port()
    url = f"http://127.0.0.1:{web}"
    env = {"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "test-secret",
           "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{rest_port}",
           "PUBLIC_BASE_URL": url, "CALLBACK_TEAM_CAPACITY": str(CAPACITY), "CALLBACK_SWEEP_SECONDS": "3600"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)                       # the worker's jobs read their settings from the environment
    settings = make_settings(db, **env)
    app = create_app(settings, db=db)
    with db.session() as s:
        sup = s.scalar(select(User).where(User.email == USERS["supervisor"]))
        sup.ring_to = "client:demo-supervisor"
        set_user_team(s, sup.id, "north", actor="test")
        # Distinct risks so the order is visible: the callers' numbers end in the call's number.
        open_tasks(s, app.config["MENU"].hours, lookback_days=100000, capacity=lambda team: CAPACITY,
                   risk=lambda number: int(number[-2:]) / 10)
        # A north task opened before the team had a supervisor: unassigned.
        orphan = s.scalar(select(CallbackTask.id).where(CallbackTask.team == "north", CallbackTask.state == "open")
                          .order_by(CallbackTask.rank).limit(1))
        s.execute(update(CallbackTask).where(CallbackTask.id == orphan).values(owner_id=None))
    httpd = make_server("127.0.0.1", web, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(settings, db, stop, 0.2), daemon=True)
    worker.start()
    twilio = subprocess.Popen([sys.executable, "-m", "emulator.demo_twilio", "--port", str(rest_port), "--app", url,
                               "--account-sid", ACCOUNT, "--auth-token", AUTH_TOKEN, "--seed", "4"],
                              stdout=subprocess.PIPE, text=True)
    assert "emulated Twilio on" in twilio.stdout.readline()
    yield {"url": url, "db": db, "orphan": orphan}
    twilio.terminate()
    twilio.wait(10)
    stop.set()
    worker.join(10)
    httpd.shutdown()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    db.dispose()


def test_the_worklist_ranked_capped_and_mine_by_default(server, page, auth):
    db = server["db"]
    auth.login("supervisor")
    page.click("text=Call-backs")
    assert page.locator("#scope-mine.current").count() == 1
    with db.session() as s:
        sup = s.scalar(select(User.id).where(User.email == USERS["supervisor"]))
        expect = set(s.scalars(select(CallbackTask.id).where(
            CallbackTask.state.in_(("open", "called", "not-reached")),
            (CallbackTask.owner_id == sup) | (CallbackTask.owner_id.is_(None) & (CallbackTask.team == "north")))))
        followed = s.scalar(select(func.count()).select_from(CallbackTask).where(CallbackTask.state == "followed-up"))
        per_day = s.execute(select(CallbackTask.team, CallbackTask.day, func.count()).where(
            CallbackTask.state != "followed-up").group_by(CallbackTask.team, CallbackTask.day)).all()
    assert followed > 0 and max(n for *_, n in per_day) <= CAPACITY
    shown = {int(i.removeprefix("task-")) for i in page.locator("table.tasks tbody tr").evaluate_all(
        "rows => rows.map(r => r.id)")}
    assert shown == expect and server["orphan"] in shown
    ranks = [float(t) for t in page.locator("table.tasks td.rank").all_inner_texts()]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) > 1
    capacity = page.locator("#capacity").inner_text()
    assert f"at most {CAPACITY} call-backs a day" in capacity
    # The orphan's owner select preselects nobody; Assign without a choice changes nothing.
    row = page.locator(f"#task-{server['orphan']}")
    assert row.locator("select[name=owner]").input_value() == ""
    row.locator("button.assign").click()
    page.wait_for_load_state()
    assert "choose who gets it" in page.locator(".flash").inner_text()
    with db.session() as s:
        assert s.get(CallbackTask, server["orphan"]).owner_id is None
    assert page.locator(f"#task-{server['orphan']} form").count() == 1          # one compact form per row
    shot(page, "worklist-en")
    page.click("#scope-all")
    page.select_option("select[name=state]", "followed-up")      # the texted ones, by the state filter
    page.click("form.filters button")
    page.wait_for_load_state()
    assert page.locator("table.tasks tbody tr").count() == min(followed, 25)
    assert "polite follow-up instead" in page.locator("table.tasks tbody tr").first.inner_text()


def test_call_back_rings_through_the_emulated_twilio_of_the_running_app(server, page, auth):
    db = server["db"]
    auth.login("supervisor")
    page.click("text=Call-backs")
    first = int(page.locator("table.tasks tbody tr").first.get_attribute("id").removeprefix("task-"))
    page.locator(f"#task-{first} button.call-back").click()
    page.wait_for_load_state()
    assert "Twilio is ringing client:demo-supervisor" in page.locator(".flash").inner_text()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.session() as s:
            attempt = s.scalar(select(CallAttempt).where(CallAttempt.task_id == first))
            state, error = attempt.state, attempt.error
        if state in FINAL_ATTEMPTS or state == "failed":
            break
        time.sleep(0.5)
    assert state in FINAL_ATTEMPTS, f"the call-back ended {state}: {error}"
    page.reload()
    assert page.locator(f"#attempt-{attempt.id}").count() == 1
    assert "not configured" not in page.locator(f"#task-{first}").inner_text()


def test_the_audit_log_in_words_with_an_action_select(server, page, auth):
    auth.login("hr")
    page.goto(server["url"] + "/hr/audit")
    folded = page.locator("#audit-folded").inner_text()
    assert "call-back task opened" in folded
    assert page.locator("#audit tr.action-callback-open").count() == 0           # folded, not listed
    page.select_option("#audit-action", "callback.capacity")
    page.click("form.filters button")
    page.wait_for_load_state()
    assert "action=callback.capacity" in page.url
    rows = page.locator("#audit tbody tr")
    assert rows.count() > 0 and "polite follow-up instead of a call-back" in rows.first.inner_text()
    text = page.locator("#audit").inner_text()
    assert "null" not in text and "[" not in text and "callback.capacity" not in text
    page.select_option("#audit-action", "user.update")
    page.click("form.filters button")
    page.wait_for_load_state()
    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    page.select_option("#audit-action", "callback.capacity")
    page.click("form.filters button")
    page.wait_for_load_state()
    text = page.locator("#audit").inner_text()
    assert "вежливое сообщение вместо перезвона" in text and "Задача перезвона" in text and "система" in text
    shot(page, "audit-ru")
