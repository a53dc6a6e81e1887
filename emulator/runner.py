"""Run a scenario against an app: arrivals, repeat callers, agents, results.

Arrivals are a Poisson process whose hourly rate follows `arrivals.per_hour`
(scaled by `weekend_factor` on Saturdays and Sundays) over `days`, or until
`calls` first contacts when the scenario caps them. Each call gets its own
random stream derived from the seed, so a call's choices do not depend on
what other calls did; with concurrency 1 a run is reproducible exactly.
Callers whose problem was not solved call back from the same number with
probability `callers.repeat_if_unresolved`, hours later.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from .agents import AgentConsole, HttpConsole, SimAgent
from .call import Call, Context
from .callers import Caller
from .engine import Engine
from .results import SimulationResult
from .scenario import Scenario
from .transport import Target
from .truth import CallTruth, write_jsonl
from .webhooks import LatencyLog, WebhookClient

DAY_S = 86400.0


def arrival_times(scenario: Scenario, rng: random.Random) -> list[float]:
    epoch_weekday = scenario.epoch().weekday()
    times: list[float] = []
    hour = 0
    horizon_h = int(round(scenario.days * 24))
    while True:
        if scenario.calls is None and hour >= horizon_h:
            break
        if scenario.calls is not None and (len(times) >= scenario.calls or hour > 24 * 3650):
            break
        rate = scenario.arrivals.per_hour[hour % 24]
        if (epoch_weekday + hour // 24) % 7 >= 5:
            rate *= scenario.arrivals.weekend_factor
        t = 0.0
        while rate > 0:
            t += rng.expovariate(rate / 3600.0)
            if t >= 3600.0:
                break
            times.append(hour * 3600.0 + t)
        hour += 1
    return times[: scenario.calls] if scenario.calls is not None else times


def shift_changes(spec, days: int) -> list[tuple[float, float]]:
    """(log-in, log-out) seconds after the epoch of each of an agent's shifts over `days` days,
    so the load per logged-in agent follows the hour of day as a real roster's does."""
    if spec.shift_h is None:
        return []
    start, end = (h * 3600.0 for h in spec.shift_h)
    if end < start:
        end += DAY_S
    return [(d * DAY_S + start, d * DAY_S + end) for d in range(-1, days) if d * DAY_S + end > 0]


def caller_numbers(scenario: Scenario, rng: random.Random) -> list[str]:
    return [f"+1555{rng.randrange(10**7):07d}" for _ in range(scenario.callers.number_pool)]


def run(scenario: Scenario, target, *, progress: bool = True, concurrency: int = 1,
        console: AgentConsole | None = None, truth_path: str | Path | None = None,
        window_s: float = 2.0, recordings: Callable[[str], None] | None = None,
        arrivals: list[float] | None = None, engine: Engine | None = None) -> SimulationResult:
    """Simulate `scenario` against `target` and return what happened.

    `target` is a `Target`, a base URL string (live server) or a WSGI app
    (in-process). `console` defaults to the app's JSON agent API
    (`HttpConsole`) with the scenario's `api_token`; pass `NullConsole()` for
    apps without one.
    `recordings` is told each RecordingSid a caller's words made (e.g.
    `FakeTwilioRest.keep_recording`, so the app can fetch and delete it there).
    `arrivals` (first contacts' start times, seconds after the epoch) replaces the scenario's
    Poisson arrivals, and `engine` the simulated-time engine (e.g. one paced by the wall clock,
    as ``bench.mix_bench`` drives an open-loop rate).
    """
    if isinstance(target, str):
        target = Target.http(target, connections=max(8, concurrency * 2))
    elif not isinstance(target, Target):
        target = Target.wsgi(target)
    if console is None:
        console = HttpConsole(target.client, target.base_url, scenario.api_token)

    rng = random.Random(f"{scenario.seed}:arrivals")
    arrivals = arrival_times(scenario, rng) if arrivals is None else sorted(arrivals)
    numbers = caller_numbers(scenario, rng)
    latency = LatencyLog()
    engine = engine or Engine(concurrency=concurrency, window_s=window_s)
    webhooks = WebhookClient(target.client, scenario.auth_token, scenario.faults,
                             scenario.timing.read_timeout_s, latency)
    agents = {spec.id: SimAgent(spec) for spec in scenario.agents}
    finished: list[CallTruth] = []
    bar = tqdm(total=len(arrivals), disable=not progress, unit="call", desc="simulate")

    def on_finish(call: Call) -> None:
        finished.append(call.truth)
        bar.update(1)
        cfg = scenario.callers
        if not call.truth.resolved and call.rng.random() < cfg.repeat_if_unresolved:
            delay = call.rng.uniform(*cfg.repeat_delay_h) * 3600.0
            if stop is None or call.now + delay < stop:
                start_call(call.caller.from_number, call.now + delay, repeat_of=call.sid)
                bar.total += 1
                bar.refresh()

    ctx = Context(scenario=scenario, engine=engine, webhooks=webhooks, resolve=target.url,
                  agents=agents, console=console, on_finish=on_finish, recordings=recordings)

    stop = scenario.stop_s()

    def start_call(number: str, at: float, repeat_of: str | None = None, index: int | None = None) -> None:
        if stop is not None and at >= stop:   # it could still be going on at `until`
            return
        key = f"{scenario.seed}:call:{index}" if repeat_of is None else f"{scenario.seed}:repeat:{repeat_of}"
        call_rng = random.Random(key)
        call = Call(ctx, call_rng, Caller(call_rng, scenario.callers, number), at, repeat_of)
        engine.spawn(call.process(), at)

    horizon = (arrivals[-1] if arrivals else 0.0) + scenario.timing.max_call_s   # no log-outs after the last call
    last_day = int(horizon // DAY_S) + 1
    for spec in scenario.agents:
        ctx.chore(-1.0, console.register(spec), console.presence(spec.id, "available" if spec.on_shift(0.0) else "offline"))
        for start, end in shift_changes(spec, last_day):   # one that began before the epoch: logged in above
            if 0 < start <= horizon:
                ctx.chore(start, console.presence(spec.id, "available"))
            if end <= horizon:
                ctx.chore(end, console.presence(spec.id, "offline"))
    for i, at in enumerate(arrivals):
        start_call(rng.choice(numbers), at, index=i)

    began = time.perf_counter()
    try:
        engine.run()
    finally:
        bar.close()
    finished.sort(key=lambda c: (c.start_s, c.call_sid))
    result = SimulationResult(
        truth=finished, latency_s=dict(latency.by_path), callback_errors=ctx.callback_errors,
        console_errors=list(getattr(console, "errors", [])), wall_s=time.perf_counter() - began,
        sim_days=engine.clock / DAY_S)
    if truth_path is not None:
        write_jsonl(finished, truth_path)
    return result

