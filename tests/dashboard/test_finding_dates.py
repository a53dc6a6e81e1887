"""A monthly finding (survey dodging, calls piled up before the cap) is about a month, so it is
shown as the month in the reader's language, not as the instant the month began."""
from __future__ import annotations

from datetime import datetime, timezone

from store.flags import Flag


def test_a_monthly_finding_is_shown_as_its_month(browser, database, seeded):
    with database.session() as s:
        flag = Flag(key="survey-dodging:dan:2026-10", kind="survey-dodging", agent_id="dan",
                   occurred_at=datetime(2026, 10, 1, tzinfo=timezone.utc),
                   period_end=datetime(2026, 11, 1, tzinfo=timezone.utc), reason="few surveys offered",
                   evidence={}, rule_version="2026-11-r1")
        s.add(flag)
        s.flush()
        flag_id = flag.id
    browser.login("supervisor")
    page = browser.get("/agents/dan?period=2026-10").get_data(as_text=True)
    row = page[page.index(f'id="flag-{flag_id}"'):].split("</tr>")[0]
    assert "October 2026" in row and "03:00" not in row
    browser.post("/lang", {"lang": "ru", "back": "/"})
    row = browser.get("/agents/dan?period=2026-10").get_data(as_text=True)
    assert "октябрь 2026" in row[row.index(f'id="flag-{flag_id}"'):].split("</tr>")[0]
