"""Benchmark: the Twilio message webhook under gunicorn against PostgreSQL and Redis,
beside a bare Flask TwiML endpoint on the same server. Prints figures; asserts nothing.

    python -m bench.webhook [--seconds 15] [--clients 16] [--rate 50]

Starts: gunicorn with the app (2 workers, as the Procfile), one RQ worker, and gunicorn
with bench/bare_app.py. Clients are separate processes posting signed form requests
(twilio's RequestValidator) over keep-alive connections; each simulated customer runs a
short journey (greeting, availability, choice, hold, status, thanks) on WhatsApp or SMS.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bench import bench_redis, own_redis, pct, production_secrets, rebuild_database

ROOT = Path(__file__).resolve().parents[1]
DB = "tourbot_bench_webhook"
REDIS = bench_redis(4)
TOKEN = "bench-auth-token"
APP_PORT, BARE_PORT = 18081, 18082
PATH = "/webhooks/twilio/messages"
JOURNEY = (
    "hi",
    "sunset tour this saturday for 2 adults",
    "1",
    "yes",
    "what's the status of my booking?",
    "thanks!",
)


def environment(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO", "STRIPE", "RASA"))}
    env.update(
        production_secrets(),
        DATABASE_URL=db_url,
        REDIS_URL=REDIS,
        TWILIO_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{APP_PORT}",
        LOG_LEVEL="WARNING",
        FLASK_APP="app",
        # These benches measure the turn in the web process (the webhook answering in its
        # TwiML), as they always have; bench.whatsapp_replies measures both ways.
        ANSWER_IN_WORKER="0",
    )
    return env


def demo_stack(database: str, redis_url: str = REDIS) -> tuple[str, dict[str, str]]:
    """A fresh database with the demo catalog and an emptied Redis database of the
    bench's own (bench.own_redis): (URL, the environment the app runs with)."""
    own_redis(redis_url, database)  # before the app writes to it
    db_url = rebuild_database(database)
    env = environment(db_url) | {"REDIS_URL": redis_url}
    subprocess.run(
        [sys.executable, "-m", "flask", "demo", "load"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    own_redis(redis_url, database)  # and empty again after the demo's load
    return db_url, env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"nothing answered on port {port}")


def signed(port: int, phone: str, whatsapp: bool, body: str) -> tuple[bytes, dict[str, str]]:
    prefix = "whatsapp:" if whatsapp else ""
    to = "+14155238886" if whatsapp else "+15005550006"
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": prefix + phone,
        "To": prefix + to,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(
        f"http://127.0.0.1:{APP_PORT}{PATH}", form
    )
    return urlencode(form).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }


def client(
    port: int,
    worker: int,
    seconds: float,
    interval: float | None,
    start_at: float,
    out: Any,
    journey: tuple[str, ...] = JOURNEY,
) -> None:
    """One simulated client: a keep-alive connection, customers one after another, each
    sending the journey's messages."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    # Each client starts at a different step of the journey: the arrivals are then a steady
    # mix. Paced clients that all started at "hi" would send their holds in the same instant,
    # a burst of holds on one departure that queue on its lock.
    n = worker % len(journey)
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    next_send = start_at
    while True:
        if interval is not None:
            next_send += interval
            delay = next_send - time.time()
            if delay > 0:
                time.sleep(delay)
        if time.time() >= deadline:
            break
        customer, step = divmod(n, len(journey))
        # +1 555 WWW CCCC (client, customer): bench.webhook_floor creates some beforehand.
        phone = f"+1555{worker % 1000:03d}{customer % 10000:04d}"
        body, headers = signed(port, phone, whatsapp=customer % 2 == 0, body=journey[step])
        t0 = time.perf_counter()
        try:
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            # The app answers every message; an empty TwiML would mean it was refused.
            if response.status != 200 or b"<Message>" not in payload:
                errors += 1
        except OSError:
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append((time.perf_counter() - t0) * 1000)
        n += 1
    out.put((latencies, errors))


def run(
    port: int,
    clients: int,
    seconds: float,
    rate: float | None,
    first_client: int = 0,
    journey: tuple[str, ...] = JOURNEY,
) -> tuple[float, float, float, int, int]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    interval = clients / rate if rate else None
    # Paced clients start staggered, so arrivals are evenly spaced rather than in bursts.
    offsets = [(interval or 0) * w / clients for w in range(clients)]
    procs = [
        ctx.Process(
            target=client,
            args=(port, first_client + w, seconds, interval, start_at + offsets[w], out, journey),
        )
        for w in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    latencies = [x for r in results for x in r[0]]
    errors = sum(r[1] for r in results)
    return (
        len(latencies) / seconds,
        statistics.median(latencies),
        pct(latencies, 99),
        len(latencies),
        errors,
    )


def wait_for_queue(timeout: float = 300) -> float:
    """Seconds until the RQ queue is empty and idle, so the paced run measures a steady state."""
    from redis import Redis
    from rq import Queue

    queue = Queue("default", connection=Redis.from_url(REDIS))
    started = time.time()
    while time.time() - started < timeout:
        if queue.count == 0 and queue.started_job_registry.count == 0:
            break
        time.sleep(0.5)
    return time.time() - started


def report_work_done(db_url: str) -> None:
    """What the server really did, so a run that refused everything cannot look fast."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        inbound = conn.scalar(text("SELECT count(*) FROM messages WHERE direction = 'inbound'"))
        replies = conn.scalar(text("SELECT count(*) FROM messages WHERE kind = 'reply'"))
        holds = conn.scalar(
            text("SELECT count(*) FROM bookings WHERE source IN ('sms', 'whatsapp')")
        )
        leads = conn.scalar(text("SELECT count(*) FROM leads"))
        notes = conn.scalar(
            text("SELECT count(*) FROM messages WHERE kind = 'staff' AND status = 'sent'")
        )
    engine.dispose()
    print(
        f"  stored: {inbound} inbound messages, {replies} replies, {holds} holds by chat, "
        f"{leads} leads, "
        f"{notes} staff notifications sent by the RQ worker"
    )


