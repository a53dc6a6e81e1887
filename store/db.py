"""Engine + session factory for one database URL, and schema migration through Alembic."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from store.base import make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parent.parent


class Database:
    def __init__(self, url: str, **engine_kwargs):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = make_sessionmaker(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def revisions(self) -> frozenset[str]:
        """The migration revisions this database is at (none before the first upgrade)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return frozenset()
            return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.url, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revisions() -> set[str]:
    """The revisions ``upgrade()`` brings a database to."""
    return set(ScriptDirectory(str(ROOT / "migrations")).get_heads())


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
