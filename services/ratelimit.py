"""Rate limits: a flood from one phone number, or password guessing on one account, is
slowed down without touching anyone else.

Fixed windows counted in Redis in production, so every web process shares the counts (the
processes hold no state); in the embedded default, in this process's memory. If Redis is
unreachable, each process counts in its own memory until it is back: the limits loosen
(one count per process) but never vanish, and never close the front door either."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from services.job_queue import redis_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


# A person types a few messages a minute; 20 a minute from one number is a script or a loop.
INBOUND_PER_SENDER = Limit("inbound", 20, 60)
# Failed logins per account and per client address, over 15 minutes.
LOGIN_PER_ACCOUNT = Limit("login-account", 10, 15 * 60)
LOGIN_PER_ADDRESS = Limit("login-address", 50, 15 * 60)
# The pay pages, per client address: any request (a person opens one a few times), and links
# that lead nowhere (a wrong secret or none: someone trying references).
PAY_PAGES_PER_ADDRESS = Limit("pay-pages", 120, 60)
PAY_LINK_MISSES_PER_ADDRESS = Limit("pay-link-misses", 30, 15 * 60)


class Counter(Protocol):
    def add(self, key: str, seconds: int, amount: int = 1) -> int: ...
    def get(self, key: str, seconds: int) -> int: ...


def _window(seconds: int) -> int:
    return int(time.time()) // seconds


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def add(self, key: str, seconds: int, amount: int = 1) -> int:
        slot = (key, _window(seconds))
        with self._lock:
            if len(self._counts) > 50_000:  # old windows: drop them rather than grow
                current = {k: v for k, v in self._counts.items() if k[1] >= slot[1] - 1}
                self._counts = current
            self._counts[slot] = self._counts.get(slot, 0) + amount
            return self._counts[slot]

    def get(self, key: str, seconds: int) -> int:
        with self._lock:
            return self._counts.get((key, _window(seconds)), 0)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisCounter:
    def __init__(self, url: str) -> None:
        self.url = url

    def _client(self):  # type: ignore[no-untyped-def]
        return redis_connection(self.url)

    def add(self, key: str, seconds: int, amount: int = 1) -> int:
        name = f"tourbot:rl:{key}:{_window(seconds)}"
        # One round trip; no MULTI/EXEC: the window is in the key, so a lost EXPIRE could
        # not extend a limit, and every webhook pays for this call.
        pipe = self._client().pipeline(transaction=False)
        pipe.incrby(name, amount)
        pipe.expire(name, seconds * 2)
        return int(pipe.execute()[0])

    def get(self, key: str, seconds: int) -> int:
        value = self._client().get(f"tourbot:rl:{key}:{_window(seconds)}")
        return int(value or 0)


_memory = MemoryCounter()


def counter(redis_url: str | None) -> Counter:
    """The counts every process shares, in Redis at redis_url; without one, this process's."""
    return RedisCounter(redis_url) if redis_url else _memory


_last_warning = 0.0


def _counting_in_memory(limit: Limit, exc: Exception) -> MemoryCounter:
    global _last_warning
    if time.monotonic() - _last_warning > 60:  # once a minute, not once a request
        _last_warning = time.monotonic()
        log.warning(
            "rate limit %s counted in this process only: Redis failed (%s)", limit.name, exc
        )
    return _memory


def hit(limit: Limit, subject: str, counts: Counter) -> int:
    """Counts one event; returns how many in this window, this one included."""
    key = f"{limit.name}:{subject}"
    try:
        return counts.add(key, limit.seconds)
    except Exception as exc:  # Redis down: go on counting here
        return _counting_in_memory(limit, exc).add(key, limit.seconds)


def forgive(limit: Limit, subject: str, counts: Counter) -> None:
    """Takes back one event counted by hit(): a login attempt counted before its password
    was checked, which turned out to be right."""
    key = f"{limit.name}:{subject}"
    try:
        counts.add(key, limit.seconds, -1)
    except Exception as exc:
        _counting_in_memory(limit, exc).add(key, limit.seconds, -1)


def exceeded(limit: Limit, subject: str, counts: Counter) -> bool:
    """Whether the limit is already used up in this window, without counting."""
    key = f"{limit.name}:{subject}"
    try:
        return counts.get(key, limit.seconds) >= limit.count
    except Exception as exc:
        return _counting_in_memory(limit, exc).get(key, limit.seconds) >= limit.count


def reset_memory() -> None:
    """For tests: the in-process counts start empty."""
    _memory.clear()
