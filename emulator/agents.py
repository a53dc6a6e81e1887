"""Simulated agents: whether they answer, how long they talk, and how they game KPIs.

The truth of a bridged leg is decided when the agent answers: the caller's
need (how long the problem takes, lognormal per agent), when the caller would
hang up (need met, then a short linger) and when the agent would hang up
according to the agent's behaviour:

- honest:        ends a little after the need is met;
- early_hangup:  on a share of calls ends well before the need is met (at 25-60%
                 of it, or `early_after_s` seconds in);
- cap_cutter:    when a call would run past the handle-time cap, ends it a few
                 seconds before the cap, need met or not;
- survey_dodger: never hangs up first; the caller does, so the post-call
                 survey (which starts on agent hang-up) never runs;
- transfer_out:  passes `transfer_prob` of the calls on to another queue, the
                 longer (harder) half of them, `transfer_after_s` in: the console
                 asks the app for the transfer, then the agent hangs up, so the
                 caller goes on to another agent instead of the survey.

Any agent transfers the callers who rang the wrong queue (`callers.misrouted`).

Whoever's time comes first hangs up; "cut short" means the agent ended the
call before the need was met.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Protocol

import httpx

from .scenario import AgentSpec

BUSY_SIGNAL_S = 2.0   # a busy line fails the Dial almost at once


@dataclass
class RingOutcome:
    status: str       # answered | busy | no-answer
    after_s: float    # ring time until answer, or until the Dial gives up


@dataclass
class TalkPlan:
    need_s: float
    agent_end_s: float   # math.inf: waits for the caller
    caller_end_s: float
    cut_reason: str | None
    transfer: bool = False   # the agent ends it by transferring the caller to another queue

    @property
    def agent_ends(self) -> bool:
        return self.agent_end_s < self.caller_end_s

    @property
    def end_s(self) -> float:
        return min(self.agent_end_s, self.caller_end_s)

    @property
    def cut_short(self) -> bool:
        return self.agent_ends and self.agent_end_s < self.need_s


class SimAgent:
    def __init__(self, spec: AgentSpec):
        self.spec = spec
        self.on_call = False
        self.away_until = -math.inf

    def ring(self, rng: random.Random, now: float, timeout_s: float) -> RingOutcome:
        if self.on_call:
            return RingOutcome("busy", min(BUSY_SIGNAL_S, timeout_s))
        if now < self.away_until or rng.random() >= self.spec.answer_prob:
            return RingOutcome("no-answer", timeout_s)
        ring_s = rng.uniform(*self.spec.ring_s)
        if ring_s >= timeout_s:
            return RingOutcome("no-answer", timeout_s)
        return RingOutcome("answered", ring_s)

    def plan_talk(self, rng: random.Random, linger_s: tuple[float, float], cap_s: float,
                  misrouted: float = 0.0, transfers: random.Random | None = None) -> TalkPlan:
        """The leg's truth; ``misrouted``: the chance this caller belongs to another queue.
        Transfers draw from ``transfers`` (the call's own stream for them), so every other
        draw is what it was without transfers."""
        s = self.spec
        need = rng.lognormvariate(math.log(s.talk_median_s), s.talk_sigma)
        caller_end = need + rng.uniform(*linger_s)
        honest_end = need + rng.uniform(1.0, 6.0)
        agent_end, reason = honest_end, None
        if s.behaviour == "early_hangup" and rng.random() < s.early_prob:
            cut = rng.uniform(*s.early_after_s) if s.early_after_s else need * rng.uniform(0.25, 0.6)
            agent_end, reason = cut, "early_hangup"
        elif s.behaviour == "cap_cutter" and honest_end > cap_s - 15.0:
            agent_end, reason = cap_s - rng.uniform(2.0, 12.0), "cap"
        elif s.behaviour == "survey_dodger":
            agent_end = math.inf
        if agent_end >= need:
            reason = None
        transfers = transfers or rng
        wrong_queue = bool(misrouted) and transfers.random() < misrouted
        passes_on = (s.behaviour == "transfer_out" and need > s.talk_median_s
                     and transfers.random() < 2 * s.transfer_prob)
        if wrong_queue or passes_on:
            agent_end = min(transfers.uniform(*s.transfer_after_s), caller_end - 1.0)
            return TalkPlan(need, agent_end, caller_end, None if wrong_queue else "transfer", transfer=True)
        return TalkPlan(need, agent_end, caller_end, reason)


class AgentConsole(Protocol):
    """What agents do in the app's UI, as requests: register, change presence.

    Each method returns a function performing the request (run by the engine
    in a worker thread), or None when there is nothing to send.
    """

    def register(self, spec: AgentSpec) -> Callable[[], None] | None: ...

    def presence(self, agent_id: str, presence: str) -> Callable[[], None] | None: ...

    def transfer(self, agent_id: str, queue: str) -> Callable[[], None] | None: ...


class NullConsole:
    """For apps that manage no presence (toy apps in tests)."""

    def register(self, spec: AgentSpec) -> None:
        return None

    def presence(self, agent_id: str, presence: str) -> None:
        return None

    def transfer(self, agent_id: str, queue: str) -> None:
        return None


class HttpConsole:
    """The app's JSON agent API: `POST /api/agents`, `PUT /api/agents/<id>/presence`,
    `POST /api/agents/<id>/transfer`, Bearer token."""

    def __init__(self, client: httpx.Client, base_url: str, token: str):
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.errors: list[str] = []

    def register(self, spec: AgentSpec) -> Callable[[], None]:
        body = {"id": spec.id, "name": spec.name, "team": spec.team,
                "skills": list(spec.skills), "phone": spec.phone}
        return lambda: self._send("POST", "/api/agents", body, ok_extra=(409,))

    def presence(self, agent_id: str, presence: str) -> Callable[[], None]:
        return lambda: self._send("PUT", f"/api/agents/{agent_id}/presence", {"presence": presence})

    def transfer(self, agent_id: str, queue: str) -> Callable[[], None]:
        """The console's transfer button: the app carries it out when the agent hangs up."""
        return lambda: self._send("POST", f"/api/agents/{agent_id}/transfer", {"queue": queue})

    def _send(self, method: str, path: str, body: dict, ok_extra: tuple[int, ...] = ()) -> None:
        try:
            resp = self.client.request(method, self.base_url + path, json=body, headers=self.headers)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal to the simulation
            self.errors.append(f"{method} {path}: {exc!r}")
            return
        if not (200 <= resp.status_code < 300 or resp.status_code in ok_extra):
            self.errors.append(f"{method} {path}: HTTP {resp.status_code}")
