"""Runs the soak: builds the stack, runs people and faults for --minutes, waits for the
backlog to drain, then prints throughput, latency, job lag, errors and each invariant."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench import pct, rebuild_database
from models import Departure, Guide, Message
from models.db import make_engine, make_session_factory
from services.catalog import import_catalog
from soak import invariants
from soak.journeys import Metrics, World, customer_journey, guide_day, staff_replies
from soak.stack import Stack
from soak.standins import StripeStandIn, TwilioStandIn

DB = "tourbot_soak"
TZ = ZoneInfo("Asia/Kathmandu")
AUTH_TOKEN = "soak-twilio-auth-token"
ACCOUNT_SID = "AC" + "5" * 32
WEBHOOK_SECRET = "whsec_soak_secret"
SALES = ("sam@soak.example", "soak-sales-password")
GUIDES = 6


def catalog(today: datetime) -> dict:
    day = lambda n: (today.date() + timedelta(days=n)).isoformat()  # noqa: E731
    soon = (today + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return {
        "organization": {
            "slug": "soak-tours",
            "name": "Soak Tours",
            "timezone": "Asia/Kathmandu",
            "currency": "USD",
            "numbers": ["+15005550006", "whatsapp:+14155238886"],
            "owner_phone": "+15551230000",
            "ops_phones": ["+15551230002"],
            "settings": {"hold_hours": 2, "deposit_percent": 30},
        },
        "staff": [
            {
                "name": "Sam Sales",
                "email": SALES[0],
                "phone": "+15551230001",
                "role": "sales",
                "password": SALES[1],
            },
            {"name": "Olive Owner", "email": "owner@soak.example", "role": "owner"},
        ],
        "guides": [
            {"name": f"Guide {n}", "phone": f"+97798000001{n:02d}", "tours": ["day-hike"]}
            for n in range(GUIDES)
        ],
        "tours": [
            {
                "slug": "sunset-tour",
                "name": "Sunset Tour",
                "duration": "2h30m",
                "prices": {"adult": "49.00", "child": "29.00"},
                "schedule": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "time": "17:30",
                        "from": day(1),
                        "until": day(6),
                        "capacity": 16,
                    }
                ],
            },
            {
                "slug": "city-walk",
                "name": "Old City Walk",
                "duration": "90m",
                "prices": {"adult": "25.00"},
                "departures": [
                    {"code": f"CITY{n}", "start": f"{day(n)} 09:00", "capacity": 6}
                    for n in (1, 2, 3)
                ],
            },
            {
                "slug": "day-hike",
                "name": "Day Hike",
                "duration": "6h",
                "prices": {"adult": "80.00"},
                "departures": [
                    {
                        "code": f"HIKE{n}",
                        "start": (soon + timedelta(minutes=7 * n)).strftime("%Y-%m-%d %H:%M"),
                        "capacity": 12,
                        "guide": f"+97798000001{n:02d}",
                    }
                    for n in range(GUIDES)
                ],
            },
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Soak and fault-injection run over the real stack."
    )
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=16, help="customers chatting at once")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--drain-minutes", type=float, default=6)
    for fault in ("redis", "postgres", "web-kill", "twilio", "stripe", "duplicates", "callbacks"):
        parser.add_argument(f"--no-fault-{fault}", action="store_true")
    args = parser.parse_args()
    random.seed(5)

    url = rebuild_database(DB)
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        import_catalog(s, catalog(now.astimezone(TZ)), now)
        s.commit()
        hikes = [
            (g.phone, d.code)
            for d, g in s.execute(
                select(Departure, Guide).join(Guide, Departure.guide_id == Guide.id)
            )
        ]

    twilio = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, out_of_order=not args.no_fault_callbacks)
    twilio_url = twilio.start()
    app_url = f"http://127.0.0.1:{args.port}"
    stripe = StripeStandIn(
        f"{app_url}/webhooks/stripe",
        WEBHOOK_SECRET,
        replay=not args.no_fault_stripe,
        reorder=not args.no_fault_stripe,
    )
    stripe_url = stripe.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "SECRET_KEY": "soak-secret",
        "PUBLIC_BASE_URL": app_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": twilio_url,
        "STRIPE_SECRET_KEY": "sk_test_soak",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_url,
        "LOG_LEVEL": "WARNING",
    }
    stack = Stack(env, args.port, args.redis_port, DB)
    metrics = Metrics()
    stop = threading.Event()
    days = [(now.astimezone(TZ) + timedelta(days=n)).date() for n in range(1, 6)]
    world = World(
        app_url, AUTH_TOKEN, stripe, metrics, stop, days, 0.0 if args.no_fault_duplicates else 0.05
    )
    faults: list[str] = []
    samples: list[str] = []
    sample_count = 0
    try:
        stack.start_redis()
        stack.start_web()
        stack.start_workers()
        print(
            f"stack up: gunicorn {app_url}, {stack.workers} RQ workers, Redis :{args.redis_port}, "
            f"Twilio stand-in {twilio_url}, Stripe stand-in {stripe_url}"
        )
        duration = args.minutes * 60
        started = time.monotonic()

        def sampler() -> None:
            nonlocal sample_count
            while not stop.wait(5):
                with factory() as s:
                    samples.extend(invariants.oversold(s, datetime.now(UTC)))
                sample_count += 1

        def fault_plan() -> None:
            plan = []
            if not args.no_fault_redis:
                plan.append((0.15, "redis"))
            if not args.no_fault_postgres:
                plan.append((0.35, "postgres"))
            if not args.no_fault_web_kill:
                plan.append((0.45, "web-kill"))
            if not args.no_fault_twilio:
                plan.append((0.55, "twilio"))
            for at, fault in plan:
                if stop.wait(max(0.0, started + at * duration - time.monotonic())):
                    return
                if fault == "redis":
                    stack.stop_redis()
                    faults.append(f"{_t(started)} Redis stopped")
                    stop.wait(30)
                    stack.start_redis()
                    faults.append(
                        f"{_t(started)} Redis restarted (empty: it keeps nothing on disk)"
                    )
                elif fault == "postgres":
                    n = stack.kill_db_connections()
                    faults.append(f"{_t(started)} pg_terminate_backend on {n} connections")
                elif fault == "web-kill":
                    pid = stack.kill_a_web_worker()
                    faults.append(f"{_t(started)} SIGKILL gunicorn worker {pid}")
                elif fault == "twilio":
                    for mode, seconds in (("429", 15), ("500", 15), ("timeout", 15)):
                        twilio.mode = mode
                        faults.append(
                            f"{_t(started)} Twilio stand-in answering {mode} for {seconds} s"
                        )
                        stop.wait(seconds)
                    twilio.mode = "ok"
                    faults.append(f"{_t(started)} Twilio stand-in healthy again")

        threads = [
            threading.Thread(target=sampler, daemon=True),
            threading.Thread(target=fault_plan, daemon=True),
        ]
        threads.append(threading.Thread(target=staff_replies, args=(world, *SALES), daemon=True))
        for phone, code in hikes:
            threads.append(
                threading.Thread(target=guide_day, args=(world, phone, code), daemon=True)
            )
        for t in threads:
            t.start()

        customers = 0
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            running = set()
            while time.monotonic() - started < duration:
                running = {f for f in running if not f.done()}
                while len(running) < args.concurrency:
                    running.add(pool.submit(_safely, customer_journey, world, customers))
                    customers += 1
                time.sleep(0.05)
            stop.set()
        elapsed = time.monotonic() - started
        print(
            f"load done: {customers} customers in {elapsed:.0f} s; waiting for the backlog to drain"
        )

        drain_started = time.monotonic()
        backlog = -1
        while time.monotonic() - drain_started < args.drain_minutes * 60:
            with factory() as s:
                backlog = s.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.status.in_(("queued", "retrying", "sending")))
                )
            if backlog == 0:
                break
            time.sleep(5)
        drained = time.monotonic() - drain_started
        time.sleep(3)  # the last status callbacks
        report(
            factory,
            metrics,
            twilio,
            stripe,
            faults,
            samples,
            sample_count,
            elapsed,
            customers,
            backlog,
            drained,
        )
    finally:
        stop.set()
        stack.stop()
        twilio.stop()
        stripe.stop()


def _safely(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Exception as exc:  # a harness bug must not stop the run; it is counted
        args[0].metrics.errors[f"harness {type(exc).__name__}: {exc}"[:120]] += 1


def _t(started: float) -> str:
    return f"[{time.monotonic() - started:5.0f} s]"


def report(
    factory,
    metrics,
    twilio,
    stripe,
    faults,
    samples,
    sample_count,
    elapsed,
    customers,
    backlog,
    drained,
) -> None:  # type: ignore[no-untyped-def]
    lat = [x * 1000 for x in metrics.latencies]
    print("\n== soak report ==")
    rate = len(lat) / elapsed
    print(f"customers: {customers}; webhook requests: {len(lat)} in {elapsed:.0f} s = {rate:.1f}/s")
    if lat:
        p50, p99 = statistics.median(lat), pct(lat, 99)
        print(f"webhook latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(lat):.0f} ms")
    errors = dict(metrics.errors) or "none"
    print(f"HTTP statuses: {dict(metrics.statuses)}; transport errors: {errors}")
    with factory() as s:
        lag = s.execute(
            select(Message.created_at, Message.sent_at).where(
                Message.direction == "outbound",
                Message.sent_at.is_not(None),
                Message.status != "reply",
            )
        ).all()
    lags = [(sent - created).total_seconds() for created, sent in lag]
    if lags:
        p50, p99 = statistics.median(lags), pct(lags, 99)
        print(f"job lag (queued -> sent): p50 {p50:.1f} s, p99 {p99:.1f} s, max {max(lags):.1f} s")
    print(f"backlog after load: {backlog} messages not yet final after {drained:.0f} s of draining")
    print(
        f"Twilio stand-in: {len(twilio.sent)} accepted, {twilio.refused} refused while failing, "
        f"{twilio.callbacks_failed} callbacks undeliverable; "
        f"Stripe stand-in: {stripe.events_sent} events sent"
    )
    print("journeys: " + ", ".join(f"{k} {v}" for k, v in sorted(metrics.journeys.items())))
    print("faults injected:")
    for line in faults or ["none"]:
        print(f"  {line}")
    with factory() as s:
        now = datetime.now(UTC)
        checks = {
            "no departure oversold": invariants.never_oversold(s, now, samples, sample_count),
            "every inbound message answered exactly once": invariants.inbound_answered_once(
                s, metrics
            ),
            "every outbound message sent once or failed with a reason": (
                invariants.outbound_sent_once(s, twilio)
            ),
            "every payment matched to one booking; no money kept that is not owed": (
                invariants.money_matches(s, stripe)
            ),
            "every state change on the timeline": invariants.timeline_complete(s),
        }
    print("invariants:")
    for name, (ok, detail) in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    server_errors = sum(n for code, n in metrics.statuses.items() if code >= 500)
    print(f"  {'PASS' if server_errors == 0 else 'FAIL'}  no 5xx from the webhook: {server_errors}")


if __name__ == "__main__":
    main()
