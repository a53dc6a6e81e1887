"""Every Period dropdown names its months in the reader's language ("October 2026" /
"октябрь 2026"), keeps the key as the value, and marks a locked period."""
from __future__ import annotations

import html
import re

from scoring.payroll.periods import get_or_create_period
from store.base import utcnow
from tests.dashboard.seed import PERIOD

OPTION = re.compile(r'<option value="(\d{4}-\d{2})"[^>]*>([^<]*)</option>')


def options(text: str, select: str) -> dict[str, str]:
    """The key → shown text of the options of the first ``<select name=…>``."""
    start = text.index(f'<select name="{select}"')
    return {key: html.unescape(shown) for key, shown in OPTION.findall(text[start:text.index("</select>", start)])}


def test_period_dropdowns_name_months_in_english_and_russian_and_mark_a_lock(browser, database):
    with database.session() as s:
        period = get_or_create_period(s, PERIOD)
        period.state, period.locked_at = "locked", utcnow()
    browser.login("supervisor")
    scorecards = browser.get(f"/scorecards?period={PERIOD}").get_data(as_text=True)
    assert options(scorecards, "period")[PERIOD] == "October 2026 · locked"
    assert f'<option value="{PERIOD}" selected>' in scorecards
    assert re.search(r'<b>October 2026</b> <span class="badge locked">locked</span>', scorecards)
    flags = browser.get("/flags?state=all").get_data(as_text=True)
    assert options(flags, "period") == {"2026-10": "October 2026 · locked"}
    assert "<td>October 2026</td>" in flags and "<td>2026-10</td>" not in flags     # the findings' month column
    browser.post("/lang", {"lang": "ru", "back": "/"})
    for url in (f"/scorecards?period={PERIOD}", f"/calls?period={PERIOD}", f"/handle-time?period={PERIOD}",
                "/flags?state=all"):
        shown = options(browser.get(url).get_data(as_text=True), "period")
        assert shown[PERIOD] == "октябрь 2026 · закрыт", url
        assert all(re.fullmatch(r"[а-я]+ \d{4}( · закрыт)?", v) for v in shown.values()), shown


def test_period_label(app):
    from dashboard.templating import period_label
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert period_label("2026-11") == "ноябрь 2026"
        assert period_label("2026-W47").replace("\u202f", " ") == "16 нояб. 2026 г. – 22 нояб. 2026 г."
        assert period_label("2026-W60") == "2026-W60" and period_label(None) == "—"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert period_label("2026-01") == "January 2026"