def cpu_counters() -> tuple[int, int]:
    """(busy, steal) jiffies from /proc/stat. Steal is time the hypervisor gave this
    machine's cores to someone else: the figures are only comparable when it is low."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return 0, 0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, steal


def share_of_cores(jiffies: int, seconds: float) -> str:
    """Jiffies (busy or stolen) as a share of all cores over a run of this many seconds."""
    return f"{jiffies / os.sysconf('SC_CLK_TCK') / seconds / (os.cpu_count() or 1):.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--rate", type=float, default=50, help="messages per second in the paced run"
    )
    args = parser.parse_args()

    db_url, env = demo_stack(DB)
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--threads",
        "4",
        "--timeout",
        "30",
    ]
    procs = [
        start([*gunicorn, "--bind", f"127.0.0.1:{APP_PORT}", "app:app"], env),
        start([str(Path(sys.executable).parent / "flask"), "--app", "app", "jobs", "work"], env),
        start([*gunicorn, "--bind", f"127.0.0.1:{BARE_PORT}", "bench.bare_app:app"], env),
    ]
    try:
        wait_for(APP_PORT)
        run(APP_PORT, 4, 3, None, first_client=900)  # warm-up: workers load the NLU model
        run(BARE_PORT, 4, 2, None)
        print(
            f"gunicorn 2 workers x 4 threads (Procfile), PostgreSQL, Redis + 1 RQ worker; "
            f"{args.clients} client processes; "
            f"{os.cpu_count()} cores shared by everything"
        )
        rows = []
        for name, port in (
            ("bare Flask TwiML endpoint", BARE_PORT),
            ("tourbot message webhook", APP_PORT),
        ):
            _, steal0 = cpu_counters()
            rps, p50, p99, n, errors = run(port, args.clients, args.seconds, None)
            _, steal1 = cpu_counters()
            rows.append(rps)
            steal = share_of_cores(steal1 - steal0, args.seconds)
            print(
                f"  {name:28s} {rps:7.0f} msg/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
                f"({n} requests, {errors} errors; {steal} stolen)"
            )
        print(f"  webhook throughput = {rows[1] / rows[0]:.1%} of the bare endpoint's")
        drained = wait_for_queue()
        print(f"  notification backlog from that burst drained by the RQ worker in {drained:.0f} s")
        busy0, steal0 = cpu_counters()
        rps, p50, p99, n, errors = run(APP_PORT, 10, args.seconds, args.rate, first_client=500)
        busy1, steal1 = cpu_counters()
        busy = share_of_cores(busy1 - busy0, args.seconds)
        steal = share_of_cores(steal1 - steal0, args.seconds)
        print(
            f"  paced at {args.rate:.0f} msg/s: achieved {rps:.1f} msg/s, p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms ({n} requests, {errors} errors); cores busy {busy}, "
            f"{steal} stolen"
        )
        report_work_done(db_url)
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
