"""Composition root: configuration, the Flask app factory, CLI commands and background jobs."""
from aftercall.app import create_app

__all__ = ["create_app"]
