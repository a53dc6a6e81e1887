"""Scoring: call outcomes, flags, SLA figures and satisfaction-weighted agent KPIs."""
