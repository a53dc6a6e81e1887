""""Call back" on the worklist and the profile that says where to ring, in English and Russian."""
from __future__ import annotations

from sqlalchemy import func, select

from store.accounts import AuditLog
from store.callbacks import CallAttempt
from store.jobs import Job
from store.users import User
from tests.callbacks.test_dashboard import login, tasks  # noqa: F401  (the worklist's fixture)


def follow(b, resp) -> str:
    assert resp.status_code == 302
    return b.get(resp.headers["Location"]).get_data(as_text=True)


def test_profile_sets_where_to_ring_validated_and_audited(app, database, team):
    b = login(app)
    assert 'id="ring_to"' in b.get("/profile").get_data(as_text=True)
    page = follow(b, b.post("/profile", {"ring_to": " +15557770000 "}))
    assert "Saved." in page and 'value="+15557770000"' in page
    follow(b, b.post("/profile", {"ring_to": "client:sup_north"}))
    b.post("/lang", {"lang": "ru", "back": "/profile"})
    page = follow(b, b.post("/profile", {"ring_to": "555-1234"}))
    assert "не номер телефона в формате E.164" in page
    with database.session() as s:
        assert s.get(User, team["sup"]).ring_to == "client:sup_north"
        changes = [a.detail["ring_to"] for a in s.scalars(select(AuditLog).where(AuditLog.action == "user.update"))]
    assert changes == ["+15557770000", "client:sup_north"]


def test_call_back_refused_without_a_phone_then_rings_once(app, database, team, tasks):  # noqa: F811
    b = login(app)
    task = tasks["CA-2"]
    page = follow(b, b.post(f"/callbacks/{task}/call", {"back": "/callbacks"}))
    assert f"Task {task} was not called back" in page and "set one on the profile page" in page
    b.post("/lang", {"lang": "ru", "back": "/callbacks"})
    page = follow(b, b.post(f"/callbacks/{task}/call", {"back": "/callbacks"}))
    assert f"По задаче {task} звонок не начат" in page and "укажите его в профиле" in page
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 0
        s.get(User, team["sup"]).ring_to = "+15557770000"
    page = follow(b, b.post(f"/callbacks/{task}/call", {"back": "/callbacks"}))
    assert "Twilio звонит на +15557770000" in page
    page = follow(b, b.post(f"/callbacks/{task}/call", {"back": "/callbacks"}))    # the double click
    assert "уже идёт звонок" in page
    with database.session() as s:
        attempt = s.scalar(select(CallAttempt))
        assert s.scalar(select(func.count()).select_from(Job)) == 1
        attempt.state, attempt.error_code, attempt.active_task_id = "failed", 21211, None
        attempt.outcome, attempt.error = "21211", "Twilio 400 21211: not a valid phone number"
    row = b.get("/callbacks").get_data(as_text=True)
    assert f'id="attempt-{attempt.id}"' in row and "не удалось" in row and "Ошибка Twilio 21211" in row
    b.post("/lang", {"lang": "en", "back": "/callbacks"})
    row = b.get("/callbacks").get_data(as_text=True)
    assert "failed" in row and "Twilio error 21211" in row and "Call back" in row
