"""The Flask app factory: settings, database, IVR and survey definitions, blueprints."""
from __future__ import annotations

import logging
import secrets

import click

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from aftercall.config import Settings, require_secret
from ivr.menu import load_menu
from store.db import Database
from survey.definition import load_survey
from survey.spool import AnswerSpool


def create_app(settings: Settings | None = None, db: Database | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if click.get_current_context(silent=True) is None:
        require_secret(settings)   # the web server (gunicorn calls this outside any CLI)
    app = Flask(__name__)
    from aftercall import logs
    logs.init_app(app)
    # A one-shot ``flask`` command (migrate, users, export) signs nothing a browser keeps, so it runs
    # without the secret; ``flask worker`` asks for it itself. A body over the limit is refused (413)
    # from its Content-Length, before anything parses it.
    app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key or secrets.token_hex(32),
                      MAX_CONTENT_LENGTH=settings.max_request_bytes)
    from webhooks.openapi import DepthLimitedJSON, json_errors_under_api
    app.json = DepthLimitedJSON(app)
    from webhooks.security import StatelessWebhooksSessionInterface
    app.session_interface = StatelessWebhooksSessionInterface()
    if settings.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trust_proxy, x_proto=settings.trust_proxy,
                                x_host=settings.trust_proxy, x_port=settings.trust_proxy)
    menu = load_menu(settings.menu_file)
    app.config["MENU"] = menu
    app.config["SURVEY"] = load_survey(settings.survey_file, set(menu.languages))
    from aftercall.followups import setup as followup_setup
    app.config["FOLLOWUPS"] = followup_setup(settings)
    app.extensions["db"] = db or Database(settings.database_url)
    # What Twilio tells us while the database is down: the local folder, else a Redis stream.
    app.extensions["answer_spool"] = AnswerSpool(settings.answer_spool_dir, settings.redis_url, settings.spool_stream)
    from aftercall.recordings import remover
    # The dashboard's player fetches a recording's audio through this (Twilio's credentials stay
    # here); without an account there is nothing to fetch from, and no player is shown.
    app.extensions["recording_audio"] = (lambda recording_sid: remover(settings).audio(recording_sid)) \
        if settings.twilio_account_sid else None
    if settings.skip_signature:
        logging.getLogger(__name__).warning("Twilio signature checks are OFF (TWILIO_SKIP_SIGNATURE_CHECK)")

    from webhooks.agents_api import bp as agents_api
    from webhooks.voice import bp as voice
    app.register_blueprint(voice)
    app.register_blueprint(agents_api)
    from webhooks.payroll_api import bp as payroll_api
    app.register_blueprint(payroll_api)
    from webhooks.me_api import bp as me_api
    app.register_blueprint(me_api)
    from webhooks.openapi import bp as openapi
    app.register_blueprint(openapi)
    from webhooks.calls_api import bp as calls_api
    from webhooks.followup_voice import bp as followup_voice
    from webhooks.sms import bp as sms
    app.register_blueprint(sms)
    from aftercall.followups import late_reply_job
    # An SMS reply kept during an outage: its answer goes out with this job when replayed.
    app.extensions["late_reply_job"] = late_reply_job
    app.register_blueprint(followup_voice)
    app.register_blueprint(calls_api)
    from webhooks.callbacks_api import bp as callbacks_api
    from webhooks.callback_voice import bp as callback_voice
    app.register_blueprint(callbacks_api)
    app.register_blueprint(callback_voice)
    from aftercall.callbacks import ring_job
    # "Call back" (dashboard and API) submits this job: it rings through Twilio's REST client.
    app.extensions["callback_ring_job"] = ring_job
    import dashboard
    dashboard.init_app(app)
    json_errors_under_api(app)   # after the dashboard's handlers, which it wraps

    from aftercall import jobs
    # Runs a submitted job in this process: for a page that shows its result at once (a lock).
    app.extensions["run_job"] = lambda job_id: jobs.run(app.extensions["db"], job_id)

    from aftercall.cli import register
    register(app)

    from aftercall.health import bp as health
    app.register_blueprint(health)
    return app
