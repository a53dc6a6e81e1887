"""``aftercall.ground_truth`` and ``flask simulate --check``: a clean run reconciles with zero
mismatches, and each kind of damage to the stored data is listed where it is."""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import delete, select, update

from aftercall.ground_truth import load_truth, reconcile
from store.accounts import ApiToken, hash_token
from store.calls import Call, Leg, SurveyAnswer

SMOKE = Path(__file__).parents[2] / "emulator" / "scenarios" / "smoke.toml"


def test_simulate_check_then_every_damage_is_listed(app, database, tmp_path):
    token = "ac_" + secrets.token_urlsafe(16)
    with database.session() as s:
        s.add(ApiToken(name="emulator", role="admin", token_hash=hash_token(token)))
    truth_path = tmp_path / "truth.jsonl"
    out = app.test_cli_runner().invoke(args=[
        "simulate", "--scenario", str(SMOKE), "--calls", "12", "--api-token", token, "--truth", str(truth_path),
        "--no-progress", "--check"])
    assert out.exit_code == 0, out.output
    assert "reconciled" in out.output and ": 0 mismatches" in out.output

    truth = load_truth(truth_path)
    questions = [q.key for q in app.config["SURVEY"].questions]
    with database.session() as s:
        clean = reconcile(s, truth, questions=questions)
        assert clean.ok and clean.calls == len(truth) >= 12 and clean.extra_calls == 0
        assert clean.totals["survey answers"][0] > 0 and clean.totals["bridged legs"][0] > 0

        answers = s.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)).all()
        changed, lost = answers[0], answers[1]
        changed.value = 2 if changed.value != 2 else 1                          # a wrong value
        s.execute(delete(SurveyAnswer).where(SurveyAnswer.id == lost.id))       # a lost answer
        leg = s.scalars(select(Leg).where(Leg.bridged.is_(True), Leg.id != changed.leg_id,
                                          Leg.id != lost.leg_id)).first()
        leg.talk_seconds += 5                                                   # wrong talk time
        s.execute(update(Call).where(Call.sid == truth[-1].call_sid).values(status="in-progress"))
        s.flush()
        report = reconcile(s, truth, questions=questions)

    found = {(m.scope, m.field) for m in report.mismatches}
    assert ("answer", "survey answers (question, value, status)") in found
    assert ("leg", "talk seconds (DialCallDuration)") in found
    assert ("call", "status") in found
    assert ("agent", "answers (question=value: n)") in found
    assert report.totals["survey answers"] == (clean.totals["survey answers"][0],
                                               clean.totals["survey answers"][0] - 1)
    keys = {m.key for m in report.mismatches}
    assert any(k.startswith(changed.call_sid) for k in keys) and any(k.startswith(lost.call_sid) for k in keys)
    assert "mismatches" in report.summary() and str(report.mismatches[0]) in report.summary()
