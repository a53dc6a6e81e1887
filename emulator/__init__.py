"""A local stand-in for Twilio Voice that drives the app through its real webhooks.

    from emulator import load_scenario, run, Target
    result = run(load_scenario("emulator/scenarios/smoke.toml"), app)          # in-process (WSGI)
    result = run(scenario, "http://127.0.0.1:8000", concurrency=16)           # live server
    print(result.summary())

See docs/emulator.md.
"""

from .agents import AgentConsole, HttpConsole, NullConsole
from .results import SimulationResult
from .runner import run
from .scenario import AgentSpec, Scenario, load_scenario
from .transport import Target
from .truth import CallTruth, LegTruth

__all__ = ["AgentConsole", "AgentSpec", "CallTruth", "HttpConsole", "LegTruth", "NullConsole",
           "Scenario", "SimulationResult", "Target", "load_scenario", "run"]
