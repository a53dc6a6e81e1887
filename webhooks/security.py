"""Who may call us: Twilio (signed webhooks) and API clients (bearer tokens)."""
from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from functools import wraps

from flask import abort, current_app, g, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from store.accounts import ApiToken, hash_token
from store.base import utcnow

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The URL Twilio requested: the configured public base (behind a proxy) or the request's own."""
    settings = current_app.config["SETTINGS"]
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        raw = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    if settings.public_base_url:
        return settings.public_base_url + raw
    return f"{request.scheme}://{request.host}{raw}"   # as sent (host_url would IRI-decode the host)


def twilio_signature_ok() -> bool:
    settings = current_app.config["SETTINGS"]
    if settings.skip_signature:
        log.warning("X-Twilio-Signature NOT checked (TWILIO_SKIP_SIGNATURE_CHECK is on): development only")
        return True
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.twilio_auth_token or not signature:
        return False
    params = request.form.to_dict() if request.method == "POST" else {}
    validator, url = RequestValidator(settings.twilio_auth_token), signed_url()
    # The URL exactly as requested is one of the two forms ``validate`` accepts (with and without
    # the port): try it alone first, one HMAC; anything else goes through ``validate`` itself.
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)


class StatelessWebhooksSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, except for Twilio's webhooks (``/voice/``, ``/sms/``,
    ``/followup/voice/``, ``/callback/voice/``): they never use one,
    so they skip building the signing serializer and reading/writing the cookie per request."""

    stateless_prefixes = ("/voice/", "/sms/", "/followup/voice/", "/callback/voice/")

    def open_session(self, app, request):
        if request.path.startswith(self.stateless_prefixes):
            return None   # Flask's NullSession: readable, empty, never saved
        return super().open_session(app, request)


def require_twilio(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not twilio_signature_ok():
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def api_error(status: int, message: str, **extra):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


LAST_USED_EVERY = timedelta(minutes=1)
"""How stale ``ApiToken.last_used_at`` may be: writing it on every request queues every request
of a token (an integration's agent consoles share one) behind one row lock (bench.mix_bench)."""


def require_token(*roles: str):
    """Bearer-token authentication for the JSON API; ``roles`` empty means any valid token."""
    def deco(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return api_error(401, "missing bearer token")
            db = current_app.extensions["db"]
            with db.session() as s:
                token = s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()),
                                                        ApiToken.revoked.is_(False)))
                if token is None:
                    return api_error(401, "invalid or revoked token")
                if roles and token.role not in roles and token.role != "admin":
                    return api_error(403, f"token role {token.role!r} may not do this")
                now = utcnow()
                if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
                    token.last_used_at = now   # not on every request: consoles share a token, and its row lock
                g.api_token = {"id": token.id, "name": token.name, "role": token.role, "agent_id": token.agent_id}
            return view(*args, **kwargs)
        return wrapper
    return deco
