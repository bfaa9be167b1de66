"""Hostile clients for the soak: connections that send a request a byte at a time, and
bodies far larger than any route accepts. Each fault returns what it saw, and the soak
reports it beside the other faults' recoveries."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

# What the slow clients start to send: half never finish their headers, half send headers
# announcing a body and then trickle it.
HEADERS_ONLY = b"POST /webhooks/twilio/messages HTTP/1.1\r\nHost: soak\r\n"
WITH_BODY = (
    b"POST /webhooks/twilio/messages HTTP/1.1\r\nHost: soak\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
)


PROBE_TIMEOUT = 10  # seconds a /health probe may take before the service counts as stopped


@dataclass
class SlowClients:
    connections: int = 0
    closed_by_server: int = 0
    probes: list[float | None] = field(default_factory=list)  # seconds; None = no answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verdict(self) -> tuple[bool, str]:
        """Passed when the service was never stopped: every probe answered, each within
        PROBE_TIMEOUT (how fast depends on how loaded the machine is; 16 slow clients
        straight at gunicorn used to leave every probe unanswered for 45 s)."""
        answered = [p for p in self.probes if p is not None]
        slowest = max(answered, default=0.0)
        ok = bool(self.probes) and len(answered) == len(self.probes)
        return ok, (
            f"{self.connections} slow connections opened ({self.closed_by_server} closed by "
            f"the server for slowness); /health answered {len(answered)} of "
            f"{len(self.probes)} probes meanwhile (each given {PROBE_TIMEOUT} s), slowest "
            f"{slowest * 1000:.0f} ms"
        )


def _slow_client(host: str, port: int, n: int, until: float, report: SlowClients) -> None:
    while time.monotonic() < until:
        try:
            sock = socket.create_connection((host, port), timeout=5)
        except OSError:
            time.sleep(0.5)
            continue
        with report.lock:
            report.connections += 1
        try:
            sock.sendall(HEADERS_ONLY if n % 2 else WITH_BODY)
            while time.monotonic() < until:
                time.sleep(1)
                sock.sendall(b"X-Slow: 1\r\n" if n % 2 else b"a")
                sock.setblocking(False)
                try:
                    if sock.recv(1024) == b"":  # the server hung up (or answered 408)
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
        except OSError:
            with report.lock:
                report.closed_by_server += 1
        finally:
            sock.close()


def slow_clients(url: str, count: int, seconds: float, stop: threading.Event) -> SlowClients:
    """`count` connections trickling a byte a second for `seconds` (reconnecting when the
    server closes them), while /health is probed twice a second."""
    host, port = url.removeprefix("http://").split(":")
    report = SlowClients()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_slow_client, args=(host, int(port), n, until, report), daemon=True)
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    time.sleep(2)  # let them all connect before the first probe
    while time.monotonic() < until and not stop.is_set():
        started = time.monotonic()
        try:
            ok = requests.get(f"{url}/health", timeout=PROBE_TIMEOUT).status_code == 200
            report.probes.append(time.monotonic() - started if ok else None)
        except requests.RequestException:
            report.probes.append(None)
        time.sleep(0.5)
    for thread in threads:
        thread.join(10)
    return report


# Routes that take a body, each with the largest body it accepts (app.py's BODY_LIMITS;
# nginx refuses the webhooks' first, at the same sizes). Each is sent far more than that,
# and just over it, and just under it (which must not be refused for its size).
TARGETS = {
    "/webhooks/twilio/messages": 64 * 1024,
    "/webhooks/stripe": 256 * 1024,
    "/admin/login": 16 * 1024,
    "/pay/BK-AAAAA": 16 * 1024,
}


def _declared(host: str, port: int, path: str, size: int) -> str:
    """Announces `size` bytes, sends the first megabyte, and reads the answer."""
    try:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: "
                f"application/x-www-form-urlencoded\r\nContent-Length: {size}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            with contextlib.suppress(OSError):  # refused before the body: the answer waits
                sock.sendall(b"a" * 1_000_000)
            status = sock.recv(64).split(b" ")[1:2]
            return f"declared: {status[0].decode() if status else 'closed'}"
    except OSError as exc:
        return f"declared: {type(exc).__name__}"


def _streamed(url: str, path: str, size: int) -> str:
    """A chunked body with no declared length, generated as it is sent."""
    chunk = b"a" * 65536

    def body():  # type: ignore[no-untyped-def]
        for _ in range(size // len(chunk)):
            yield chunk

    try:
        response = requests.post(
            f"{url}{path}",
            data=body(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        return f"streamed: {response.status_code}"
    except requests.RequestException as exc:
        return f"streamed: connection closed ({type(exc).__name__})"


def _sized(url: str, path: str, size: int, chunked: bool) -> int | str:
    """`size` bytes of form body, with its length declared or sent chunked: the status."""
    body = b"a=" + b"b" * (size - 2)
    try:
        response = requests.post(
            f"{url}{path}",
            data=iter([body]) if chunked else body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        return response.status_code
    except requests.RequestException as exc:
        return f"connection closed ({type(exc).__name__})"


@dataclass
class Oversized:
    outcomes: Counter[str] = field(default_factory=Counter)  # "300 MB declared: 413" -> n
    refused: int = 0
    sent: int = 0
    under_refused: list[str] = field(default_factory=list)  # a body under its limit, refused
    grew_kib: int = 0

    def verdict(self) -> tuple[bool, str]:
        ok = self.refused == self.sent and not self.under_refused and self.grew_kib < 100 * 1024
        seen = ", ".join(f"{what} x{n}" for what, n in sorted(self.outcomes.items()))
        return ok, (
            f"{self.refused} of {self.sent} oversized requests refused ({seen}); "
            f"{len(TARGETS) * 2 - len(self.under_refused)} of {len(TARGETS) * 2} bodies just "
            f"under their route's limit not refused for their size"
            + (f" (refused: {', '.join(self.under_refused)})" if self.under_refused else "")
            + f"; gunicorn's workers grew {self.grew_kib // 1024} MiB"
        )


def oversized_bodies(url: str) -> Oversized:
    """To every route that takes a body: 300 MB announced and 50 MB streamed; one byte over
    the route's limit, declared and chunked; and 1 KB under it, declared and chunked."""
    host, port = url.removeprefix("http://").split(":")
    report = Oversized()

    def refused(what: str, outcome: str) -> None:
        report.outcomes[f"{what}: {outcome}"] += 1
        report.sent += 1
        report.refused += (
            outcome.endswith(" 413") or outcome.endswith("413") or ("closed" in outcome)
        )

    for path, limit in TARGETS.items():
        refused("300 MB", _declared(host, int(port), path, 300 * 1024 * 1024))
        refused("50 MB", _streamed(url, path, 50 * 1024 * 1024))
        for chunked in (False, True):
            how = "chunked" if chunked else "declared"
            refused(f"limit+1 {how}", str(_sized(url, path, limit + 1, chunked)))
            under = _sized(url, path, limit - 1024, chunked)
            report.outcomes[f"limit-1K {how}: {under}"] += 1
            if under == 413 or isinstance(under, str) or under >= 500:
                report.under_refused.append(f"{path} {how} {under}")
    return report
