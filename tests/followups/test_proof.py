"""Proof on the emulator's truth (seeded): follow-ups raise the share of legs with an answer,
the survey dodger's callers are heard, and the composite's rank correlation with true
quality does not drop. One SQLite run of the demo scenario cut to 1000 first contacts, the
follow-up phase on simulated time through the real REST client and webhooks; the spread
over seeds is in the README (``python -m bench.followup_proof``)."""
from __future__ import annotations

from bench.followup_proof import prove_followups


def test_follow_ups_hear_the_callers_who_left(sqlite_template, tmp_path):
    run = prove_followups("emulator/scenarios/demo.toml", seed=2025, calls=1000, workdir=tmp_path,
                          template=sqlite_template)
    print("before", run.shares_before, run.before.rho, "\nafter", run.shares_after, run.after.rho, run.rho_same_agents,
          "\ndodger", run.dodger, "\ndecisions", run.decisions)
    before, after = run.shares_before, run.shares_after
    assert after["call"] == before["call"]                      # the in-call survey's numbers are untouched
    assert after["sms"] > 0.03 and after["callback"] > 0.02
    assert after["any"] >= before["any"] + 0.08
    dodger = run.dodger
    assert dodger["completed_before"] == 0 and dodger["funnel"]["followups_answered"] >= 15
    assert dodger["funnel"]["incall_completed"] == 0 and dodger["funnel"]["followups_sent"] > 0
    assert run.rho_same_agents["composite"] >= run.before.rho["composite"] - 0.02   # like with like
    assert run.sent_twice == 0
    assert any(k.startswith("opted-out") for k in run.decisions)  # some said STOP
