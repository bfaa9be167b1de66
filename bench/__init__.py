"""Benchmark scripts: they print figures and assert nothing (the machine is shared)."""

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def rebuild_database(name: str) -> str:
    """Drops and recreates the benchmark's own PostgreSQL database, migrated to head."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from cli.db import alembic_config

    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{SERVER}/{name}"
    command.upgrade(alembic_config(url), "head")
    return url


def pct(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
