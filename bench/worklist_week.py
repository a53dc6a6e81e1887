"""The call-back worklist on the demo: tasks per 100 calls, and the share of tasks the demo's
supervisors finish in a simulated week at the configured capacity (docs/supervisors.md).

``flask demo`` (what ``make run`` seeds) runs on a scratch SQLite file with the demo's team
supervisors; then, day by day, each supervisor works their list from the top (rank order) with
as many call-back attempts a day as the team's capacity, starting the day after the calls.
Who answers is drawn with the demo scenario's click-to-call shares (``[click_to_call]``:
supervisor at the phone, caller answers, declines or lets it ring): talked → resolved; not
reached → tried again the next day, declined after the second miss. The moves go through
``callbacks.tasks.change_state``, as on the page.

    .venv/bin/python -m bench.worklist_week [--seed 7] [--capacity 8]
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from accounts.users import create_user
from aftercall.app import create_app
from aftercall.cli.demo import DEMO_SCENARIO
from aftercall.config import Settings
from bench.proof import scratch_database
from callbacks.tasks import FINAL, change_state, set_user_team
from emulator.scenario import load_scenario
from store.callbacks import CallbackTask, TaskLeg
from store.calls import Call
from store.users import User

SUPERVISORS = {"supervisor@demo.local": "billing", "tech-lead@demo.local": "tech", "sales-lead@demo.local": "sales"}
"""As scripts/run.sh names them."""
WORK_DAYS = 7


def seed_demo(workdir: Path, capacity: int):
    db = scratch_database(workdir / "demo.db")
    env = {"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": "demo-auth-token", "SECRET_KEY": "bench",
           "CALLBACK_TEAM_CAPACITY": str(capacity)}
    app = create_app(Settings.from_env(env), db=db)
    with db.session() as s:
        for email, team in SUPERVISORS.items():
            user = create_user(s, email, "bench-password-1", "supervisor", actor="bench")
            s.flush()
            set_user_team(s, user.id, team, actor="bench")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "--no-followups"])
    if result.exit_code != 0:
        raise RuntimeError(f"{result.output}\n{result.exception!r}")
    print(result.output)
    return db


def work_week(db, rng: random.Random, per_day: int, click) -> dict:
    """Each supervisor, each day, calls back up to ``per_day`` of their tasks, the top of the list first."""
    with db.session() as s:
        first = s.scalar(select(func.min(CallbackTask.day)))
        owners = dict(s.execute(select(User.id, User.email).where(User.email.in_(SUPERVISORS))).all())
    misses: dict[int, int] = {}
    attempts = 0
    for n in range(1, WORK_DAYS + 1):
        today = first + timedelta(days=n)
        for owner_id, email in owners.items():
            with db.session() as s:
                todo = list(s.scalars(select(CallbackTask).where(
                    CallbackTask.owner_id == owner_id, CallbackTask.state.not_in(FINAL), CallbackTask.day < today)
                    .order_by(CallbackTask.rank.desc(), CallbackTask.due_at).limit(per_day)))
                for task in todo:
                    attempts += 1
                    if rng.random() >= click.supervisor_answer:
                        continue   # the supervisor missed the ring: the task stays as it was
                    if task.state != "called":
                        change_state(s, task.id, "called", actor=email)
                    if rng.random() < click.caller_answer:
                        change_state(s, task.id, "resolved", actor=email, note="talked (simulated)")
                        continue
                    misses[task.id] = misses.get(task.id, 0) + 1
                    change_state(s, task.id, "not-reached" if misses[task.id] < 2 else "declined", actor=email)
    return {"attempts": attempts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", type=int, default=int(os.environ.get("CALLBACK_TEAM_CAPACITY", "8")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = seed_demo(Path(tmp), args.capacity)
        click = load_scenario(str(DEMO_SCENARIO)).click_to_call
        with db.session() as s:
            calls = s.scalar(select(func.count()).select_from(Call))
            tasks = s.scalar(select(func.count()).select_from(CallbackTask).where(CallbackTask.state != "followed-up"))
            followed = s.scalar(select(func.count()).select_from(CallbackTask).where(CallbackTask.state == "followed-up"))
            attached = s.scalar(select(func.count()).select_from(TaskLeg))
        work = work_week(db, random.Random(args.seed), args.capacity, click)
        with db.session() as s:
            states = dict(s.execute(select(CallbackTask.state, func.count()).group_by(CallbackTask.state)).all())
        db.dispose()
    finished = states.get("resolved", 0) + states.get("declined", 0)
    legs = tasks + followed + attached
    print(f"calls {calls}; unhappy legs {legs} ({100 * legs / calls:.1f} per 100 calls: one task each before)")
    print(f"tasks {tasks} ({100 * tasks / calls:.1f} per 100 calls); polite follow-ups instead {followed} "
          f"({100 * followed / calls:.1f} per 100); further legs attached to a caller's task {attached}")
    print(f"capacity {args.capacity} a team a day; a week of work: {work['attempts']} call-back attempts; "
          f"finished {finished} of {tasks} = {100 * finished / max(tasks, 1):.0f} % "
          f"(resolved {states.get('resolved', 0)}, declined {states.get('declined', 0)}); states {states}")


if __name__ == "__main__":
    main()
