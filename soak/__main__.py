"""Runs the soak: builds the stack, runs people and faults for --minutes, waits for the
backlog to drain, then prints throughput, latency, job lag, errors and each invariant."""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bench import pct, rebuild_database
from models import UNSENT_MESSAGE_STATUSES, Departure, Guide, Message, MessageStatus
from models.db import make_engine, make_session_factory
from services.catalog import import_catalog
from soak import hostile, invariants
from soak.journeys import Metrics, Window, World, customer_journey, guide_day, staff_replies
from soak.stack import Stack
from soak.standins import StripeStandIn, TwilioStandIn

DB = "tourbot_soak"
TZ = ZoneInfo("Asia/Kathmandu")
AUTH_TOKEN = "soak-twilio-auth-token"
ACCOUNT_SID = "AC" + "5" * 32
WEBHOOK_SECRET = "whsec_soak_secret"
SALES = ("sam@soak.example", "soak-sales-password")
GUIDES = 6
RECOVERY_LIMIT = 8 * 60.0  # seconds a fault's backlog may take to drain


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


@dataclass
class Run:
    """Everything one soak run holds: the stack, the stand-ins, the people, the record."""

    args: argparse.Namespace
    factory: sessionmaker[Session]
    stack: Stack
    twilio: TwilioStandIn
    stripe: StripeStandIn
    world: World
    hikes: list[tuple[str, str]]
    started: float = 0.0
    faults: list[str] = field(default_factory=list)
    watchers: list[threading.Thread] = field(default_factory=list)
    recoveries: dict[str, tuple[bool, str]] = field(default_factory=dict)
    hostile: dict[str, tuple[bool, str]] = field(default_factory=dict)
    oversold_seen: list[str] = field(default_factory=list)
    slow_window: tuple[float, float] = (0.0, 0.0)  # monotonic start and end of the slow clients
    fault_spans: list[tuple[float, float]] = field(default_factory=list)  # monotonic
    samples: int = 0
    customers: int = 0
    elapsed: float = 0.0
    backlog: int = -1
    drained: float = 0.0

    @property
    def duration(self) -> float:
        return self.args.minutes * 60

    def log_fault(self, text: str) -> None:
        self.faults.append(f"[{time.monotonic() - self.started:5.0f} s] {text}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Soak and fault-injection run over the real stack."
    )
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=16, help="customers chatting at once")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--drain-minutes", type=float, default=6)
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help="clients talk to gunicorn directly (to see what the proxy is for)",
    )
    parser.add_argument("--slow-clients", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=4, help="RQ worker processes (about 4 per 50 msg/s)"
    )
    parser.add_argument(
        "--answer-in-webhook",
        action="store_true",
        help="the webhook answers in its TwiML (ANSWER_IN_WORKER=0) instead of the workers",
    )
    parser.add_argument(
        "--no-whatsapp-content",
        action="store_true",
        help="no rows or buttons made: WhatsApp customers get numbered words, as on SMS",
    )
    faults = ("redis", "postgres", "web-kill", "twilio", "stripe", "duplicates", "callbacks")
    for fault in (*faults, "slow-clients", "oversized"):
        parser.add_argument(f"--no-fault-{fault}", action="store_true")
    return parser.parse_args()


def prepare(args: argparse.Namespace) -> Run:
    """A fresh database with the soak catalog, the stand-ins, and the stack's environment."""
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
    app_url = f"http://127.0.0.1:{args.port}"
    twilio = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, out_of_order=not args.no_fault_callbacks)
    stripe = StripeStandIn(
        f"{app_url}/webhooks/stripe",
        WEBHOOK_SECRET,
        replay=not args.no_fault_stripe,
        reorder=not args.no_fault_stripe,
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_BASE_URL": app_url,  # plain http is accepted for a loopback address only
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": twilio.start(),
        "STRIPE_SECRET_KEY": "sk_test_soak",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe.start(),
        "LOG_LEVEL": "WARNING",
        # Production's default: the webhook stores each message and an RQ worker answers
        # it through the REST API (bot/inbound.py); --answer-in-webhook: in the TwiML.
        "ANSWER_IN_WORKER": "0" if args.answer_in_webhook else "1",
        # nginx in front (the Procfile's proxy line): the client address is its last hop.
        "TRUSTED_PROXIES": "0" if args.no_proxy else "1",
    }
    days = [(now.astimezone(TZ) + timedelta(days=n)).date() for n in range(1, 6)]
    world = World(
        app_url,
        AUTH_TOKEN,
        stripe,
        Metrics(),
        threading.Event(),
        days,
        twilio,
        factory,
        0.0 if args.no_fault_duplicates else 0.05,
    )
    stack = Stack(env, args.port, args.redis_port, DB, args.workers, proxy=not args.no_proxy)
    return Run(args, factory, stack, twilio, stripe, world, hikes)


