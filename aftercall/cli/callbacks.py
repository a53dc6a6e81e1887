"""``flask callbacks …``: call-back tasks (open the owed ones now, list, change, assign) and the
team → supervisor mapping; the same use cases as the dashboard and the JSON API."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from accounts.users import find_user
from aftercall.callbacks import sweep
from aftercall.cli.common import cli_user, db, refusals
from callbacks.errors import CallbackError
from callbacks.tasks import change_state, reassign, set_team_supervisor, set_user_team
from store.callbacks import TASK_STATES, CallbackTask

callbacks_cli = AppGroup("callbacks", help="Call-back tasks for callers the survey says were let down.")


def _user_id(session, email: str) -> int:
    user = find_user(session, email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user.id


@callbacks_cli.command("sweep")
def callbacks_sweep():
    """Open the tasks owed now (the worker does this every CALLBACK_SWEEP_SECONDS)."""
    click.echo(f"{sweep(current_app.config['SETTINGS'], db())} tasks opened")


@callbacks_cli.command("supervisor")
@click.argument("team")
@click.argument("email")
def callbacks_supervisor(team, email):
    """Send TEAM's new tasks to the supervisor EMAIL."""
    with refusals(CallbackError):
        with db().session() as s:
            set_team_supervisor(s, team, _user_id(s, email), actor=cli_user())
    click.echo(f"team {team.strip()}: {email}")


@callbacks_cli.command("team")
@click.argument("email")
@click.argument("team")
def callbacks_team(email, team):
    """Make the supervisor EMAIL one of TEAM's (\"\" for none): the team's tasks go round its supervisors."""
    with refusals(CallbackError):
        with db().session() as s:
            set_user_team(s, _user_id(s, email), team, actor=cli_user())
    click.echo(f"{email}: team {team.strip() or '-'}")


@callbacks_cli.command("list")
@click.option("--state", type=click.Choice(TASK_STATES), default=None)
def callbacks_list(state):
    """Tasks, the soonest due first."""
    with db().session() as s:
        query = select(CallbackTask).order_by(CallbackTask.due_at, CallbackTask.id)
        if state:
            query = query.where(CallbackTask.state == state)
        for t in s.scalars(query):
            click.echo(f"{t.id}\t{t.state}\t{t.reason}\tdue {t.due_at.isoformat()}\t{t.call_sid}\t"
                       f"agent {t.agent_id}\towner {t.owner_id or '-'}")


@callbacks_cli.command("set")
@click.argument("task_id", type=int)
@click.argument("state", type=click.Choice(TASK_STATES))
@click.option("--note", default=None, help="the outcome")
def callbacks_set(task_id, state, note):
    """Move a task to STATE."""
    with refusals(CallbackError):
        with db().session() as s:
            change_state(s, task_id, state, actor=cli_user(), note=note)
    click.echo(f"task {task_id}: {state}")


@callbacks_cli.command("assign")
@click.argument("task_id", type=int)
@click.argument("email")
def callbacks_assign(task_id, email):
    """Give a task to another supervisor."""
    with refusals(CallbackError):
        with db().session() as s:
            reassign(s, task_id, _user_id(s, email), actor=cli_user())
    click.echo(f"task {task_id}: {email}")
