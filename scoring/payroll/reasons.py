"""Why a pay row's multiplier is what it is, as a sentence in the reader's language.

The row keeps the stable code (``pay_reason``, ``scoring.scorecards.statistics.PAY_REASONS``);
the sentence (``pay_reason_text``) is written when the file is exported, in the exporting
user's language, from the row's own figures, so a locked period's snapshot exports in Russian
for one person and in English for another with the same numbers. The sentences are interface
strings like the dashboard's: extracted by ``make translations`` (babel.cfg) into the same
catalog and read from it here with the standard library (the domain imports no Flask).
"""
from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

CATALOGS = Path(__file__).resolve().parents[2] / "dashboard" / "translations"


def N_(msgid: str) -> str:
    """Marks a sentence for extraction; translated when rendered."""
    return msgid


SENTENCES = {
    "tier": N_("Composite %(composite)s on %(answers)s survey answers reaches tier %(tier)s: x%(multiplier)s."),
    "insufficient": N_("Only %(answers)s survey answers (fewer than %(minimum)s): no rank. Paid on the cautious "
                       "composite %(composite)s, which fewer answers never raise (no flat rate): x%(multiplier)s."),
    "carried": N_("Only %(answers)s survey answers this period: the estimate leans on what the agent's own earlier "
                  "periods show at the cautious bound (carried), not on the lowest paying level: composite "
                  "%(composite)s, x%(multiplier)s."),
    "unanswered-calls": N_("Calls left without a survey answer beyond what other agents' callers leave unanswered "
                           "count as unresolved: composite %(composite)s, x%(multiplier)s."),
    "finding-confirmed": N_("Confirmed findings cost %(penalty)s points in proportion to the calls they cover: "
                            "composite %(composite)s, x%(multiplier)s."),
}


@lru_cache(maxsize=8)
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", localedir=str(CATALOGS), languages=[language], fallback=True)


def reason_text(row: dict, language: str = "en", *, min_responses: int = 20) -> str | None:
    """The sentence for a pay row (None for a row frozen before pay rules had reasons)."""
    code = row.get("pay_reason")
    if code not in SENTENCES:
        return None
    figures = {"composite": f"{row.get('composite') or 0:.1f}", "answers": row.get("surveys_completed") or 0,
               "tier": row.get("tier"), "multiplier": f"{row.get('multiplier') or 0:.2f}", "minimum": min_responses,
               "penalty": f"{row.get('flag_penalty') or 0:.1f}"}
    return _catalog(language).gettext(SENTENCES[code]) % figures
