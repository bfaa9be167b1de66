"""The job queue: RQ on Redis in production; without REDIS_URL (the embedded default) a job
runs at once, in the caller's process. It knows nothing of what the jobs do, so any
service can hand work to it without importing the domain.

Job functions take only JSON-friendly arguments and open their own session, so an RQ
worker (which imports them by name) needs nothing but the environment. redis and rq are
imported when first used: the embedded default never needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from services import runtime

QUEUE_NAME = "default"


def redis_connection(url: str | None = None) -> Any:
    return _redis_client(url or runtime.config().REDIS_URL or "redis://127.0.0.1:6379/0")


@lru_cache(maxsize=8)
def _redis_client(url: str) -> Any:
    """One client (and its connection pool) per URL and process; redis-py resets the pool
    in a forked child, so gunicorn and rq workers are safe."""
    from redis import Redis

    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


class JobQueue:
    """Where jobs go: RQ on Redis when there is a Redis URL; without one (the embedded
    default, tests) each job runs at once, in the caller's process."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url

    def enqueue(self, func: Callable[..., Any], *args: Any, **rq_options: Any) -> Any:
        """Runs func(*args) as a job; returns RQ's job, or in-process the function's result.
        rq_options (job_id, result_ttl...) are RQ's; in-process they mean nothing."""
        if not self.redis_url:
            return func(*args)
        return self._rq().enqueue(func, *args, **rq_options)

    def enqueue_in(self, delay: timedelta, func: Callable[..., Any], *args: Any) -> bool:
        """Runs func(*args) as a job after delay, on RQ. Without Redis nothing is scheduled
        (returns False): the embedded default's in-process sweep picks up what is due."""
        if not self.redis_url:
            return False
        self._rq().enqueue_in(delay, func, *args)
        return True

    def _rq(self) -> Any:
        from rq import Queue

        return Queue(QUEUE_NAME, connection=redis_connection(self.redis_url))
