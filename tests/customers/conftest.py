"""The dashboard's seeded centre and logged-in test client, for the at-risk page's tests."""
from tests.dashboard.conftest import browser, seeded  # noqa: F401
