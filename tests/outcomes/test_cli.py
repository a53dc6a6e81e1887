"""``flask flags …`` and ``flask sla`` on a hand-built call."""
import json

from tests.outcomes.builder import agents, call, handled


def test_recompute_list_review_and_sla(app, database):
    with database.session() as s:
        agents(s, "ann")
        call(s, visits=[handled("ann", talk=776, wait=8)])
    runner = app.test_cli_runner()
    out = runner.invoke(args=["flags", "recompute", "--now"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["result"]["created"] == 1
    assert "agent rules for 2026-11" in out.stderr and "100%" in out.stderr     # the progress bar
    listed = runner.invoke(args=["flags", "list", "--start", "2026-11-01", "--end", "2026-12-01", "--kind", "cap-cut"])
    flag = json.loads(listed.output)
    assert flag["agent_id"] == "ann" and flag["evidence"]["talk_seconds"] == 776
    bad = runner.invoke(args=["flags", "review", str(flag["id"]), "--comment", "x"])
    assert bad.exit_code != 0 and "--confirm or --dismiss" in bad.output
    cost = runner.invoke(args=["flags", "cost", str(flag["id"])])
    assert cost.exit_code == 0, cost.output
    preview = json.loads(cost.output)
    assert (preview["flag_id"], preview["agent_id"], preview["period"], preview["already_confirmed"]) == \
        (flag["id"], "ann", "2026-11", False)
    assert preview["sentence"].startswith("confirming ") and preview["after"]["composite"] is not None
    assert runner.invoke(args=["flags", "cost", "999999"]).exit_code != 0
    costed = json.loads(runner.invoke(args=["flags", "list", "--kind", "cap-cut", "--start", "2026-11-01",
                                            "--cost"]).output)
    assert costed["confirm_cost"] == preview and "confirm_cost" not in flag
    done = runner.invoke(args=["flags", "review", str(flag["id"]), "--confirm", "--comment", "heard it",
                               "--actor", "sup:ivan"])
    assert json.loads(done.output)["state"] == "confirmed"
    sla = runner.invoke(args=["sla", "--start", "2026-11-01", "--end", "2026-12-01", "--json"])
    assert sla.exit_code == 0, sla.output
    assert json.loads(sla.output)["service_level"] == 1.0
    table = runner.invoke(args=["sla", "--start", "2026-11-01", "--end", "2026-12-01", "--by", "agent"])
    assert table.output.splitlines()[1].split()[:3] == ["ann", "1", "1"]
    wrong = runner.invoke(args=["sla", "--start", "2026-11-01T00:00"])
    assert wrong.exit_code != 0 and "offset" in wrong.output
