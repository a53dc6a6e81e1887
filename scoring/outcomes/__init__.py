"""What happened on each call and what it says about the agent: outcome rules, classification,
gaming flags and their review, SLA figures."""
