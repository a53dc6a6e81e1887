"""Agents for the voice webhook tests: Alice (billing, general) on a Twilio Client, Bob (tech) on a phone."""
import pytest

from callflow.agents import create_agent

QUEUES = {"billing", "tech", "sales", "general"}


@pytest.fixture
def agents(database):
    with database.session() as s:
        create_agent(s, {"id": "alice", "name": "Alice", "team": "north", "skills": ["billing", "general"],
                         "presence": "available"}, QUEUES)
        create_agent(s, {"id": "bob", "name": "Bob", "team": "north", "skills": ["tech"],
                         "phone": "+15550002222", "presence": "available"}, QUEUES)
