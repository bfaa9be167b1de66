"""Benchmark: CPU per message of the Twilio webhook, in-process, step by step. Prints
figures; asserts nothing.

    python -m bench.webhook_cpu [--customers 60] [--runs 3] [--whatsapp-content]
                                [--answer-in webhook|worker]

The burst figure of bench.webhook moves by a third from minute to minute on a shared
machine; this one is steadier, so it is the one to compare two versions of the hot path
with (alternate them, and compare the lowest of several runs). Each run rebuilds its own
PostgreSQL database with the demo catalog and sends every simulated customer through the
same journey as bench.webhook, as signed form posts through Flask's test client: no HTTP
server, no other clients. It prints the web process's CPU time per journey step (as a
gunicorn worker runs: NLU loaded first, garbage collector settled), the SQL statements
each step sent, and the CPU the PostgreSQL backend spent per message. With
--whatsapp-content the organization's WhatsApp rows and buttons exist (made locally, as
`flask whatsapp sync` would), so the WhatsApp customers' choices go through the outbox
(queued to RQ, not sent here) instead of the TwiML. With --answer-in worker the webhook
only stores each message and enqueues its answer (production's default with Redis,
bot/inbound.py; nothing answers here, so every step costs what a first message costs):
the web process's own share.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections import Counter

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench.webhook import APP_PORT, JOURNEY, PATH, demo_stack, signed

DB = "tourbot_bench_cpu"


def backend_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (Linux /proc), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    customers: int, content: bool = False, in_worker: bool = False
) -> tuple[list[float], list[float], float]:
    """(CPU ms per step, statements per step, PostgreSQL backend CPU ms per message)."""
    _, env = demo_stack(DB)
    os.environ.update(env, ANSWER_IN_WORKER="1" if in_worker else "0")

    from app import create_app
    from extensions import db
    from services import runtime
    from webhooks.twilio import warm_up

    app = create_app()
    warm_up(app)
    runtime.settle_garbage_collector()
    client = app.test_client()
    if content:
        from datetime import UTC, datetime

        from models import Organization
        from services import whatsapp_content

        with app.app_context():
            for org in db.session.query(Organization):
                whatsapp_content.sync(
                    db.session,
                    org,
                    whatsapp_content.LocalContentApi(),
                    env["PUBLIC_BASE_URL"],
                    datetime.now(UTC),
                )
            db.session.commit()
    with app.app_context():
        # One request at a time reuses one pooled connection: its backend is the one to watch.
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.close()

    statements = Counter[int]()
    step_now = [-1]

    def count(*_args: object) -> None:
        statements[step_now[0]] += 1

    event.listen(Engine, "before_cursor_execute", count)

    def post(customer: int, step: int) -> None:
        phone = f"+1555700{customer:04d}"
        body, headers = signed(APP_PORT, phone, customer % 2 == 0, JOURNEY[step])
        response = client.post(PATH, data=body, headers=headers)
        # Or through the outbox (rows and buttons), or left to a worker.
        answered = b"<Message>" in response.data or content or in_worker
        if response.status_code != 200 or not answered:
            raise SystemExit(f"step {JOURNEY[step]!r} was not answered: {response.data!r}")

    for step in range(len(JOURNEY)):  # warm-up: first use of each code path
        post(9999, step)
    cpu = [0.0] * len(JOURNEY)
    pg_before = backend_cpu_seconds(backend)
    for customer in range(customers):
        for step in range(len(JOURNEY)):
            step_now[0] = step
            started = time.process_time()
            post(customer, step)
            cpu[step] += time.process_time() - started
    pg_after = backend_cpu_seconds(backend)
    event.remove(Engine, "before_cursor_execute", count)
    gc.unfreeze()
    with app.app_context():
        db.engine.dispose()  # the next run drops this database
    return (
        [seconds * 1000 / customers for seconds in cpu],
        [statements[step] / customers for step in range(len(JOURNEY))],
        (pg_after - pg_before) * 1000 / (customers * len(JOURNEY)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--whatsapp-content", action="store_true")
    parser.add_argument("--answer-in", choices=("webhook", "worker"), default="webhook")
    args = parser.parse_args()
    in_worker = args.answer_in == "worker"
    results = [run(args.customers, args.whatsapp_content, in_worker) for _ in range(args.runs)]
    print(
        f"webhook CPU per message in-process, {args.customers} customers x "
        f"{len(JOURNEY)} steps, {args.runs} runs (lowest, highest)"
        + (", WhatsApp rows and buttons made" if args.whatsapp_content else "")
        + (", answered by a worker (not run here)" if in_worker else "")
    )
    for step, words in enumerate(JOURNEY):
        times = [r[0][step] for r in results]
        print(
            f"  {words[:38]:38s} {min(times):6.2f} {max(times):6.2f} ms   "
            f"{results[0][1][step]:5.1f} statements"
        )
    averages = [sum(r[0]) / len(JOURNEY) for r in results]
    backend = [r[2] for r in results]
    print(f"  {'journey average':38s} {min(averages):6.2f} {max(averages):6.2f} ms")
    print(f"  {'PostgreSQL backend, per message':38s} {min(backend):6.2f} {max(backend):6.2f} ms")


if __name__ == "__main__":
    main()
