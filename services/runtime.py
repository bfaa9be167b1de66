"""The process's configuration for code that runs outside a request: jobs, the outbox,
the sweep. The web app sets it in create_app(); an RQ worker reads the environment."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from config import Config
from models.db import make_engine, make_session_factory

_config: Config | None = None


def configure(config: Config) -> None:
    global _config
    _config = config
    session_factory.cache_clear()


def config() -> Config:
    global _config
    if _config is None:
        _config = Config()
    return _config


@cache
def session_factory() -> sessionmaker[Session]:
    """One engine per process for work outside requests."""
    return make_session_factory(make_engine(config().DATABASE_URL))
