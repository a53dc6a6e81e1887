"""Dashboard users and API tokens: who may sign in or call the JSON API, and with which role.

The dashboard, the JSON API and the CLI manage them through these functions only, so each
change is validated and audit-logged the same way whatever the entry point.
"""
