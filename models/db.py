"""Engine and session construction, shared by the web app, RQ workers, the CLI and tests."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # pool_pre_ping: a connection killed by a PostgreSQL restart or pg_terminate_backend
    # is replaced instead of failing the next request.
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # SQLite has no row locks. Taking the write lock when the transaction starts
        # serialises writers, which is what the capacity check needs, and avoids the
        # "database is locked" error a deferred transaction gets when it upgrades.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after commit (views render them).
    return sessionmaker(bind=engine, expire_on_commit=False)


def insert_unless_exists(
    session: Session,
    model: type[T],
    values: dict[str, Any],
    conflict_on: list[str] | None = None,
) -> T | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the row as an ORM object, or None when a
    unique constraint (on the conflict_on columns, or any) says the row exists already.
    One statement where a savepoint around a plain INSERT costs three, and a lost race
    leaves the caller's transaction usable."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_on)
    return session.scalars(stmt.returning(model)).first()
