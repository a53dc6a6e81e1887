"""Is an agent's share of some kind of leg far above what peers on the same queues show?

The agent rules that judge a share (caller-ended legs: survey dodging; legs the agent ended
under the short-talk threshold: early hang-ups; legs followed by a repeat call) share one
method. Queues differ (tech calls are long, billing disputes end badly), so the agent is
compared with the expectation from *other agents on the same queues*, weighted by the
agent's own legs per queue (indirect standardisation): E = Σ_q n_aq × k_peers,q / n_peers,q.
Queues where the agent has no peer are left out. The test is one-sided and exact
(P(X ≥ observed) for X ~ Binomial(n, E/n)); many agents are tested at once, so a verdict
needs Benjamini–Hochberg significance at the false discovery rate *and* a minimum excess
of the share over the expectation, because with enough legs any small, harmless
difference in an agent's call mix becomes significant.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

TEST_NAME = "one-sided exact binomial vs peers on the same queues (indirect standardisation), Benjamini-Hochberg"


@dataclass(frozen=True)
class PeerTest:
    agent_id: str
    legs: int               # the agent's legs on queues with peers
    observed: int           # of them, legs of the kind
    expected: float         # from peers on the same queues
    p_value: float
    q_value: float          # Benjamini-Hochberg adjusted p over the agents tested
    significant: bool       # q <= alpha
    by_queue: dict = field(default_factory=dict)   # queue -> {legs, observed, peer_share}

    @property
    def share(self) -> float:
        return self.observed / self.legs

    @property
    def expected_share(self) -> float:
        return self.expected / self.legs

    @property
    def excess(self) -> float:
        return self.share - self.expected_share

    def evidence(self, alpha: float, agents_tested: int, min_legs: int, min_excess: float) -> dict:
        return {"legs": self.legs, "observed": self.observed, "expected": round(self.expected, 2),
                "share": round(self.share, 4), "expected_share": round(self.expected_share, 4),
                "excess": round(self.excess, 4), "test": TEST_NAME, "p_value": self.p_value,
                "q_value": self.q_value, "agents_tested": agents_tested, "fdr": alpha, "min_legs": min_legs,
                "min_excess": min_excess, "by_queue": self.by_queue}


def bh_q_values(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values: reject where q <= the false discovery rate."""
    m = len(p_values)
    if not m:
        return []
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(ranked, 1.0)
    return [float(v) for v in q]


def peer_tests(rows: Iterable[tuple[str, str, int, int]], *, min_legs: int, alpha: float) -> list[PeerTest]:
    """``rows``: (agent, queue, legs, legs of the kind). One test per agent with at least
    ``min_legs`` legs on queues with peers, sorted by agent."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for agent_id, queue, n, k in rows:
        cell = cells[agent_id, queue]
        cell[0] += n
        cell[1] += k
    queue_n: dict[str, int] = defaultdict(int)
    queue_k: dict[str, int] = defaultdict(int)
    for (_, queue), (n, k) in cells.items():
        queue_n[queue] += n
        queue_k[queue] += k
    totals: dict[str, list] = defaultdict(lambda: [0, 0, 0.0, {}])
    for (agent_id, queue), (n, k) in sorted(cells.items()):
        peers = queue_n[queue] - n
        if peers == 0:
            continue
        peer_share = (queue_k[queue] - k) / peers
        s = totals[agent_id]
        s[0] += n
        s[1] += k
        s[2] += n * peer_share
        s[3][queue] = {"legs": n, "observed": k, "peer_share": round(peer_share, 4)}
    agents = sorted(a for a, s in totals.items() if s[0] >= min_legs)
    p_values = []
    for a in agents:
        n, k, e, _ = totals[a]
        p_values.append(float(stats.binom.sf(k - 1, n, min(max(e / n, 1e-9), 1.0))))
    q_values = bh_q_values(p_values)
    return [PeerTest(a, totals[a][0], totals[a][1], totals[a][2], p, q, q <= alpha, totals[a][3])
            for a, p, q in zip(agents, p_values, q_values)]


class Tally:
    """Legs per agent and queue, and which of them are of the kind (with their ids)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.hits: dict[tuple[str, str], list[int]] = defaultdict(list)

    def add(self, agent_id: str, queue: str, leg_id: int, hit: bool) -> None:
        cell = self.cells[agent_id, queue]
        cell[0] += 1
        if hit:
            cell[1] += 1
            self.hits[agent_id, queue].append(leg_id)

    def rows(self) -> list[tuple[str, str, int, int]]:
        return [(a, q, n, k) for (a, q), (n, k) in self.cells.items()]

    def leg_ids(self, test: PeerTest) -> list[int]:
        """The legs behind a test's observed count (queues without peers left out, as in the test)."""
        return sorted(i for queue in test.by_queue for i in self.hits.get((test.agent_id, queue), ()))


def outliers(tests: list[PeerTest], min_excess: float) -> list[PeerTest]:
    """The agents with a verdict: significant and at least ``min_excess`` above expectation."""
    return [t for t in tests if t.significant and t.excess >= min_excess]
