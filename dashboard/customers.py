"""Callers at risk (supervisors): the riskiest callers of the rolling window with their reasons
in words, their satisfaction index, and links to their calls and call-back tasks.

The list is ``scoring.customers.assess``, as for ``flask callers at-risk``. Numbers are masked
(``dashboard.masking``), and the links carry a caller key (the CallSid of the caller's latest
call), never the number.
"""
from __future__ import annotations

from flask import Blueprint
from flask_babel import ngettext

from dashboard.auth import guard
from dashboard.masking import mask
from dashboard.paging import paged
from dashboard.web import centre_tz, db, render
from scoring.customers import assess
from scoring.outcomes.rules import load_rules
from scoring.scorecards.config import load_config

bp = Blueprint("customers", __name__)
bp.before_request(guard("callbacks"))    # the call-back worklist's readers: supervisors (and admins)
PAGE_SIZE = 25


def reason(factor: str, n: int, sla_seconds: int) -> str:
    """One risk factor and its count, in the reader's language."""
    if factor == "unresolved":
        return ngettext("said %(num)s time the question was not resolved",
                        "said %(num)s times the question was not resolved", n)
    if factor == "repeat_call":
        return ngettext("%(num)s repeat call", "%(num)s repeat calls", n)
    if factor == "transfer_back":
        return ngettext("asked %(num)s time to speak to an agent again",
                        "asked %(num)s times to speak to an agent again", n)
    if factor == "abandoned":
        return ngettext("hung up %(num)s time while waiting in the queue",
                        "hung up %(num)s times while waiting in the queue", n)
    if factor == "long_wait":
        return ngettext("waited longer than %(s)s s %(num)s time", "waited longer than %(s)s s %(num)s times", n,
                        s=sla_seconds)
    if factor == "task_failed":
        return ngettext("%(num)s call-back not reached or declined", "%(num)s call-backs not reached or declined", n)
    if factor == "task_overdue":
        return ngettext("%(num)s call-back overdue", "%(num)s call-backs overdue", n)
    if factor == "task_open":
        return ngettext("%(num)s call-back not made yet", "%(num)s call-backs not made yet", n)
    raise ValueError(f"unknown risk factor {factor!r}")


@bp.get("/at-risk")
def index():
    config, rules = load_config(), load_rules()
    with db().session() as s:
        result = assess(s, config=config, rules=rules)
    page = paged(len(result.callers), size=PAGE_SIZE)
    tz = centre_tz()
    days = {"from": result.start.astimezone(tz).date().isoformat(), "to": result.end.astimezone(tz).date().isoformat()}
    rows = [{"rank": page.offset + i, "caller": c, "masked": mask(c.number),
             "reasons": [reason(f, n, rules.service_level_seconds) for f, n in c.reasons]}
            for i, c in enumerate(result.callers[page.offset:page.offset + page.size], 1)]
    return render("at_risk.html", result=result, rows=rows, page=page, days=days, settings=config.at_risk)
