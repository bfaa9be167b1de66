"""The reverse proxy shipped for production (deploy/nginx.conf, run by deploy/nginx.py as
the Procfile's proxy line): nginx accepts it, slow clients wait in nginx and never reach
the app, oversized bodies are refused before they are read, and the client's address is
appended to X-Forwarded-For, never taken from the client."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def nginx_or_skip() -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        message = "nginx is not installed (make proxy)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OneAtATime(http.server.BaseHTTPRequestHandler):
    """An upstream with a single thread, like a gunicorn with every thread taken: if a
    slow client reached it, nobody else would get an answer."""

    seen: list[dict[str, str]] = []
    crash_once: set[str] = set()  # paths whose first request dies with its worker

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        OneAtATime.seen.append({**self.headers, "body-length": str(len(body)), "path": self.path})
        if self.path in OneAtATime.crash_once:
            OneAtATime.crash_once.discard(self.path)
            self.close_connection = True  # gone without a word, as a SIGKILLed worker
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer


@pytest.fixture
def proxy() -> Iterator[str]:
    nginx_or_skip()
    upstream = http.server.HTTPServer(("127.0.0.1", 0), OneAtATime)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="tourbot-nginx-test-"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.nginx",
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{upstream.server_port}",
            "--run-dir",
            str(run_dir),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"nginx did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.1)
    OneAtATime.seen, OneAtATime.crash_once = [], set()
    yield url
    proc.terminate()
    proc.wait(10)
    upstream.shutdown()
    shutil.rmtree(run_dir, ignore_errors=True)


def test_the_shipped_configuration_passes_nginx_own_check() -> None:
    nginx_or_skip()
    run_dir = Path(tempfile.mkdtemp(prefix="tourbot-nginx-check-"))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "deploy.nginx", "--check", "--run-dir", str(run_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_slow_clients_wait_in_the_proxy_and_others_are_answered(proxy: str) -> None:
    host, port = proxy.removeprefix("http://").split(":")
    slow = []
    for n in range(30):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(
            b"POST /webhooks/twilio/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nab"
            if n % 2
            else b"GET /health HTTP/1.1\r\nHost: x\r\n"  # headers never finished
        )
        slow.append(sock)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        response = requests.get(f"{proxy}/health", timeout=5)
        assert response.status_code == 200 and response.text == "ok"
        assert time.monotonic() - started < 2
        assert len(OneAtATime.seen) == 1  # none of the 30 unfinished requests reached it
    finally:
        for sock in slow:
            sock.close()


def test_oversized_bodies_are_refused_before_the_app(proxy: str) -> None:
    big = b"a" * (70 * 1024)
    assert requests.post(f"{proxy}/webhooks/twilio/messages", data=big).status_code == 413
    assert requests.post(f"{proxy}/webhooks/stripe", data=big * 4).status_code == 413
    assert requests.post(f"{proxy}/admin/inbox/1/reply", data=big * 4).status_code == 413
    assert OneAtATime.seen == []
    assert requests.post(f"{proxy}/admin/inbox/1/reply", data=big).status_code == 200


def test_the_client_address_is_appended_not_trusted(proxy: str) -> None:
    requests.get(f"{proxy}/", headers={"X-Forwarded-For": "6.6.6.6"})
    assert OneAtATime.seen[-1]["X-Forwarded-For"] == "6.6.6.6, 127.0.0.1"


def test_a_request_whose_worker_died_is_passed_again_only_when_that_is_safe(proxy: str) -> None:
    """A webhook (idempotent by its MessageSid or event id) and a GET are passed once more
    and answered; a staff member's POST is not repeated behind their back: 502."""
    OneAtATime.crash_once = {"/webhooks/twilio/messages", "/webhooks/stripe", "/admin/", "/x"}
    assert requests.post(f"{proxy}/webhooks/twilio/messages", data={"a": "b"}).status_code == 200
    assert requests.post(f"{proxy}/webhooks/stripe", data="{}").status_code == 200
    assert requests.get(f"{proxy}/x").status_code == 200
    assert requests.post(f"{proxy}/admin/", data={"body": "hi"}).status_code == 502
    paths = [seen["path"] for seen in OneAtATime.seen]
    assert paths.count("/webhooks/twilio/messages") == 2 and paths.count("/admin/") == 1
