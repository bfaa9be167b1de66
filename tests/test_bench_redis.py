"""The benches empty a Redis database for each run: only their own, never someone else's
(a test run's, another helper's)."""

from __future__ import annotations

import pytest
from redis import Redis

from bench import BENCH_MARK, own_redis
from bench.webhook import demo_stack


def test_a_bench_leaves_a_redis_database_holding_other_data_alone(redis_url: str) -> None:
    conn = Redis.from_url(redis_url)
    conn.set("rq:queue:default", "someone else's")
    with pytest.raises(SystemExit, match="not a bench's"):
        own_redis(redis_url, "bench_x")
    with pytest.raises(SystemExit, match="not a bench's"):  # before any database is rebuilt
        demo_stack("tourbot_bench_never_made", redis_url)
    assert conn.keys() == [b"rq:queue:default"]


def test_a_bench_empties_a_database_that_is_empty_or_a_benchs(redis_url: str) -> None:
    conn = Redis.from_url(redis_url)
    own_redis(redis_url, "bench_x")  # empty: taken
    assert conn.get(BENCH_MARK) == b"bench_x"
    conn.set("rq:queue:default", "the last run's")
    own_redis(redis_url, "bench_y")  # a bench's: emptied for this run
    assert conn.keys() == [BENCH_MARK.encode()] and conn.get(BENCH_MARK) == b"bench_y"
