"""What a run reports: counts, per-webhook latency percentiles, truth records."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .truth import CallTruth


@dataclass
class SimulationResult:
    truth: list[CallTruth]
    latency_s: dict[str, list[float]]     # every request attempt's wall-clock latency, by URL path
    callback_errors: int = 0               # status callbacks answered with non-2xx / not at all
    console_errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    sim_days: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.truth)

    @property
    def bridged(self) -> int:
        return sum(1 for c in self.truth for leg in c.legs if leg.dial_status == "completed")

    @property
    def abandoned_in_queue(self) -> int:
        return sum(c.abandoned_in_queue for c in self.truth)

    @property
    def abandoned_in_ivr(self) -> int:
        return sum(c.abandoned_in_ivr for c in self.truth)

    @property
    def surveys_completed(self) -> int:
        """Legs whose caller answered all three survey questions."""
        return sum(1 for c in self.truth for leg in c.legs if len(leg.survey) >= 3)

    @property
    def application_errors(self) -> int:
        return sum(len(c.app_errors) for c in self.truth)

    @property
    def calls_with_errors(self) -> int:
        return sum(1 for c in self.truth if c.app_errors)

    @property
    def duplicate_mismatches(self) -> int:
        return sum(len(c.duplicate_mismatches) for c in self.truth)

    def percentiles(self) -> dict[str, dict[str, float]]:
        """p50/p95/p99 in milliseconds and the request count, per URL path."""
        out = {}
        for path, values in sorted(self.latency_s.items()):
            p50, p95, p99 = np.percentile(np.asarray(values) * 1000.0, [50, 95, 99])
            out[path] = {"n": len(values), "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}
        return out

    def counts(self) -> dict[str, int]:
        return {
            "calls": self.calls, "bridged": self.bridged,
            "abandoned_in_queue": self.abandoned_in_queue, "abandoned_in_ivr": self.abandoned_in_ivr,
            "surveys_completed": self.surveys_completed, "application_errors": self.application_errors,
            "calls_with_errors": self.calls_with_errors, "duplicate_mismatches": self.duplicate_mismatches,
            "callback_errors": self.callback_errors, "console_errors": len(self.console_errors),
        }

    def summary(self) -> str:
        lines = [f"{k.replace('_', ' '):<22}{v:>10}" for k, v in self.counts().items()]
        lines.append(f"{'simulated days':<22}{self.sim_days:>10.1f}")
        lines.append(f"{'wall time (s)':<22}{self.wall_s:>10.1f}")
        lines.append("")
        lines.append(f"{'webhook path':<36}{'n':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
        for path, p in self.percentiles().items():
            lines.append(f"{path:<36}{p['n']:>8}{p['p50_ms']:>10.1f}{p['p95_ms']:>10.1f}{p['p99_ms']:>10.1f}")
        return "\n".join(lines)
