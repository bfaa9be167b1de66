"""The production stack as processes: a Redis of the harness's own, nginx in front of
gunicorn as the Procfile runs them, RQ workers with the scheduler. Also the faults done to
them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from config import PROJECT_ROOT

BIN = Path(sys.executable).parent


@dataclass
class Stack:
    env: dict[str, str]
    port: int  # where clients connect: nginx, or gunicorn itself with proxy=False
    redis_port: int
    database: str
    workers: int = 2
    proxy: bool = True
    log_dir: Path = PROJECT_ROOT / "soak-logs"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_port(self) -> int:
        """gunicorn's port: behind nginx, the next one up."""
        return self.port + 1 if self.proxy else self.port

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(exist_ok=True)
        out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it
        proc = subprocess.Popen(args, env=self.env, cwd=PROJECT_ROOT, stdout=out, stderr=out)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        _wait(lambda: _redis_up(self.redis_port), "Redis")

    def stop_redis(self) -> None:
        proc = self.procs.pop("redis", None)
        if proc:
            proc.terminate()
            proc.wait(10)

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--timeout",
                "30",
                "app:app",
            ],
        )
        _wait(lambda: _http_ok(f"http://127.0.0.1:{self.web_port}/health"), "gunicorn")
        if self.proxy:
            # The Procfile's proxy line: deploy/nginx.py renders the configuration and
            # becomes nginx.
            self._spawn(
                "proxy",
                [
                    sys.executable,
                    "-m",
                    "deploy.nginx",
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    "--upstream",
                    f"127.0.0.1:{self.web_port}",
                ],
            )
            _wait(lambda: _http_ok(f"{self.url}/health"), "nginx")

    def web_memory_kib(self) -> int:
        """Resident memory of gunicorn's worker processes together."""
        master = self.procs["web"].pid
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        total = 0
        for pid in children.stdout.split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")),
                0,
            )
        return total

    def start_workers(self) -> None:
        """The Procfile's worker and clock lines."""
        flask = str(BIN / "flask")
        self._spawn("clock", [flask, "--app", "app", "jobs", "clock"])
        for n in range(self.workers):
            self._spawn(f"worker{n}", [flask, "--app", "app", "jobs", "work"])
        # Each loads the NLU first (minutes on a busy machine): the load starts when they
        # listen, or the first replies would wait for them.
        _wait(lambda: _rq_workers(self.redis_port) >= self.workers, "RQ workers", 600)

    def flask(self, *args: str) -> str:
        """A `flask` command with the stack's environment; its output."""
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def kill_a_web_worker(self) -> int | None:
        """SIGKILL one gunicorn worker process (the master starts another)."""
        master = self.procs["web"].pid
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        pids = [int(p) for p in children.stdout.split()]
        if not pids:
            return None
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def kill_db_connections(self) -> int:
        engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
        with engine.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": self.database},
            ).scalar_one()
        engine.dispose()
        return int(killed)

    def stop(self) -> None:
        for proc in list(self.procs.values()):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def _redis_up(port: int) -> bool:
    from redis import Redis

    try:
        return bool(Redis(port=port, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _rq_workers(port: int) -> int:
    from redis import Redis
    from rq import Worker

    try:
        return int(Worker.count(connection=Redis(port=port, socket_connect_timeout=0.5)))
    except Exception:
        return 0


def _http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait(check, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")