def sample_capacity(run: Run) -> None:
    while not run.world.stop.wait(5):
        try:
            with run.factory() as s:
                run.oversold_seen.extend(invariants.oversold(s, datetime.now(UTC)))
        except OperationalError:  # the postgres fault cuts the harness's connections too
            continue
        run.samples += 1


def inject_faults(run: Run) -> None:
    """One fault at a time, spread over the run, each a flag."""
    args, stack, stop = run.args, run.stack, run.world.stop
    plan = [
        (at, fault)
        for at, fault, off in (
            (0.02, "oversized", args.no_fault_oversized),
            (0.10, "slow-clients", args.no_fault_slow_clients),
            (0.15, "redis", args.no_fault_redis),
            (0.35, "postgres", args.no_fault_postgres),
            (0.45, "web-kill", args.no_fault_web_kill),
            (0.55, "twilio", args.no_fault_twilio),
        )
        if not off
    ]
    for at, fault in plan:
        if stop.wait(max(0.0, run.started + at * run.duration - time.monotonic())):
            return
        began = time.monotonic()
        if fault == "slow-clients":
            run.log_fault(f"{args.slow_clients} slow clients trickling a byte a second for 30 s")
            run.slow_window = (time.monotonic(), 0.0)
            seen = hostile.slow_clients(stack.url, args.slow_clients, 30, stop)
            run.slow_window = (run.slow_window[0], time.monotonic())
            run.hostile["slow clients"] = seen.verdict()
            run.hostile["customers meanwhile"] = customers_meanwhile(run)
            run.log_fault("slow clients gone")
        elif fault == "oversized":
            before = stack.web_memory_kib()
            oversized = hostile.oversized_bodies(stack.url)
            oversized.grew_kib = max(0, stack.web_memory_kib() - before)
            run.hostile["oversized bodies"] = oversized.verdict()
            run.log_fault(
                f"oversized bodies sent to {len(hostile.TARGETS)} routes: 300 MB announced, "
                "50 MB streamed, one byte over each route's limit (declared and chunked)"
            )
        elif fault == "redis":
            stack.stop_redis()
            run.log_fault("Redis stopped")
            stop.wait(30)
            stack.start_redis()
            run.log_fault("Redis restarted (empty: it keeps nothing on disk)")
        elif fault == "postgres":
            run.log_fault(f"pg_terminate_backend on {stack.kill_db_connections()} connections")
        elif fault == "web-kill":
            run.log_fault(f"SIGKILL gunicorn worker {stack.kill_a_web_worker()}")
        elif fault == "twilio":
            for mode in ("429", "500", "timeout"):
                run.twilio.mode = mode
                run.log_fault(f"Twilio stand-in answering {mode} for 15 s")
                stop.wait(15)
            run.twilio.mode = "ok"
            run.log_fault("Twilio stand-in healthy again")
        run.fault_spans.append((began, time.monotonic()))
        watcher = threading.Thread(target=watch_recovery, args=(run, fault), daemon=True)
        watcher.start()
        run.watchers.append(watcher)


