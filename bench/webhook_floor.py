"""Benchmark: where the webhook's throughput goes, as a ladder from the bare endpoint to the
whole app. Prints figures; asserts nothing.

    python -m bench.webhook_floor [--seconds 10] [--clients 16] [--rounds 1]

Each rung runs under gunicorn as bench.webhook does (2 workers x 4 threads, the same 16
client processes posting signed requests over keep-alive connections) and prints its
throughput, its share of the bare endpoint's, and the CPU it cost per message: the web
processes, PostgreSQL, and the whole machine (clients included). On 2 cores,
throughput is about 2,000 ms divided by the whole machine's CPU per message, so that
column says what a rung costs.

Rungs: the bare endpoint (bench/bare_app.py); bench/floor_app.py with 1-4 layers of the
bookkeeping every message needs; the real app answering only "thanks!" (its cheapest
message: NLU, the state machine, the ORM); the real app with the whole journey of
bench.webhook (lead, availability, hold, notifications through RQ). Customers and
conversations for the floor and "thanks!" rungs exist beforehand, as for a returning
customer; the journey's customers are new, as in bench.webhook.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.webhook import (
    APP_PORT,
    JOURNEY,
    cpu_counters,
    demo_stack,
    run,
    start,
    wait_for,
    wait_for_queue,
)

DB = "tourbot_bench_floor"
PRECREATED_CLIENTS, PRECREATED_CUSTOMERS = 64, 1000
JOURNEY_CLIENTS = 500  # first client number of the journey rung: phones nobody used yet


@dataclass(frozen=True)
class Rung:
    name: str
    app: str
    env: dict[str, str]
    journey: tuple[str, ...] = ("thanks!",) * 6  # six messages per customer
    first_client: int = 0


RUNGS = [
    Rung("bare Flask TwiML endpoint", "bench.bare_app:app", {}),
    Rung("+ signature check, MessagingResponse", "bench.floor_app:app", {"FLOOR_LAYERS": "1"}),
    Rung("+ rate-limit count in Redis", "bench.floor_app:app", {"FLOOR_LAYERS": "2"}),
    Rung("+ sender query", "bench.floor_app:app", {"FLOOR_LAYERS": "3"}),
    Rung("+ message log, conversation (Core)", "bench.floor_app:app", {"FLOOR_LAYERS": "4"}),
    Rung('tourbot, "thanks!" only', "app:app", {}),
    Rung("tourbot, whole journey", "app:app", {}, JOURNEY, JOURNEY_CLIENTS),
]


def precreate_customers(db_url: str) -> None:
    """Customers and both conversations for the phones the clients of the cheap rungs use."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        org = conn.scalar(text("SELECT organization_id FROM organization_numbers LIMIT 1"))
        conn.execute(
            text(
                "WITH added AS ("
                " INSERT INTO customers (phone, opted_out, organization_id, created_at, updated_at)"
                " SELECT '+1555' || lpad(w::text, 3, '0') || lpad(n::text, 4, '0'), false, :org,"
                " now(), now() FROM generate_series(0, :clients - 1) w,"
                " generate_series(0, :customers - 1) n RETURNING id)"
                " INSERT INTO conversations (customer_id, channel, state, slots, handoff, status,"
                " unread_count, organization_id, created_at, updated_at)"
                " SELECT added.id, channel, 'idle', '{}', false, 'open', 0, :org, now(), now()"
                " FROM added, (VALUES ('sms'), ('whatsapp')) AS channels(channel)"
            ),
            {"org": org, "clients": PRECREATED_CLIENTS, "customers": PRECREATED_CUSTOMERS},
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()


def cpu_by_role() -> dict[str, int]:
    """CPU jiffies so far of the web processes (gunicorn) and of PostgreSQL's."""
    totals = {"web": 0, "postgres": 0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        role = "web" if b"gunicorn" in command else "postgres" if b"postgres" in command else None
        if role:
            totals[role] += int(fields[11]) + int(fields[12])
    return totals


def measure(rung: Rung, env: dict[str, str], clients: int, seconds: float) -> tuple[float, str]:
    """(messages per second, the rung's figures as a line)."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
    procs = [start([*gunicorn, "--bind", f"127.0.0.1:{APP_PORT}", rung.app], {**env, **rung.env})]
    if rung.app == "app:app":
        flask = str(Path(sys.executable).parent / "flask")
        procs.append(start([flask, "--app", "app", "jobs", "work"], env))
    try:
        wait_for(APP_PORT)
        run(APP_PORT, 4, 2, None, first_client=900, journey=rung.journey)  # warm-up
        wait_for_queue()
        busy0, _ = cpu_counters()
        roles0 = cpu_by_role()
        rps, p50, _p99, n, errors = run(
            APP_PORT, clients, seconds, None, rung.first_client, rung.journey
        )
        wait_for_queue()  # the journey's notifications count as its cost
        busy1, _ = cpu_counters()
        roles1 = cpu_by_role()
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    per_message = 1000 / os.sysconf("SC_CLK_TCK") / max(n, 1)
    web = (roles1["web"] - roles0["web"]) * per_message
    postgres = (roles1["postgres"] - roles0["postgres"]) * per_message
    machine = (busy1 - busy0) * per_message
    return rps, (
        f"{rps:7.0f} msg/s  p50 {p50:6.1f} ms  {errors} errors   CPU per message: "
        f"web {web:5.2f}  PostgreSQL {postgres:4.2f}  machine {machine:5.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    db_url, env = demo_stack(DB)
    precreate_customers(db_url)
    print(
        f"gunicorn 2 workers x 4 threads, {args.clients} client processes, "
        f"{args.seconds:.0f} s per rung, {os.cpu_count()} cores shared by everything"
    )
    for round_number in range(args.rounds):
        if args.rounds > 1:
            print(f"round {round_number + 1}")
        bare = None
        for rung in RUNGS:
            rps, figures = measure(rung, env, args.clients, args.seconds)
            bare = bare or rps
            print(f"  {rung.name:38s} {figures}  ({rps / bare:6.1%} of bare)", flush=True)


if __name__ == "__main__":
    main()
