"""Alembic environment. The URL comes from the caller (cli/db.py) or the environment."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

import models  # noqa: F401  (registers every table)
from config import Config
from models.base import Base
from models.db import make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Config().DATABASE_URL


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    engine = make_engine(url)
    sqlite = url.startswith("sqlite")
    if sqlite:
        # Batch mode rebuilds a table by copying it and dropping the old one; with foreign
        # keys enforced SQLite would delete (cascade) every row referring to the dropped
        # table. Enforcement is off while migrating and the result is checked at the end.
        @event.listens_for(engine, "connect")
        def _foreign_keys_off(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA foreign_keys=OFF")

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
