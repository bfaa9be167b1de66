"""The job queue: RQ on Redis in production; without a Redis URL (the embedded default,
tests) a job runs at once, in the caller's process. It knows nothing of what the jobs do,
so any service can hand work to it without importing the domain.

A job is a module-level function whose first parameter is the Runtime it runs with and
whose other arguments are JSON-friendly. In-process it gets the caller's runtime; on RQ
the worker runs every job through run_job, which gives it one built from the worker's
environment. redis and rq are imported when first used: the embedded default never
needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from services import runtime
from services.runtime import Runtime

QUEUE_NAME = "default"
# Only these modules' functions are run by name off the queue: the services, and the bot
# (answering a customer's message in a worker, bot/inbound.py).
JOB_MODULES = ("services.", "bot.")
# rq's JobStatus values of a job not done yet.
WAITING_OR_RUNNING = frozenset({"queued", "started", "deferred", "scheduled"})


def redis_connection(url: str) -> Any:
    return _redis_client(url)


@lru_cache(maxsize=8)
def _redis_client(url: str) -> Any:
    """One client (and its connection pool) per URL and process; redis-py resets the pool
    in a forked child, so gunicorn and rq workers are safe."""
    from redis import Redis

    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


class JobQueue:
    """Where jobs go: RQ at redis_url, or, without one, at once in this process with the
    runtime given (`JobQueue.of(runtime)` picks by the runtime's configuration)."""

    def __init__(self, redis_url: str | None, in_process: Runtime | None = None) -> None:
        self.redis_url = redis_url
        self.in_process = in_process

    @classmethod
    def of(cls, runtime: Runtime) -> JobQueue:
        return cls(runtime.config.REDIS_URL, runtime)

    def enqueue(self, job: Callable[..., Any], *args: Any, **rq_options: Any) -> Any:
        """Runs job(runtime, *args); returns RQ's job, or in-process the job's result.
        rq_options (job_id, result_ttl...) are RQ's; in-process they mean nothing."""
        if not self.redis_url:
            return job(self._runtime(), *args)
        return self._rq_enqueue(job_name(job), args, rq_options)

    def enqueue_named(self, name: str, *args: Any, **rq_options: Any) -> Any:
        """enqueue() for a job this module's caller may not import (the sweep, in
        services/, re-enqueueing the bot's answer_job): by its dotted name."""
        if not self.redis_url:
            return _job_named(name)(self._runtime(), *args)
        if not name.startswith(JOB_MODULES):
            raise ValueError(f"{name} is not a job of services/ or bot/")
        return self._rq_enqueue(name, args, rq_options)

    def _rq_enqueue(self, name: str, args: tuple[Any, ...], rq_options: dict[str, Any]) -> Any:
        """A job with a job_id that is still waiting or running is not queued again (the
        sweep re-enqueueing, every minute, work the workers have not reached yet); one that
        finished or failed is replaced. Check then enqueue is not atomic: at worst a rare
        second run, which every job with an id must bear anyway."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        queue = self._rq()
        job_id = rq_options.get("job_id")
        if job_id:
            try:
                existing = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                pass
            else:
                if existing.get_status(refresh=False) in WAITING_OR_RUNNING:
                    return existing
        return queue.enqueue(run_job, name, *args, **rq_options)

    def enqueue_in(self, delay: timedelta, job: Callable[..., Any], *args: Any) -> bool:
        """Runs job(runtime, *args) after delay, on RQ. Without Redis nothing is scheduled
        (returns False): the embedded default's in-process sweep picks up what is due."""
        if not self.redis_url:
            return False
        self._rq().enqueue_in(delay, run_job, job_name(job), *args)
        return True

    def _runtime(self) -> Runtime:
        if self.in_process is None:
            raise RuntimeError("without Redis, jobs run in-process and need a runtime")
        return self.in_process

    def _rq(self) -> Any:
        from rq import Queue

        return Queue(QUEUE_NAME, connection=redis_connection(self.redis_url or ""))


def job_name(job: Callable[..., Any]) -> str:
    name = f"{job.__module__}.{job.__qualname__}"
    if not name.startswith(JOB_MODULES) or "<" in name or job.__qualname__.count("."):
        raise ValueError(f"{name} is not a module-level function of services/ or bot/")
    return name


def _job_named(name: str) -> Callable[..., Any]:
    if not name.startswith(JOB_MODULES):
        raise ValueError(f"{name} is not a job of services/ or bot/")
    module, _, function = name.rpartition(".")
    job: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return job


def run_job(name: str, *args: Any) -> Any:
    """What an RQ worker runs for every job: the named job, with a runtime built from the
    worker's environment."""
    return _job_named(name)(runtime.from_environment(), *args)
