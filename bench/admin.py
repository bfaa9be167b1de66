"""Benchmark: how long each admin page takes to render with a realistic month of data on
PostgreSQL (the demo catalog plus 1,000 bookings, 3,000 conversations with their messages,
leads, payments, incidents and timeline rows). Prints figures; asserts nothing.

    python -m bench.admin [--bookings 1000] [--conversations 3000] [--rounds 30]

Pages are rendered in-process through Flask's test client, logged in as the owner, so the
figure is the server's time for the page (queries and templates), without the network.
Uses its own PostgreSQL database (tourbot_bench_admin), rebuilt each run.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from bench import pct, production_secrets, rebuild_database
from config import Config
from models import (
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Departure,
    Guide,
    Incident,
    Lead,
    Message,
    Organization,
    Payment,
    StaffUser,
    TimelineEvent,
)
from models.db import make_engine, make_session_factory
from services import demo, inventory
from services.references import ALPHABET

DB = "tourbot_bench_admin"
OWNER = ("owner@adventure-treks.example", "demo-owner-1")


def populate(url: str, n_bookings: int, n_conversations: int) -> None:
    rng = random.Random(11)
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        demo.load_demo(s, now)
        s.commit()
        org = s.scalars(select(Organization)).one()
        staff_ids = list(s.scalars(select(StaffUser.id)))
        guide = s.scalars(select(Guide)).first()
        # Two departures today and two tomorrow, so the dashboard has a day to show.
        template = s.scalars(select(Departure).order_by(Departure.starts_at)).first()
        assert template is not None and guide is not None
        local_today = now.astimezone(org.tz).replace(hour=8, minute=7, second=0, microsecond=0)
        for n, start in enumerate(
            (local_today, local_today.replace(hour=14), local_today + timedelta(days=1))
        ):
            s.add(
                Departure(
                    organization_id=org.id,
                    tour_id=template.tour_id,
                    code=f"BENCH{n}",
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    capacity=40,
                    guide_id=guide.id,
                )
            )
        s.commit()
        departures = list(s.scalars(select(Departure).order_by(Departure.starts_at)))
        seats_left = {d.id: d.capacity for d in departures}
        org_id, currency = org.id, org.currency
        price = {d.id: d.tour.price_tiers[0].price_minor for d in departures}

    conn_engine = make_engine(url)
    with conn_engine.begin() as conn:
        customers = conn.execute(
            insert(Customer).returning(Customer.id, Customer.phone, sort_by_parameter_order=True),
            [
                {
                    "organization_id": org_id,
                    "phone": f"+1202{7000000 + i:07d}",
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "opted_out": i % 97 == 0,
                    "created_at": now - timedelta(days=rng.randint(0, 30)),
                    "updated_at": now,
                }
                for i in range(n_conversations)
            ],
        ).all()
        statuses = ["open"] * 6 + ["pending"] * 1 + ["resolved"] * 13
        conversations = conn.execute(
            insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
            [
                {
                    "organization_id": org_id,
                    "customer_id": cid,
                    "channel": "whatsapp" if i % 3 else "sms",
                    "state": "idle",
                    "slots": {},
                    "status": (status := rng.choice(statuses)),
                    "handoff": status == "pending",
                    "assigned_to_id": rng.choice(staff_ids),
                    "unread_count": rng.randint(1, 3) if status != "resolved" else 0,
                    "last_inbound_at": (last := now - timedelta(minutes=rng.randint(1, 43200))),
                    "last_message_at": last,
                    "created_at": last - timedelta(days=1),
                    "updated_at": last,
                }
                for i, (cid, _) in enumerate(customers)
            ],
        ).all()
        messages = []
        for (conv_id,), (_, phone) in zip(conversations, customers, strict=True):
            at = now - timedelta(minutes=rng.randint(60, 43200))
            for k in range(5):
                inbound = k % 2 == 0
                messages.append(
                    {
                        "organization_id": org_id,
                        "conversation_id": conv_id,
                        "direction": "inbound" if inbound else "outbound",
                        "channel": "whatsapp",
                        "from_phone": phone if inbound else "+14155238886",
                        "to_phone": "+14155238886" if inbound else phone,
                        "body": rng.choice(SAYINGS),
                        "media": [],
                        "status": "received" if inbound else rng.choice(DELIVERY),
                        "kind": "customer" if inbound else "reply",
                        "template_variables": {},
                        "attempts": 0,
                        "created_at": at + timedelta(minutes=k),
                        "updated_at": at + timedelta(minutes=k),
                    }
                )
        conn.execute(insert(Message), messages)
        leads = conn.execute(
            insert(Lead).returning(Lead.id, sort_by_parameter_order=True),
            [
                {
                    "organization_id": org_id,
                    "reference": _ref("LD", i),
                    "customer_id": customers[i][0],
                    "source": rng.choice(["whatsapp", "sms", "booking_failed"]),
                    "status": rng.choice(["new", "contacted", "quoted", "won", "lost"]),
                    "priority": "normal",
                    "assigned_to_id": rng.choice(staff_ids),
                    "party": {"adult": 2},
                    "context": {},
                    "created_at": now - timedelta(days=rng.randint(0, 30)),
                    "updated_at": now,
                }
                for i in range(n_conversations // 2)
            ],
        ).all()
        rows, pays, events = [], [], []
        for i in range(n_bookings):
            dep_id = rng.choice([d for d, left in seats_left.items() if left >= 3])
            seats = rng.randint(1, 3)
            seats_left[dep_id] -= seats
            status = rng.choice(
                [BookingStatus.CONFIRMED] * 7 + [BookingStatus.HELD] * 2 + [BookingStatus.CANCELLED]
            )
            total = price[dep_id] * seats
            created = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
            rows.append(
                {
                    "organization_id": org_id,
                    "reference": _ref("BK", i),
                    "customer_id": customers[i % len(customers)][0],
                    "departure_id": dep_id,
                    "lead_id": leads[i % len(leads)][0],
                    "status": status,
                    "source": "whatsapp",
                    "party": {"adult": seats},
                    "seats": seats,
                    "dietary_notes": "vegetarian" if i % 9 == 0 else None,
                    "currency": currency,
                    "lines": [],
                    "total_minor": total,
                    "deposit_minor": total * 3 // 10,
                    "paid_minor": total if status == BookingStatus.CONFIRMED else 0,
                    "hold_expires_at": now + timedelta(hours=rng.randint(1, 24)),
                    "confirmed_at": created if status == BookingStatus.CONFIRMED else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        booking_ids = conn.execute(
            insert(Booking).returning(Booking.id, sort_by_parameter_order=True), rows
        ).all()
        for (bid,), row in zip(booking_ids, rows, strict=True):
            events.append(
                _event(org_id, "booking", bid, row["reference"], "booking.held", row["created_at"])
            )
            if row["status"] == BookingStatus.CONFIRMED:
                pays.append(
                    {
                        "organization_id": org_id,
                        "booking_id": bid,
                        "kind": "full",
                        "amount_minor": row["total_minor"],
                        "currency": currency,
                        "status": "paid",
                        "provider": "fake",
                        "paid_at": row["confirmed_at"],
                        "refunded_minor": 0,
                        "disputed": False,
                        "created_at": row["created_at"],
                        "updated_at": row["created_at"],
                    }
                )
                events.append(
                    _event(
                        org_id,
                        "booking",
                        bid,
                        row["reference"],
                        "booking.confirmed",
                        row["created_at"],
                    )
                )
        conn.execute(insert(Payment), pays)
        conn.execute(insert(TimelineEvent), events)
        conn.execute(
            insert(Incident),
            [
                {
                    "organization_id": org_id,
                    "departure_id": rng.choice(list(seats_left)),
                    "guide_id": guide.id,
                    "severity": rng.choice(["high", "medium", "low"]),
                    "status": "open" if i < 4 else "resolved",
                    "text": "Guest feeling unwell at the viewpoint",
                    "opened_at": now - timedelta(hours=i * 5),
                    "resolved_at": None if i < 4 else now - timedelta(hours=i * 5 - 1),
                    "response_minutes": None if i < 4 else 60,
                }
                for i in range(30)
            ],
        )


def _ref(prefix: str, n: int) -> str:
    """A reference in the real alphabet ("BK-22A7C"), so searches treat it as one."""
    chars = []
    for _ in range(5):
        n, digit = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return f"{prefix}-{''.join(reversed(chars))}"


def _event(org_id: int, kind: str, oid: int, ref: str, event: str, at: datetime) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "object_type": kind,
        "object_id": oid,
        "object_ref": ref,
        "event_type": event,
        "actor": "bench",
        "source": "whatsapp",
        "content": {},
        "created_at": at,
    }


FIRST = ["Emma", "Liam", "Sofia", "Noah", "Ava", "Mia", "Lucas", "Aria", "Ravi", "Yuki", "Omar"]
LAST = ["Wilson", "Chen", "Rossi", "Patel", "Johnson", "Garcia", "Kim", "Shah", "Novak", "Silva"]
SAYINGS = [
    "Hi! Is the sunset tour on this Saturday?",
    "2 adults and 1 child please",
    "Here are the times that work for you.",
    "yes please hold it",
    "Thanks, see you there!",
]
DELIVERY = ["sent", "delivered", "delivered", "read", "read", "failed"]


def measure(url: str, rounds: int) -> list[tuple[str, list[float]]]:
    from app import create_app

    config = Config(
        {
            **production_secrets(),
            "DATABASE_URL": url,
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
            "RUN_INPROCESS_SCHEDULER": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    app = create_app(config)
    app.config["WTF_CSRF_ENABLED"] = False  # logging in from a script; pages are unchanged
    client = app.test_client()
    assert (
        client.post(
            "/admin/login", data=dict(zip(("email", "password"), OWNER, strict=True))
        ).status_code
        == 302
    )

    factory = make_session_factory(make_engine(url))
    with factory() as s:
        busiest = max(
            inventory.occupancy_many(
                s, list(s.scalars(select(Departure))), datetime.now(UTC)
            ).items(),
            key=lambda kv: kv[1].taken,
        )[0]
        dep_code = s.get(Departure, busiest).code
        conv_id = s.scalars(select(Conversation.id).where(Conversation.status == "pending")).first()
        customer = s.scalars(select(Customer).where(Customer.phone.like("+1202%"))).first()
        lead_ref = s.scalars(select(Lead.reference).order_by(Lead.id)).first()
        booking_ref = s.scalars(
            select(Booking.reference).where(Booking.status == "confirmed")
        ).first()
        incident_id = s.scalars(select(Incident.id)).first()
    surname = customer.name.split()[1]
    typo = surname[:3] + surname[4:]  # "Wilson" -> "Wilon": found by closeness only
    today = datetime.now(UTC).date()
    week = f"date={today}&to={today + timedelta(days=6)}"
    pages = {
        "dashboard": "/admin/",
        "inbox": "/admin/inbox",
        "inbox (waiting)": "/admin/inbox?status=pending",
        "inbox poll": "/admin/inbox/poll",
        "conversation": f"/admin/inbox/{conv_id}",
        "leads board": "/admin/leads",
        "lead": f"/admin/leads/{lead_ref}",
        "departures (14 days)": "/admin/departures",
        "departure (busiest)": f"/admin/departures/{dep_code}",
        "manifest (busiest)": f"/admin/departures/{dep_code}/manifest",
        "incidents": "/admin/incidents",
        "incident": f"/admin/incidents/{incident_id}",
        "search by name": f"/admin/search?q={surname}",
        # The phone as a person types it: "(202) 700-0000"
        "search by phone": "/admin/search?q="
        + f"({customer.phone[2:5]}) {customer.phone[5:8]}-{customer.phone[8:]}",
        "search by reference": f"/admin/search?q={booking_ref.lower()}",
        "search, name typo": f"/admin/search?q={customer.name.split()[0]} {typo}",
        "search, ref no prefix": f"/admin/search?q={booking_ref[3:].lower()}",
        "caller lookup": "/admin/customers/lookup?phone="
        + f"({customer.phone[2:5]}) {customer.phone[5:8]}-{customer.phone[8:]}",
        "new booking (a week)": f"/admin/bookings/new?{week}&tier_adult=2&tier_child=1",
        "booking": f"/admin/bookings/{booking_ref}",
        "customer": f"/admin/customers/{customer.id}",
        "reports (this month)": "/admin/reports",
        "reports (30 days)": "/admin/reports?from="
        + (datetime.now(UTC).date() - timedelta(days=29)).isoformat(),
        "reports CSV (departures)": "/admin/reports/departures.csv",
        "crisis (next 7 days)": "/admin/crisis?to="
        + (datetime.now(UTC).date() + timedelta(days=6)).isoformat(),
        "team": "/admin/access",
        "settings": "/admin/settings",
    }
    results = []
    for name, path in pages.items():
        timings = []
        for i in range(rounds + 3):
            start = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if i >= 3:  # the first renders compile templates and warm caches
                timings.append(elapsed)
        results.append((name, timings))
        if name == "search by phone":
            assert re.search(r"/admin/customers/\d+", response.text), "phone search found nothing"
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database", default=DB, help="rebuilt each run")
    args = parser.parse_args()
    url = rebuild_database(args.database)
    start = time.perf_counter()
    populate(url, args.bookings, args.conversations)
    # As autovacuum would have by then: without statistics the planner takes the fresh
    # tables for empty and picks plans no production database would.
    with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    print(
        f"data: {args.bookings} bookings, {args.conversations} conversations "
        f"({args.conversations * 5} messages), {args.conversations // 2} leads "
        f"in {time.perf_counter() - start:.1f} s"
    )
    print(f"{'page':<24}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}")
    worst = 0.0
    for name, timings in measure(url, args.rounds):
        p95 = pct(timings, 95)
        worst = max(worst, p95)
        print(f"{name:<24}{statistics.median(timings):>10.1f}{p95:>9.1f}{max(timings):>9.1f}")
    print(f"slowest p95: {worst:.1f} ms (aim: every page under 200 ms)")


if __name__ == "__main__":
    main()
