"""The schema comes from the migrations; they must match the models on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from cli.db import alembic_config
from models import Base
from models.db import make_engine


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_postgres_migrations_match_models(engine: Engine) -> None:
    assert _diff(engine) == []


def test_sqlite_migrations_run_and_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    command.upgrade(alembic_config(url), "head")
    sqlite = make_engine(url)
    try:
        assert _diff(sqlite) == []
    finally:
        sqlite.dispose()


def test_migrations_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    sqlite = make_engine(url)
    try:
        assert _diff(sqlite) == []
    finally:
        sqlite.dispose()
