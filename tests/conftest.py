"""Fixtures: a real PostgreSQL database built by the migrations, emptied after each test.

With CI=true a missing PostgreSQL or Redis fails the run; elsewhere it skips, saying why.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from bot import states
from cli.db import alembic_config
from config import TestConfig
from intents import forget_vocabularies
from models import Base, Customer, Organization
from models.db import make_engine, make_session_factory
from services import outbox, ratelimit
from services.catalog import import_catalog
from services.customers import get_or_create_customer
from services.runtime import Runtime
from tests.factories import catalog_data

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql+psycopg2://postgres@127.0.0.1:5432")


def _per_worker(database: str, redis_url: str) -> tuple[str, str]:
    """Under pytest-xdist (`make test` runs one worker per core) each worker empties its
    database and Redis database between tests, so each gets its own: gw0 keeps the names
    given, gwN adds "_gwN" to the database and counts the Redis database down by N."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker.removeprefix("gw") or 0)
    if number == 0:
        return database, redis_url
    base, _, redis_db = redis_url.rpartition("/")
    own = int(redis_db or 0) - number
    if own < 0:  # wrapping round would share another run's database (and flush it)
        raise RuntimeError(
            f"{worker} has no Redis database below {redis_url}: run fewer workers "
            "(make test caps them at 8) or give TEST_REDIS_URL a higher database"
        )
    return f"{database}_{worker}", f"{base}/{own}"


TEST_DB, REDIS_URL = _per_worker(
    os.environ.get("TEST_PG_DATABASE", "tourbot_test"),
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
)

# A move a handler does not declare (bot/states.py MOVES) fails the test; in production it
# is only logged.
states.STRICT = True

# A fixed "now" well before the test catalog's departures (2027-03 onwards).
NOW = datetime(2027, 1, 10, 6, 0, tzinfo=UTC)


def server_missing(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> str:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": TEST_DB}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{TEST_DB}"'))
    except OperationalError as exc:
        server_missing("PostgreSQL", exc)
    finally:
        admin.dispose()
    url = f"{PG_SERVER}/{TEST_DB}"
    fresh = create_engine(url)
    with fresh.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    fresh.dispose()
    command.upgrade(alembic_config(url), "head")
    os.environ["TEST_DATABASE_URL"] = url  # for TestConfig and spawned workers
    return url


@pytest.fixture(scope="session")
def engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


def truncate_all(eng: Engine) -> None:
    """Empties every table and restarts every id, between tests. DELETE in dependency order
    rather than TRUNCATE: the tables are small, and TRUNCATE of 27 tables recreates their
    files (0.6 to 1 s a test on a loaded machine against 0.1 s: minutes of `make test`)."""
    forget_vocabularies()  # ids restart, so cached per-organization data must go too
    ratelimit.reset_memory()
    with eng.begin() as conn:
        conn.exec_driver_sql(_emptying_sql(conn))


_EMPTYING_SQL: list[str] = []


def _emptying_sql(conn: Connection) -> str:
    if not _EMPTYING_SQL:
        deletes = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        sequences = conn.scalars(
            text(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = 'public'"
            )
        ).all()
        restarts = [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        _EMPTYING_SQL.append(";\n".join(deletes + restarts))
    return _EMPTYING_SQL[0]


# In session.info of the tests' own sessions: they commit however the test likes.
TEST_SESSION = "test_session"


@pytest.fixture
def factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    made = make_session_factory(engine)
    made.configure(info={TEST_SESSION: True})
    yield made
    truncate_all(engine)


@pytest.fixture
def runtime(factory: sessionmaker[Session]) -> Runtime:
    """What jobs run with in the tests: TestConfig (console transport, no Redis, so jobs run
    in-process) and the test database."""
    return Runtime(TestConfig(), factory)


@pytest.fixture(autouse=True)
def every_commit_sends_its_messages() -> Iterator[None]:
    """Any commit of the app, a job or a command that leaves queued messages behind has
    missed outbox.commit_and_send: those messages would wait for the sweep. Fails the test
    and says where that commit was."""
    missed: list[str] = []

    def check(session: Session) -> None:
        if session.info.get(TEST_SESSION) or session.in_nested_transaction():
            return
        pending = session.info.get(outbox.PENDING, [])
        if any(inspect(row).persistent for _, row in pending):
            missed.append("".join(traceback.format_stack(limit=12)[:-1]))

    event.listen(Session, "before_commit", check)
    yield
    event.remove(Session, "before_commit", check)
    assert not missed, "committed queued messages without outbox.commit_and_send:\n" + missed[0]


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    s = factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def now() -> datetime:
    return NOW


def import_org(session: Session, now: datetime = NOW, **overrides: Any) -> Organization:
    summary = import_catalog(session, catalog_data(**overrides), now)
    session.commit()
    return summary.organization


@pytest.fixture
def org(session: Session) -> Organization:
    return import_org(session)


@pytest.fixture
def customer(session: Session, org: Organization) -> Customer:
    c, _ = get_or_create_customer(session, org, "+12025550101", NOW, name="Ada Lovelace")
    session.commit()
    return c


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    return create_app(TestConfig())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def redis_url() -> Iterator[str]:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    conn = Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except RedisConnectionError as exc:
        server_missing("Redis", exc)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()
