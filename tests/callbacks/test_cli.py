"""``flask callbacks …``: the same use cases and refusals as the dashboard and the API."""
from __future__ import annotations

from sqlalchemy import select

from store.accounts import AuditLog
from store.callbacks import CallbackTask, TeamSupervisor
from tests.callbacks.conftest import surveyed


def test_supervisor_sweep_list_set_assign(app, database, team, twilio):
    cli = app.test_cli_runner()
    surveyed(twilio, "CA-cli", "2", option="2")     # Carol, team south
    assert cli.invoke(args=["callbacks", "supervisor", "south", "sup2@example.com"]).exit_code == 0
    refused = cli.invoke(args=["callbacks", "supervisor", "south", "hr@example.com"])
    assert refused.exit_code != 0 and "not an active supervisor" in refused.output
    assert cli.invoke(args=["callbacks", "supervisor", "south", "nobody@example.com"]).exit_code != 0
    with database.session() as s:
        assert s.get(TeamSupervisor, "south").user_id == team["sup2"]
    # The status callback dated the call 20 November; the command's sweep uses the real clock.
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**app.config["SETTINGS"].__dict__, "callback_lookback_days": 100000})
    result = cli.invoke(args=["callbacks", "sweep"])
    assert result.exit_code == 0 and "1 tasks opened" in result.output
    with database.session() as s:
        task = s.scalar(select(CallbackTask))
        assert task.owner_id == team["sup2"]
    listed = cli.invoke(args=["callbacks", "list", "--state", "open"])
    assert f"{task.id}\topen\tadequacy-no" in listed.output
    bad = cli.invoke(args=["callbacks", "set", str(task.id), "resolved", "--note", "x" * 501])
    assert bad.exit_code != 0 and "at most 500" in bad.output
    assert cli.invoke(args=["callbacks", "set", str(task.id), "called"]).exit_code == 0
    assert cli.invoke(args=["callbacks", "assign", str(task.id), "sup@example.com"]).exit_code == 0
    assert cli.invoke(args=["callbacks", "set", "999", "called"]).exit_code != 0
    with database.session() as s:
        task = s.get(CallbackTask, task.id)
        assert (task.state, task.owner_id) == ("called", team["sup"])
        assert {a.actor.split(":")[0] for a in s.scalars(select(AuditLog).where(
            AuditLog.action.in_(["callback.state", "callback.reassign"])))} == {"cli"}
