"""Benchmark scripts: they print figures and assert nothing (the machine is shared)."""

import os
import secrets
from functools import cache

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
# A Redis database a bench empties carries this key, so the next run knows it is a bench's.
BENCH_MARK = "tourbot:bench"
# Emptied only when empty or a bench's, atomically: never someone else's data. The benches'
# own default databases (4 and 5) are outside the tests' (15 down to 8, one per xdist
# worker), which are empty between tests and would otherwise look free.
_CLAIM = """
if redis.call('dbsize') > 0 and redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('flushdb')
redis.call('set', KEYS[1], ARGV[1])
return 1
"""


def bench_redis(default_db: int) -> str:
    """redis://127.0.0.1:6379/N for a bench: N from BENCH_REDIS_DB, else default_db."""
    return f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', default_db)}"


def own_redis(url: str, bench: str) -> None:
    """Empties the bench's Redis database for a run, if it is empty or a bench's; exits
    saying so if it holds anything else."""
    from redis import Redis

    conn = Redis.from_url(url)
    try:
        if not conn.eval(_CLAIM, 1, BENCH_MARK, bench):
            raise SystemExit(
                f"{url} holds data that is not a bench's: left alone. Set BENCH_REDIS_DB "
                "to an empty database."
            )
    finally:
        conn.close()


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
