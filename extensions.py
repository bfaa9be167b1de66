"""Flask-side holders of shared resources, initialised in create_app()."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.orm import Session, sessionmaker

from config import Config
from models.db import make_engine, make_session_factory
from services import ratelimit
from services.job_queue import JobQueue
from services.payments import StripeAccount
from services.runtime import Runtime

# app.extensions[RUNTIME]: the app's Runtime (its one Config and its session factory).
RUNTIME = "runtime"


class Database:
    """One engine per app; one session per request, closed at teardown. The session is
    the request's unit of work: views commit it, an error rolls it back."""

    def init_app(self, app: Flask, config: Config) -> None:
        engine = make_engine(config.DATABASE_URL)
        app.extensions["db"] = (engine, make_session_factory(engine))
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def factory_of(app: Flask) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = app.extensions["db"][1]
        return factory

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["db"][0]
        return engine

    @property
    def factory(self) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = current_app.extensions["db"][1]
        return factory

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory()
        session: Session = g.db_session
        return session

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def app_config(app: Flask | None = None) -> Config:
    """The app's configuration (the current app's by default): the one Config create_app
    was given."""
    return app_runtime(app).config


def app_runtime(app: Flask | None = None) -> Runtime:
    runtime: Runtime = (app or current_app).extensions[RUNTIME]
    return runtime


def job_queue() -> JobQueue:
    """This app's job queue: what outbox.commit_and_send hands the messages to."""
    return JobQueue.of(app_runtime())


def stripe_account() -> StripeAccount:
    return StripeAccount.of(app_config())


def rate_counter() -> ratelimit.Counter:
    """The rate-limit counts, shared with the app's other processes through Redis (or this
    process's own in the embedded default)."""
    return ratelimit.counter(app_config().REDIS_URL)


def _connection_lost(exc: DBAPIError | PendingRollbackError) -> bool:
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    # Code that caught the lost connection's error and carried on (a hold that "failed
    # unexpectedly", say) meets it again as this: the transaction went with the
    # connection. Found by the soak: pg_terminate_backend mid-hold gave Twilio a 500.
    return "Can't reconnect until invalid transaction is rolled back" in str(exc)


def retry_on_lost_connection(view: Callable[..., Any]) -> Callable[..., Any]:
    """Runs a view once more, on a fresh session, when its database connection was cut
    mid-request (PostgreSQL restarted, pg_terminate_backend, a failover). Only for views
    that are safe to repeat, such as the webhooks, which are idempotent by their ids."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (DBAPIError, PendingRollbackError) as exc:
            if not _connection_lost(exc):
                raise
            stale = g.pop("db_session", None)
            if stale is not None:
                stale.close()
            return view(*args, **kwargs)

    return wrapped


db = Database()
# CSRF tokens on every form; the signed webhooks and the read-only API are exempted in app.py.
csrf = CSRFProtect()