def customers_meanwhile(run: Run) -> tuple[bool, str]:
    """The customers' own webhook requests while the slow clients held their connections,
    beside those of the same length of time just before: still answered, and how fast."""
    start, end = run.slow_window
    earlier = max(run.started, start - (end - start))
    during = run.world.metrics.between(start, end)
    before = run.world.metrics.between(earlier, start)
    if not during.latencies:
        return False, "no customer request was answered while the slow clients were connected"

    def figures(m: Window, seconds: float) -> str:
        lat = [x * 1000 for x in m.latencies]
        return (
            f"{len(lat)} requests ({len(lat) / seconds:.1f}/s), p50 "
            f"{statistics.median(lat):.0f} ms, p99 {pct(lat, 99):.0f} ms, max {max(lat):.0f} ms"
        )

    return not during.failed, (
        f"while they were connected {figures(during, end - start)}, {during.failed} not "
        "answered 200"
        + (
            f"; the {start - earlier:.0f} s before: {figures(before, start - earlier)}"
            if before.latencies
            else ""
        )
    )


def watch_recovery(run: Run, fault: str) -> None:
    """After a fault: how long until every message queued before its end is out (or failed
    with a reason), and whether any departure was over capacity at that moment."""
    ended, ended_at = datetime.now(UTC), time.monotonic()
    while time.monotonic() - ended_at < RECOVERY_LIMIT:
        try:
            with run.factory() as s:
                waiting = s.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(
                        Message.status.in_(UNSENT_MESSAGE_STATUSES),
                        Message.created_at <= ended,
                    )
                )
                over = invariants.oversold(s, datetime.now(UTC)) if not waiting else []
        except OperationalError:  # the postgres fault cuts the harness's connections too
            time.sleep(2)
            continue
        if not waiting:
            took = time.monotonic() - ended_at
            run.recoveries[fault] = (
                not over,
                f"backlog from before it drained {took:.0f} s after it ended; "
                + ("no departure over capacity" if not over else f"OVERSOLD {over}"),
            )
            return
        time.sleep(2)
    run.recoveries[fault] = (False, f"backlog not drained {RECOVERY_LIMIT:.0f} s after it ended")


def drive_load(run: Run) -> None:
    """Keeps --concurrency customers chatting until the time is up; guides and a sales rep
    work alongside."""
    world = run.world
    helpers = [
        threading.Thread(target=sample_capacity, args=(run,), daemon=True),
        threading.Thread(target=inject_faults, args=(run,), daemon=True),
        threading.Thread(target=staff_replies, args=(world, *SALES), daemon=True),
    ] + [
        threading.Thread(target=guide_day, args=(world, phone, code), daemon=True)
        for phone, code in run.hikes
    ]
    for thread in helpers:
        thread.start()
    with ThreadPoolExecutor(max_workers=run.args.concurrency) as pool:
        running: set = set()
        while time.monotonic() - run.started < run.duration:
            running = {f for f in running if not f.done()}
            while len(running) < run.args.concurrency:
                running.add(pool.submit(_safely, customer_journey, world, run.customers))
                run.customers += 1
            time.sleep(0.05)
        world.stop.set()
    run.elapsed = time.monotonic() - run.started


def drain(run: Run) -> None:
    """Waits for every outbound message to reach a final state (or the drain limit)."""
    started = time.monotonic()
    while time.monotonic() - started < run.args.drain_minutes * 60:
        with run.factory() as s:
            run.backlog = s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.status.in_(UNSENT_MESSAGE_STATUSES))
            )
        if run.backlog == 0:
            break
        time.sleep(5)
    run.drained = time.monotonic() - started
    time.sleep(3)  # the last status callbacks


def main() -> None:
    random.seed(5)
    run = prepare(parse_args())
    try:
        run.stack.start_redis()
        if not run.args.no_whatsapp_content:
            # The organization's rows, buttons and templates, made through the stand-in's
            # Content API as an operator makes them in Twilio.
            print(run.stack.flask("whatsapp", "sync", "--org", "soak-tours").splitlines()[0])
        run.stack.start_web()
        run.stack.start_workers()
        front = "gunicorn" if run.args.no_proxy else "nginx -> gunicorn"
        print(
            f"stack up: {front} {run.stack.url}, {run.stack.workers} workers and a clock, "
            f"Redis :{run.args.redis_port}, Twilio stand-in {run.twilio.url}, "
            f"Stripe stand-in {run.stripe.url}"
        )
        run.started = time.monotonic()
        drive_load(run)
        print(f"load done: {run.customers} customers in {run.elapsed:.0f} s; draining the backlog")
        drain(run)
        for watcher in run.watchers:
            watcher.join(30)
        report(run)
    finally:
        run.world.stop.set()
        run.stack.stop()
        run.twilio.stop()
        run.stripe.stop()


