import datetime as dt

import pytest

from emulator import NullConsole, Scenario, run
from emulator.scenario import AgentSpec, Callers, Faults

from .toy_apps import TOKEN, scripted_app

EPOCH = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def callers(**kw) -> Callers:
    """Predictable callers: English, key 1, no mistakes, always answer the survey, never call back."""
    defaults = dict(language={"1": 1.0}, menu={"1": 1.0}, wrong_key=0, silence=0, ivr_hangup=0,
                    survey_response_rate=1.0, repeat_if_unresolved=0)
    return Callers(**{**defaults, **kw})


def make_scenario(calls=1, agents=(), callers=None, faults=None, **kw) -> Scenario:
    callers = callers or globals()["callers"]()
    return Scenario(seed=kw.pop("seed", 1), start=EPOCH, calls=calls, auth_token=TOKEN,
                    voice_url="/voice", status_callback="/status",
                    agents=[a if isinstance(a, AgentSpec) else AgentSpec(**a) for a in agents],
                    callers=callers, faults=faults or Faults(), **kw)


@pytest.fixture
def drive():
    """Run a scenario against a scripted app; returns (result, app request log)."""
    def _drive(routes, scenario=None, **run_kw):
        app = scripted_app(routes)
        result = run(scenario or make_scenario(), app, progress=False, console=NullConsole(), **run_kw)
        assert app.config["BAD_SIGNATURES"] == 0
        return result, app.config["LOG"]
    return _drive
