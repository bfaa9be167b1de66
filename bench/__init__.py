"""Benchmark scripts: they print figures and assert nothing (the machine is shared)."""

import secrets
from functools import cache

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@cache
def production_secrets() -> dict[str, str]:
    """What production refuses to start without (config.check_production), for a local
    benchmark: random keys, Twilio's Messages API answered by a stand-in in this process
    (soak/standins.py, no status callbacks), and Stripe's pointed at a port where nothing
    listens (benchmarks pay nothing). Nothing leaves the machine."""
    from soak.standins import TwilioStandIn

    account, token = "AC" + "b" * 32, "bench-auth-token"  # bench.webhook signs with it
    twilio = TwilioStandIn(account, token, callbacks=False)
    return {
        "SECRET_KEY": secrets.token_hex(32),
        "TWILIO_ACCOUNT_SID": account,
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_API_BASE": twilio.start(),
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
    }


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
