"""Settings from environment variables (12-factor), with defaults that run embedded.

The embedded default is a SQLite file under ``instance/`` and a queue kept in that same
database, so one command runs everything with no servers. Production sets
``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (RQ).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, key: str, default: int) -> int:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{key} must be a whole number, got {raw!r}") from exc


def _rate(env: dict, key: str, default: float) -> float:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{key} must be a number, 0 or more, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str = ""
    twilio_auth_token: str = ""
    twilio_account_sid: str = ""
    public_base_url: str = ""
    skip_signature: bool = False
    trust_proxy: int = 0
    secret_key: str = field(default="", repr=False)
    menu_file: Path = ROOT / "ivr" / "menu.toml"
    survey_file: Path = ROOT / "survey" / "survey.toml"
    dial_timeout: int = 20
    wrapup_seconds: int = 0
    rq_queue: str = "aftercall"
    answer_spool_dir: Path = INSTANCE / "spool"
    spool_replay_seconds: int = 30
    spool_stream: str = "aftercall:spool"
    reconcile_after_minutes: int = 240
    reconcile_seconds: int = 300
    rollup_seconds: int = 900
    followups: bool = False
    followup_file: Path = ROOT / "survey" / "followup.toml"
    followup_seconds: int = 60
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    callback_sweep_seconds: int = 60
    callback_lookback_days: int = 14
    callback_due_hours: int = 0
    callback_webhook_url: str = ""
    callback_webhook_secret: str = ""
    callback_capacity: tuple = (("", 8),)
    """``CALLBACK_TEAM_CAPACITY``: call-back tasks per team and day, ``N`` or ``N,team=M,…``; 0: no limit."""
    callback_window_days: int = 7
    recording_retention_days: int = 30
    recording_sweep_seconds: int = 3600
    calls_per_second: float = 1.0
    messages_per_second: float = 1.0
    pace_max_wait_seconds: float = 10.0
    max_request_bytes: int = 1024 * 1024
    """Twilio's documented ceiling for a webhook payload is 1 MB (its error 17564); ours are
    a few kB, the JSON API's smaller still, and the dashboard takes no uploads."""
    dispute_window_days: int = 7
    agent_sees_own_words: bool = False
    invitation_hours: int = 72

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'aftercall.db'}",
            redis_url=env.get("REDIS_URL", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            skip_signature=_bool(env.get("TWILIO_SKIP_SIGNATURE_CHECK")),
            trust_proxy=_int(env, "TRUST_PROXY_HOPS", 0),
            secret_key=env.get("SECRET_KEY", ""),
            menu_file=Path(env.get("MENU_FILE") or ROOT / "ivr" / "menu.toml"),
            survey_file=Path(env.get("SURVEY_FILE") or ROOT / "survey" / "survey.toml"),
            dial_timeout=_int(env, "DIAL_TIMEOUT", 20),
            wrapup_seconds=_int(env, "WRAPUP_SECONDS", 0),
            rq_queue=env.get("RQ_QUEUE", "aftercall"),
            answer_spool_dir=Path(env.get("ANSWER_SPOOL_DIR") or INSTANCE / "spool"),
            spool_replay_seconds=_int(env, "ANSWER_SPOOL_REPLAY_SECONDS", 30),
            spool_stream=env.get("SPOOL_REDIS_STREAM") or "aftercall:spool",
            reconcile_after_minutes=_int(env, "RECONCILE_AFTER_MINUTES", 240),
            reconcile_seconds=_int(env, "RECONCILE_SECONDS", 300),
            rollup_seconds=_int(env, "SCORECARD_ROLLUP_SECONDS", 900),
            followups=_bool(env.get("FOLLOWUPS_ENABLED")),
            followup_file=Path(env.get("FOLLOWUP_FILE") or ROOT / "survey" / "followup.toml"),
            followup_seconds=_int(env, "FOLLOWUP_SECONDS", 60),
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/"),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            callback_sweep_seconds=_int(env, "CALLBACK_SWEEP_SECONDS", 60),
            callback_lookback_days=_int(env, "CALLBACK_LOOKBACK_DAYS", 14),
            callback_due_hours=_int(env, "CALLBACK_DUE_HOURS", 0),
            callback_webhook_url=_webhook_url(env),
            callback_webhook_secret=env.get("CALLBACK_WEBHOOK_SECRET", ""),
            callback_capacity=_capacity(env.get("CALLBACK_TEAM_CAPACITY") or "8"),
            callback_window_days=_int(env, "CALLBACK_CALLER_WINDOW_DAYS", 7),
            recording_retention_days=_int(env, "RECORDING_RETENTION_DAYS", 30),
            recording_sweep_seconds=_int(env, "RECORDING_SWEEP_SECONDS", 3600),
            calls_per_second=_rate(env, "TWILIO_CALLS_PER_SECOND", 1.0),
            messages_per_second=_rate(env, "TWILIO_MESSAGES_PER_SECOND", 1.0),
            pace_max_wait_seconds=_rate(env, "TWILIO_PACE_MAX_WAIT_SECONDS", 10.0),
            max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 1024 * 1024),
            dispute_window_days=_int(env, "DISPUTE_WINDOW_DAYS", 7),
            agent_sees_own_words=_bool(env.get("AGENT_SEES_OWN_WORDS")),
            invitation_hours=_int(env, "INVITATION_HOURS", 72),
        )


# The emulated Twilio account of the demo, the simulations and the tests: no throughput limit,
# and simulated time that real-time pacing would only slow down.
UNPACED = {"TWILIO_CALLS_PER_SECOND": "0", "TWILIO_MESSAGES_PER_SECOND": "0"}

MISSING_SECRET = ("SECRET_KEY is not set: every web and worker process of a deploy must share one; make one with "
                  "python -c \"import secrets; print(secrets.token_hex(32))\"")
# gunicorn's own "App failed to load" status: its master stops rather than re-forking workers that each refuse.
MISSING_SECRET_STATUS = 4


def require_secret(settings: Settings) -> None:
    """A process that serves or signs for the browser exits without a shared ``SECRET_KEY``: a key
    drawn per process signs sessions the next worker refuses, so logins would not stick."""
    if not settings.secret_key:
        print(MISSING_SECRET, file=sys.stderr, flush=True)
        raise SystemExit(MISSING_SECRET_STATUS)


def _capacity(raw: str) -> tuple:
    """``"8"`` or ``"8,north=5,south=12"``: (team, tasks a day) pairs, team "" the default."""
    pairs = []
    for part in raw.split(","):
        team, _, n = part.rpartition("=")
        n = n.strip()
        if not n.isdigit():
            raise ValueError(f"CALLBACK_TEAM_CAPACITY must be N or N,team=N,…; got {raw!r}")
        pairs.append((team.strip(), int(n)))
    return tuple(pairs)


def capacity_of(settings: "Settings", team: str) -> int:
    """The daily call-back capacity of ``team``: its own, or the default."""
    table = dict(settings.callback_capacity)
    return table.get(team, table.get("", 0))


def _webhook_url(env: dict) -> str:
    """``CALLBACK_WEBHOOK_URL``: an http(s) URL, and a secret to sign with, or nothing."""
    url = (env.get("CALLBACK_WEBHOOK_URL") or "").strip()
    if url and not url.startswith(("https://", "http://")):
        raise ValueError(f"CALLBACK_WEBHOOK_URL must be an http(s) URL, got {url!r}")
    if url and len(env.get("CALLBACK_WEBHOOK_SECRET") or "") < 16:
        raise ValueError("CALLBACK_WEBHOOK_URL needs CALLBACK_WEBHOOK_SECRET (16 characters or more) to sign with")
    return url
