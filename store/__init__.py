"""Persistence: SQLAlchemy models and sessions. Imported by the domain, imports nothing of it."""
