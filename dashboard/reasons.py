"""A flag's reason in the reader's language, built from its kind and evidence.

``flags.reason`` keeps the English sentence the rule wrote (the JSON API and the CLI show it);
pages say the same thing from the evidence parameters, so it can be translated and declined.
A kind or evidence this module does not know falls back to the stored sentence.
"""
from __future__ import annotations

from flask_babel import gettext, ngettext

from dashboard.i18n import N_, label
from dashboard.templating import num, pct, seconds


def _truncated(e: dict) -> str:
    if e.get("talk_seconds", 0) < e.get("threshold_seconds", 0):
        return gettext("agent ended the call after %(talk)s, under the %(threshold)s short-call threshold",
                       talk=seconds(e["talk_seconds"], 0), threshold=seconds(e["threshold_seconds"], 0))
    return gettext("agent ended the call after %(talk)s and the caller said it was not answered adequately",
                   talk=seconds(e["talk_seconds"], 0))


def _cap_cut(e: dict) -> str:
    return gettext("agent ended the call at %(talk)s, just under the %(cap)s cap",
                   talk=seconds(e["talk_seconds"], 0), cap=seconds(e["cap_seconds"], 0))


def _repeat(e: dict) -> str:
    return gettext("the caller called again %(gap)s h later: no first-contact resolution",
                   gap=num(e["gap_seconds"] / 3600))


def _cliff(e: dict) -> str:
    return ngettext("%(num)s agent-ended call just before the cap where the smooth density predicts %(expected)s",
                    "%(num)s agent-ended calls just before the cap where the smooth density predicts %(expected)s",
                    e["observed"], expected=num(e["expected"]))


def _dodging(e: dict) -> str:
    return ngettext("%(share)s of %(num)s answered call ended by the caller (no survey) where peers on the same "
                    "queues would give %(expected)s",
                    "%(share)s of %(num)s answered calls ended by the caller (no survey) where peers on the same "
                    "queues would give %(expected)s",
                    e["legs"], share=pct(e["share"]), expected=pct(e["expected_share"]))


def _early_hangup(e: dict) -> str:
    return ngettext("ended %(observed)s of %(num)s answered call (%(share)s) under the short-call threshold where "
                    "peers on the same queues would give %(expected)s",
                    "ended %(observed)s of %(num)s answered calls (%(share)s) under the short-call threshold where "
                    "peers on the same queues would give %(expected)s",
                    e["legs"], observed=e["observed"], share=pct(e["share"]), expected=pct(e["expected_share"]))


def _repeat_calls(e: dict) -> str:
    return ngettext("%(share)s of %(num)s answered call followed by a repeat call within %(hours)s h where peers "
                    "on the same queues would give %(expected)s",
                    "%(share)s of %(num)s answered calls followed by a repeat call within %(hours)s h where peers "
                    "on the same queues would give %(expected)s",
                    e["legs"], share=pct(e["share"]), hours=num(e["window_hours"]), expected=pct(e["expected_share"]))


def _transfer_out(e: dict) -> str:
    return ngettext("transferred %(observed)s of %(num)s answered call (%(share)s) to another queue where peers on "
                    "the same queues would give %(expected)s",
                    "transferred %(observed)s of %(num)s answered calls (%(share)s) to another queue where peers on "
                    "the same queues would give %(expected)s",
                    e["legs"], observed=e["observed"], share=pct(e["share"]), expected=pct(e["expected_share"]))


BUILDERS = {"truncated": _truncated, "cap-cut": _cap_cut, "repeat-call": _repeat, "cap-cliff": _cliff,
            "survey-dodging": _dodging, "early-hangup": _early_hangup, "repeat-calls": _repeat_calls,
            "transfer-out": _transfer_out}


PEER_TEST = N_("one-sided exact binomial test against peers on the same queues (indirect standardisation), "
               "corrected for testing many agents at once (Benjamini–Hochberg)")
TESTS = {"cap-cliff": N_("a Poisson fit of the talk times around the cap, a one-sided negative binomial test, "
                         "corrected for testing many agents at once (Benjamini–Hochberg)"),
         "survey-dodging": PEER_TEST, "early-hangup": PEER_TEST, "repeat-calls": PEER_TEST,
         "transfer-out": PEER_TEST}


def flag_test(flag) -> str:
    """The test behind a finding in the reader's words; the stored English for a kind not listed."""
    test = TESTS.get(flag.kind)
    return gettext(test) if test else (flag.evidence or {}).get("test", "")


def flag_reason(flag) -> str:
    build = BUILDERS.get(flag.kind)
    try:
        return build(flag.evidence or {}) if build else flag.reason
    except (KeyError, TypeError, ZeroDivisionError):
        return flag.reason


def confirm_cost_text(cost) -> str:
    """``scoring.payroll.confirm_cost.ConfirmCost`` in the reader's language."""
    if cost.before is None or cost.after is None:
        return gettext("%(agent)s has no scorecard in %(period)s: confirming changes no pay",
                       agent=cost.agent_name, period=cost.period)
    b, a = cost.before, cost.after
    before = f"{label('tier', b.tier)} ×{num(b.multiplier, 2)}"
    after = f"{label('tier', a.tier)} ×{num(a.multiplier, 2)}"
    if cost.moves_pay:
        text = gettext("confirming moves %(agent)s from %(before)s to %(after)s", agent=cost.agent_name,
                       before=before, after=after)
    else:
        text = gettext("confirming leaves %(agent)s at %(before)s", agent=cost.agent_name, before=before)
    if b.composite is not None and a.composite is not None:
        text += " " + gettext("(composite %(before)s → %(after)s)", before=num(b.composite, 1), after=num(a.composite, 1))
    if cost.locked:
        text += "; " + gettext("%(period)s is locked, so a change is paid as an adjustment in the next open period",
                               period=cost.period)
    return text
