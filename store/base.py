"""Declarative base, engine and session factory shared by every model module."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import DateTime, MetaData, create_engine, event, exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str, **kwargs) -> Engine:
    """An engine tuned per backend: WAL and a busy timeout so SQLite survives web + worker."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A dead or unreachable server must fail fast into the fallback / answer spool, well inside
    # Twilio's 15 s webhook timeout: connect in CONNECT_TIMEOUT s (unless the URL sets
    # ``connect_timeout``), wait at most POOL_TIMEOUT s for a pooled connection.
    if "connect_timeout" not in make_url(url).query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    ping_idle = kwargs.pop("ping_idle_seconds", PING_IDLE_SECONDS)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle)
    return engine


CONNECT_TIMEOUT = 3        # seconds to open a PostgreSQL connection
POOL_TIMEOUT = 5           # seconds to wait for a free pooled connection
PING_IDLE_SECONDS = 10     # a pooled connection idle this long is pinged before use


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """``pool_pre_ping``, but only for connections that sat idle ``idle`` seconds or more.

    Pre-pinging every checkout costs a round trip per request; a connection in steady use has
    just proved itself. One that broke while idle (server restart, failover, a firewall
    dropping quiet connections) is pinged and replaced before use; one that breaks mid-use
    fails that request (webhooks answer their fallback, survey answers go to the spool) and
    SQLAlchemy invalidates the pool, so the next checkout connects afresh."""
    @event.listens_for(engine, "connect")
    def _connected(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise sa_exc.DisconnectionError(f"idle connection failed its ping: {exc}") from exc


@contextmanager
def autocommit_cursor(engine: Engine) -> Iterator:
    """A driver cursor on a pooled connection in autocommit, for a hot path's one statement
    (its own durable transaction) without SQLAlchemy's Connection and result objects around
    it: about a sixth of the survey webhook's CPU. Errors are SQLAlchemy's, as through a
    Connection (``OperationalError``, ``IntegrityError``…), and a connection that broke is
    dropped from the pool rather than handed out again."""
    dbapi = engine.dialect.loaded_dbapi
    raw = None
    try:
        raw = engine.raw_connection()
        driver = raw.driver_connection
        driver.autocommit = True
        try:
            with driver.cursor() as cur:
                yield cur
        finally:
            if not driver.closed:
                driver.autocommit = False
    except dbapi.Error as exc:
        if raw is not None and engine.dialect.is_disconnect(exc, raw.driver_connection, None):
            raw.invalidate(exc)
        raise sa_exc.DBAPIError.instance(None, None, exc, dbapi.Error) from exc
    finally:
        if raw is not None:
            raw.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def dialect_insert(bind, table):
    """The dialect's INSERT (with ``on_conflict_do_nothing``) for a session or connection's backend."""
    dialect = (bind.get_bind() if hasattr(bind, "get_bind") else bind).dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect}")
    return insert(table)


def upsert_ignore(session, model, values: dict) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: race-free get-or-create."""
    session.execute(dialect_insert(session, model).values(**values).on_conflict_do_nothing())