def _safely(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Exception as exc:  # a harness bug must not stop the run; it is counted
        args[0].metrics.errors[f"harness {type(exc).__name__}: {exc}"[:120]] += 1


# A turn posted this long after a fault ended counts as steady: the fault's backlog is out.
AFTER_A_FAULT = 60.0


def reply_times(run: Run) -> None:
    """Message posted -> its first and last reply accepted by the Twilio stand-in, for
    every turn answered through the REST API, and for those posted away from the faults
    (none under way, none ended within the last minute)."""

    def steady(at: float) -> bool:
        return not any(start <= at <= end + AFTER_A_FAULT for start, end in run.fault_spans)

    every = run.world.metrics.reply_times
    for label, times in (
        ("faults included", every),
        ("away from the faults", [t for t in every if steady(t[0])]),
    ):
        if not times:
            continue
        first, last = ([x[n] * 1000 for x in times] for n in (1, 2))
        within = sum(1 for x in last if x < 1000) / len(last)
        print(
            f"turns answered through the REST API, {label}: {len(times)}; message posted -> "
            f"first reply accepted p50 {statistics.median(first):.0f} ms, p99 "
            f"{pct(first, 99):.0f} ms; -> last reply p50 {statistics.median(last):.0f} ms, "
            f"p99 {pct(last, 99):.0f} ms, max {max(last):.0f} ms; {within:.1%} within 1 s"
        )


def report(run: Run) -> None:
    metrics, twilio, stripe, factory = run.world.metrics, run.twilio, run.stripe, run.factory
    elapsed, customers, backlog, drained = run.elapsed, run.customers, run.backlog, run.drained
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
                Message.status != MessageStatus.REPLY,
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
    if not run.args.no_whatsapp_content:
        kinds = Counter(
            next(iter(twilio.contents[m.content_sid]["types"])).removeprefix("twilio/")
            for m in twilio.sent
            if m.content_sid in twilio.contents
        )
        print(
            f"WhatsApp content: {len(twilio.contents)} made through the Content API; "
            f"{sum(kinds.values())} content messages accepted ("
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            + f"), {len(twilio.refused_content)} refused as invalid"
        )
    reply_times(run)
    print("journeys: " + ", ".join(f"{k} {v}" for k, v in sorted(metrics.journeys.items())))
    print("faults injected:")
    for line in run.faults or ["none"]:
        print(f"  {line}")
    print("recovery after each fault:")
    for fault, (ok, outcome) in run.recoveries.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {fault}: {outcome}")
    front = "straight to gunicorn" if run.args.no_proxy else "nginx in front"
    print(f"hostile clients ({front}):")
    for what, (ok, outcome) in run.hostile.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {what}: {outcome}")
    with factory() as s:
        now = datetime.now(UTC)
        checks = {
            "no departure oversold": invariants.never_oversold(
                s, now, run.oversold_seen, run.samples
            ),
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
            "no customer holds one departure twice (taps on old buttons included)": (
                invariants.one_booking_per_departure(s)
            ),
        }
        if not run.args.no_whatsapp_content:
            checks["each turn's replies accepted by Twilio in the order said, none invalid"] = (
                invariants.turns_in_order(s, twilio)
            )
    print("invariants:")
    for name, (ok, detail) in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    server_errors = sum(n for code, n in metrics.statuses.items() if code >= 500)
    print(f"  {'PASS' if server_errors == 0 else 'FAIL'}  no 5xx from the webhook: {server_errors}")


if __name__ == "__main__":
    main()
