"""Composition root: configuration, the Flask app factory, CLI commands and background jobs."""
