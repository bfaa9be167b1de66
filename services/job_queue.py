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


def enqueue(
    func: Callable[..., Any], *args: Any, redis_url: str | None = None, **kwargs: Any
) -> Any:
    """Runs func as a job: on RQ when Redis is configured, otherwise right now, in-process."""
    url = redis_url if redis_url is not None else runtime.config().REDIS_URL
    if not url:
        return func(*args, **kwargs)
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection(url)).enqueue(func, *args, **kwargs)


def enqueue_in(delay: timedelta, func: Callable[..., Any], *args: Any) -> bool:
    """Runs func as a job after delay, on RQ. Without Redis nothing is scheduled (returns
    False): the embedded default's in-process sweep picks up what is due."""
    url = runtime.config().REDIS_URL
    if not url:
        return False
    from rq import Queue

    Queue(QUEUE_NAME, connection=redis_connection(url)).enqueue_in(delay, func, *args)
    return True
