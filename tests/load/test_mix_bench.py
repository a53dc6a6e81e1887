"""The mix benchmark's own arithmetic: its arrivals, when a step breaks, the projection."""
from bench.mix_bench import BURST, arrivals, broke, projection, sustainable


def test_arrivals_are_three_times_denser_in_the_burst():
    times = [t / 20 for t in arrivals(rate=50, seconds=100, speedup=20, seed=1)]   # back to wall seconds
    lo, hi, _ = BURST
    inside = sum(1 for t in times if lo * 100 <= t < hi * 100) / ((hi - lo) * 100)
    outside = sum(1 for t in times if not lo * 100 <= t < hi * 100) / ((1 - (hi - lo)) * 100)
    assert 40 < outside < 60
    assert 2.5 < inside / outside < 3.5
    assert times == sorted(times) and times[-1] < 100


def _step(p99, errors=0, lag=1.0, rate=14, gunicorn=5.0, postgresql=1.0):
    return {"errors": errors, "all": {"p99_ms": p99}, "send_lag": {"p99_ms": lag}, "calls_per_s": rate,
            "webhooks_per_s": rate * 12, "webhooks_per_s_arriving": rate * 12, "webhooks_per_s_peak_second": rate * 40, "burst": {"webhooks_per_s": rate * 36},
            "cpu_ms_per_webhook": {"gunicorn": gunicorn, "postgresql": postgresql}}


def test_a_step_breaks_on_errors_latency_or_a_late_client():
    assert broke(_step(100)) is None
    assert "errors" in broke(_step(100, errors=1))
    assert "p99" in broke(_step(900))
    assert "client" in broke(_step(100, lag=500))


def test_sustainable_is_the_last_step_before_the_first_that_broke():
    steps = [_step(100, rate=14), _step(200, rate=28), _step(900, rate=42), _step(100, rate=56)]
    for s in steps:
        s["broke"] = broke(s)
    assert sustainable(steps)["calls_per_s"] == 28
    steps[0]["broke"] = "p99"
    assert sustainable(steps) is None


def test_postgresql_limits_the_boxes_at_its_share_of_the_cpu():
    p = projection(_step(100, gunicorn=5.0, postgresql=1.0), cores=2, pg_cores=2, headroom=0.5)
    assert p["per_web_box_cpu_bound"] == 200 and p["postgresql_ceiling"] == 1000
    assert p["boxes_until_postgresql_limits"] == 5
