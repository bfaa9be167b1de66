"""Benchmark: how long each admin page and report takes to render with a realistic year
of data on PostgreSQL (the demo catalog plus a year of daily departures with guides,
10,000 bookings in every state with their payments and refunds, 30,000 conversations with
about 240,000 messages, 15,000 leads, quotes, tasks, notes, person requests, incidents and
timeline rows). Prints figures and the load average; asserts nothing.

    python -m bench.admin [--bookings 10000] [--conversations 30000] [--rounds 30]
                          [--reuse] [--only NAME]

Pages are rendered in-process through Flask's test client, logged in as the owner, so the
figure is the server's time for the page (queries and templates), without the network.
Uses its own PostgreSQL database (tourbot_bench_admin), rebuilt each run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import func, select, text

from bench import SERVER, pct, production_secrets, rebuild_database
from cli.db import alembic_config
from config import Config
from models import (
    Booking,
    Conversation,
    Customer,
    Departure,
    Guide,
    Incident,
    Lead,
    Organization,
    StaffUser,
    Tour,
)
from models.db import make_engine, make_session_factory
from services import demo, inventory, message_costs, owner_report
from services.references import ALPHABET
from services.runtime import settle_garbage_collector

DB = "tourbot_bench_admin"
OWNER = ("owner@adventure-treks.example", "demo-owner-1")


def populate(url: str, n_bookings: int, n_conversations: int) -> str:
    """The demo catalog, then a year of trading around today: daily departures of the
    day tours (two a day for two of them) and a weekly trek, from 300 days ago to 65 days
    ahead, with guides; bookings in the states a year leaves them in; conversations with
    their messages, leads, quotes, tasks, notes, person requests, incidents and timeline
    rows. Everything after the catalog goes in by COPY (a year loads in under a minute)."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        demo.load_demo(s, now)
        s.commit()
        org = s.scalars(select(Organization)).one()
        staff_ids = list(s.scalars(select(StaffUser.id)))
        tours = {t.slug: t for t in s.scalars(select(Tour))}
        day_tours = [tours[k] for k in ("city-walk", "sunset-tour", "food-tour")]
        for n, name in enumerate(GUIDES):
            s.add(
                Guide(
                    organization_id=org.id,
                    name=name,
                    phone=f"+97798000100{n:02d}",
                    trip_fee_minor=6000,
                    tours=day_tours,
                )
            )
        s.commit()
        guides_for = {
            t.id: [g.id for g in s.scalars(select(Guide)) if t in g.tours] for t in tours.values()
        }
        org_id, currency, tz = org.id, org.currency, org.tz
        tiers = {t.id: {p.code: p.price_minor for p in t.price_tiers} for t in tours.values()}
        prefixes = {t.id: t.code_prefix for t in tours.values()}
        durations = {t.id: t.duration_minutes for t in tours.values()}

    raw = make_engine(url).raw_connection()
    ids = _Ids(raw)
    # (tour, local time, capacity, every n days)
    schedule = [
        (tours["city-walk"].id, (8, 5), 20, 1),
        (tours["city-walk"].id, (14, 5), 20, 1),
        (tours["sunset-tour"].id, (17, 35), 24, 1),
        (tours["food-tour"].id, (11, 5), 12, 1),
        (tours["food-tour"].id, (18, 5), 12, 1),
        (tours["ebc-trek"].id, (6, 5), 12, 7),
    ]
    today = now.astimezone(tz).date()
    departures: list[dict[str, Any]] = []
    for offset in range(-300, 66):
        day = today + timedelta(days=offset)
        for tour_id, (hour, minute), capacity, every in schedule:
            if offset % every:
                continue
            start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            past = start < now
            guide = rng.choice(guides_for[tour_id]) if past or rng.random() < 0.8 else None
            departures.append(
                {
                    "id": ids.next("departures"),
                    "organization_id": org_id,
                    "tour_id": tour_id,
                    "code": f"{prefixes[tour_id]}{day:%y%m%d}{hour:02d}{minute:02d}",
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=durations[tour_id]),
                    "capacity": capacity,
                    "status": "completed" if start + timedelta(days=1) < now else "open",
                    "guide_id": guide,
                    "checked_in_at": start if past else None,
                    "checked_out_at": start + timedelta(minutes=durations[tour_id])
                    if past
                    else None,
                    "created_at": start - timedelta(days=120),
                    "updated_at": start - timedelta(days=120),
                }
            )
    _copy(raw, "departures", departures)
    assignments = [
        {
            "id": ids.next("guide_assignments"),
            "organization_id": org_id,
            "departure_id": d["id"],
            "guide_id": d["guide_id"],
            "role": "lead",
            "fee_minor": 6000,
            "status": "accepted",
            "offered_at": d["starts_at"] - timedelta(days=10),
            "responded_at": d["starts_at"] - timedelta(days=10, minutes=-20),
        }
        for d in departures
        if d["guide_id"]
    ]
    _copy(raw, "guide_assignments", assignments)

    # Customers: the first 8,000 or so book (a quarter of them more than once), half of
    # all enquire (a lead), each writes on one channel and some on both.
    n_customers = n_conversations * 14 // 15
    customers: list[dict[str, Any]] = []
    for i in range(n_customers):
        customers.append(
            {
                "id": ids.next("customers"),
                "organization_id": org_id,
                "phone": f"+1202{7000000 + i:07d}",
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}" if i % 11 else None,
                "email": f"guest{i}@example.com" if i % 3 == 0 else None,
                "language": rng.choice(["en"] * 6 + ["es", "pt", "fr", "de"]),
                "opted_out": i % 97 == 0,
                "created_at": now - timedelta(days=rng.randint(0, 365)),
                "updated_at": now,
            }
        )
    _copy(raw, "customers", customers)
    leads: list[dict[str, Any]] = []
    for i in range(n_conversations // 2):
        c = customers[i]
        tour_id = rng.choice(list(tiers))
        leads.append(
            {
                "id": ids.next("leads"),
                "organization_id": org_id,
                "reference": _ref("LD", i),
                "customer_id": c["id"],
                "source": rng.choice(["whatsapp"] * 6 + ["sms"] * 3 + ["booking_failed"]),
                "status": rng.choice(
                    ["won"] * 4 + ["lost"] * 3 + ["quoted", "contacted", "new"]
                    if c["created_at"] < now - timedelta(days=14)
                    else ["new", "contacted", "quoted", "won"]
                ),
                "priority": "normal",
                "assigned_to_id": rng.choice(staff_ids),
                "tour_id": tour_id,
                "party": {"adult": rng.randint(1, 4)},
                "notes": "vegetarian, pickup from Hotel Yak" if i % 13 == 0 else None,
                "context": {},
                "created_at": c["created_at"],
                "updated_at": c["created_at"] + timedelta(hours=2),
            }
        )
    _copy(raw, "leads", leads)

    # Conversations and their messages, spread over the year, recent ones still open.
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    statuses = ["open"] * 6 + ["pending"] + ["resolved"] * 13
    for i in range(n_conversations):
        c = customers[i % n_customers]
        channel = ("whatsapp" if i % 3 else "sms") if i < n_customers else "other"
        if channel == "other":
            channel = "sms" if (i % n_customers) % 3 else "whatsapp"
        last = now - timedelta(minutes=rng.randint(1, 525600))
        recent = last > now - timedelta(days=3)
        status = rng.choice(statuses) if recent else "resolved"
        conv_id = ids.next("conversations")
        conversations.append(
            {
                "id": conv_id,
                "organization_id": org_id,
                "customer_id": c["id"],
                "channel": channel,
                "state": "idle",
                "slots": {},
                "lead_id": leads[i % n_customers]["id"] if i % n_customers < len(leads) else None,
                "handoff": status == "pending",
                "status": status,
                "assigned_to_id": rng.choice(staff_ids),
                "unread_count": rng.randint(1, 3) if status != "resolved" else 0,
                "last_inbound_at": last,
                "last_message_at": last,
                "created_at": last - timedelta(days=1),
                "updated_at": last,
            }
        )
        n_messages = rng.randint(3, 13)
        at = last - timedelta(minutes=(n_messages - 1) * 2)
        # As bot.engine keeps it: the time of the newest customer message.
        conversations[-1]["last_inbound_at"] = at + timedelta(
            minutes=2 * ((n_messages - 1) // 2 * 2)
        )
        for k in range(n_messages):
            inbound = k % 2 == 0
            by_person = not inbound and rng.random() < 0.05
            body = rng.choice(SAYINGS)
            # As the writers record it (services/message_costs.billing).
            category = None if inbound else "sms" if channel == "sms" else "service"
            units, country = (
                (None, None)
                if inbound
                else message_costs.billing(channel, category, None, c["phone"], body)
            )
            messages.append(
                {
                    "id": ids.next("messages"),
                    "organization_id": org_id,
                    "conversation_id": conv_id,
                    "direction": "inbound" if inbound else "outbound",
                    "channel": channel,
                    "from_phone": c["phone"] if inbound else "+14155238886",
                    "to_phone": "+14155238886" if inbound else c["phone"],
                    "body": body,
                    "media": [],
                    "status": "received" if inbound else rng.choice(DELIVERY),
                    "kind": "customer" if inbound else "agent" if by_person else "reply",
                    "sent_by_id": rng.choice(staff_ids) if by_person else None,
                    "template_variables": {},
                    "category": category,
                    "units": units,
                    "country": country,
                    "attempts": 0 if inbound else 1,
                    "sent_at": None if inbound else at + timedelta(minutes=2 * k),
                    "created_at": at + timedelta(minutes=2 * k),
                    "updated_at": at + timedelta(minutes=2 * k),
                }
            )
    _copy(raw, "conversations", conversations)
    _copy(raw, "messages", messages)

    # Bookings: each on a departure with room, made days or weeks before it, in the state
    # a year leaves it: past trips completed (a few no-shows), cancelled (most refunded)
    # or lapsed holds; coming ones paid, on a deposit, held, cancelled or lapsed.
    seats_left = {d["id"]: d["capacity"] for d in departures}
    bookable = [d for d in departures if d["starts_at"] > now - timedelta(days=300)]
    rows: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    quotes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    lead_of = {ld["customer_id"]: ld for ld in leads}
    bookers = n_bookings * 4 // 5
    for i in range(n_bookings):
        party = {"adult": rng.choice([1, 2, 2, 2, 3, 4])}
        if rng.random() < 0.25:
            party["child"] = rng.randint(1, 2)
        seats = sum(party.values())
        while True:
            dep = rng.choice(bookable)
            if seats_left[dep["id"]] >= seats:
                break
        seats_left[dep["id"]] -= seats
        prices = tiers[dep["tour_id"]]
        total = sum(prices.get(k, prices["adult"]) * n for k, n in party.items())
        deposit = total * 3 // 10
        start = dep["starts_at"]
        created = start - timedelta(days=rng.expovariate(1 / 12), minutes=rng.randint(0, 600))
        if created > now:
            created = now - timedelta(minutes=rng.randint(5, 7 * 1440))
        r = rng.random()
        if start < now:
            status, paid, refunded = (
                ("completed", total, 0)
                if r < 0.72
                else ("no_show", total, 0)
                if r < 0.75
                else ("cancelled", 0, total if rng.random() < 0.7 else 0)
                if r < 0.87
                else ("expired", 0, 0)
            )
        else:
            status, paid, refunded = (
                ("confirmed", total, 0)
                if r < 0.5
                else ("confirmed", deposit, 0)
                if r < 0.7
                else ("held", 0, 0)
                if r < 0.8
                else ("cancelled", 0, total if rng.random() < 0.6 else deposit)
                if r < 0.88
                else ("cancelled", 0, 0)
                if r < 0.93
                else ("expired", 0, 0)
            )
        if status == "held":
            created = now - timedelta(minutes=rng.randint(5, 20 * 60))
        customer = customers[rng.randrange(bookers) if i >= bookers else i]
        lead = lead_of.get(customer["id"])
        bid = ids.next("bookings")
        ref = _ref("BK", i)
        confirmed_at = created + timedelta(minutes=rng.randint(2, 600))
        cancelled = status == "cancelled"
        quote_id = None
        if lead is not None and i % 2 == 0:
            quote_id = ids.next("quotes")
            quotes.append(
                {
                    "id": quote_id,
                    "organization_id": org_id,
                    "reference": _ref("QT", i),
                    "lead_id": lead["id"],
                    "customer_id": customer["id"],
                    "departure_id": dep["id"],
                    "party": party,
                    "lines": [],
                    "currency": currency,
                    "subtotal_minor": total,
                    "discount_minor": 0,
                    "total_minor": total,
                    "deposit_minor": deposit,
                    "valid_until": created + timedelta(days=2),
                    "created_at": created - timedelta(minutes=30),
                    "updated_at": created - timedelta(minutes=30),
                }
            )
        rows.append(
            {
                "id": bid,
                "organization_id": org_id,
                "reference": ref,
                "customer_id": customer["id"],
                "departure_id": dep["id"],
                "lead_id": lead["id"] if lead else None,
                "quote_id": quote_id,
                "status": status,
                "source": rng.choice(["whatsapp"] * 6 + ["sms"] * 2 + ["admin"] * 2),
                "party": party,
                "seats": seats,
                "dietary_notes": rng.choice(DIETS) if i % 8 == 0 else None,
                "pickup_notes": "Hotel Yak & Yeti, Durbar Marg" if i % 10 == 0 else None,
                "accessibility_notes": "uses a cane, slow on stairs" if i % 40 == 0 else None,
                "guest_names": [],
                "currency": currency,
                "lines": [],
                "total_minor": total,
                "discount_minor": 0,
                "deposit_minor": deposit,
                "paid_minor": paid,
                "hold_expires_at": now + timedelta(hours=rng.randint(1, 20))
                if status == "held"
                else created + timedelta(hours=24),
                "confirmed_at": confirmed_at if paid or refunded else None,
                "cancelled_at": confirmed_at + timedelta(days=1) if cancelled else None,
                "status_reason": "customer asked to cancel" if cancelled else None,
                "attendance": "completed" if status == "completed" else None,
                "pay_token": f"bench{i:011d}",
                "created_at": created,
                "updated_at": created,
            }
        )
        events.append(_event(org_id, "booking", bid, ref, "booking.held", created))
        received = paid + refunded
        if received:
            split = received == total and rng.random() < 0.3
            for kind, amount in (
                (("deposit", deposit), ("balance", total - deposit))
                if split
                else ((("full" if received == total else "deposit"), received),)
            ):
                pid = ids.next("payments")
                back = amount if refunded else 0
                pays.append(
                    {
                        "id": pid,
                        "organization_id": org_id,
                        "booking_id": bid,
                        "kind": kind,
                        "amount_minor": amount,
                        "currency": currency,
                        "status": "refunded" if back else "paid",
                        "provider": "fake" if i % 10 else "manual",
                        "method": None if i % 10 else "cash",
                        "paid_at": confirmed_at,
                        "refunded_minor": back,
                        "disputed": False,
                        "created_at": confirmed_at,
                        "updated_at": confirmed_at,
                    }
                )
                if back:
                    refunds.append(
                        {
                            "id": ids.next("refunds"),
                            "organization_id": org_id,
                            "payment_id": pid,
                            "amount_minor": back,
                            "reason": "cancellation",
                            "created_at": confirmed_at + timedelta(days=1),
                        }
                    )
            events.append(_event(org_id, "booking", bid, ref, "booking.confirmed", confirmed_at))
        if cancelled:
            events.append(
                _event(org_id, "booking", bid, ref, "booking.cancelled", rows[-1]["cancelled_at"])
            )
    _copy(raw, "quotes", quotes)
    _copy(raw, "bookings", rows)
    _copy(raw, "payments", pays)
    _copy(raw, "refunds", refunds)
    for ld in leads:
        events.append(
            _event(org_id, "lead", ld["id"], ld["reference"], "lead.created", ld["created_at"])
        )
    _copy(raw, "timeline_events", events)

    # What people did: tasks (mostly done), inbox notes, waits for a person, incidents.
    conv_of = {c["customer_id"]: c for c in conversations}
    tasks: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    waits: list[dict[str, Any]] = []
    for i in range(3000):
        c = customers[rng.randrange(n_customers)]
        made = now - timedelta(minutes=rng.randint(10, 525600))
        done = made < now - timedelta(days=2) or rng.random() < 0.5
        tasks.append(
            {
                "id": ids.next("tasks"),
                "organization_id": org_id,
                "kind": rng.choice(["question", "follow_up", "complaint", "media", "handoff"]),
                "status": "done" if done else "open",
                "priority": "urgent" if i % 25 == 0 else "normal",
                "title": "Answer: can we bring our dog?",
                "details": "",
                "customer_id": c["id"],
                "conversation_id": conv_of[c["id"]]["id"],
                "assigned_to_id": rng.choice(staff_ids),
                "done_at": made + timedelta(hours=3) if done else None,
                "done_by_id": rng.choice(staff_ids) if done else None,
                "created_at": made,
                "updated_at": made,
            }
        )
    for i in range(4000):
        conv = conversations[rng.randrange(n_conversations)]
        asked = conv["last_message_at"] - timedelta(minutes=30)
        waiting = conv["status"] == "pending"
        waits.append(
            {
                "id": ids.next("person_requests"),
                "organization_id": org_id,
                "conversation_id": conv["id"],
                "requested_at": asked,
                "closed_at": None if waiting else asked + timedelta(minutes=rng.randint(1, 240)),
                "answered_by_id": None if waiting else rng.choice(staff_ids),
            }
        )
        if i % 2 == 0:
            notes.append(
                {
                    "id": ids.next("conversation_notes"),
                    "organization_id": org_id,
                    "conversation_id": conv["id"],
                    "author_id": rng.choice(staff_ids),
                    "body": "Called back, prefers the afternoon walk.",
                    "created_at": asked + timedelta(minutes=5),
                }
            )
    _copy(raw, "tasks", tasks)
    _copy(raw, "person_requests", waits)
    _copy(raw, "conversation_notes", notes)
    done_trips = [d for d in departures if d["starts_at"] < now]
    _copy(
        raw,
        "incidents",
        [
            {
                "id": ids.next("incidents"),
                "organization_id": org_id,
                "departure_id": (d := done_trips[-1 - i * 3])["id"],
                "guide_id": d["guide_id"],
                "severity": rng.choice(["high", "medium", "low"]),
                "status": "open" if i < 4 else "resolved",
                "text": "Guest feeling unwell at the viewpoint",
                "opened_at": d["starts_at"] + timedelta(hours=1),
                "resolved_at": None if i < 4 else d["starts_at"] + timedelta(hours=2),
                "response_minutes": None if i < 4 else 60,
            }
            for i in range(120)
        ],
    )
    ids.finish()
    raw.commit()
    raw.close()
    return (
        f"{len(departures)} departures, {len(rows)} bookings, {len(pays)} payments, "
        f"{len(refunds)} refunds, {len(customers)} customers, {len(conversations)} "
        f"conversations, {len(messages)} messages, {len(leads)} leads, {len(quotes)} quotes, "
        f"{len(tasks)} tasks, {len(events)} timeline rows"
    )


class _Ids:
    """Ids handed out in Python so rows can point at each other before they are copied;
    the sequences are moved past them at the end."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.last: dict[str, int] = {}

    def next(self, table: str) -> int:
        if table not in self.last:
            with self.raw.cursor() as cur:
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                self.last[table] = cur.fetchone()[0]
        self.last[table] += 1
        return self.last[table]

    def finish(self) -> None:
        with self.raw.cursor() as cur:
            for table, last in self.last.items():
                cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, last))


def _copy(raw: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows (dicts with the same keys) into a table: dicts and lists as JSON."""
    if not rows:
        return
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                "\\N"
                if (v := row[c]) is None
                else json.dumps(v)
                if isinstance(v, dict | list)
                else v.isoformat()
                if isinstance(v, datetime)
                else v
                for c in columns
            ]
        )
    buffer.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            buffer,
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


# Names as varied as a year of visitors (about 3,000 pairs): a surname search finds
# hundreds, a full name a handful, as in a real customer list.
FIRST = [
    "Emma",
    "Liam",
    "Sofia",
    "Noah",
    "Ava",
    "Mia",
    "Lucas",
    "Aria",
    "Ravi",
    "Yuki",
    "Omar",
    "Chloe",
    "Ethan",
    "Grace",
    "Hannah",
    "Isaac",
    "Julia",
    "Kai",
    "Leila",
    "Mateo",
    "Nora",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Xavier",
    "Yara",
    "Zoe",
    "Anders",
    "Bianca",
    "Carlos",
    "Dmitri",
    "Elif",
    "Farah",
    "Giulia",
    "Hiro",
    "Ines",
    "Jonas",
    "Katja",
    "Lars",
    "Mei",
    "Nikhil",
    "Olga",
    "Pablo",
    "Sanjay",
    "Tomas",
]
LAST = [
    "Wilson",
    "Chen",
    "Rossi",
    "Patel",
    "Johnson",
    "Garcia",
    "Kim",
    "Shah",
    "Novak",
    "Silva",
    "Muller",
    "Schmidt",
    "Dubois",
    "Martin",
    "Bernard",
    "Moreau",
    "Costa",
    "Santos",
    "Ferreira",
    "Lopez",
    "Gonzalez",
    "Fernandez",
    "Nakamura",
    "Tanaka",
    "Suzuki",
    "Ivanov",
    "Petrov",
    "Kowalski",
    "Nowak",
    "Jensen",
    "Hansen",
    "Larsen",
    "Eriksson",
    "Lindberg",
    "Murphy",
    "Kelly",
    "OBrien",
    "Walsh",
    "Smith",
    "Brown",
    "Taylor",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Hughes",
    "Lewis",
    "Clarke",
    "Hall",
    "Young",
    "Hernandez",
    "Romero",
    "Alvarez",
    "Torres",
    "Ramos",
    "Reyes",
    "Cruz",
    "Morales",
    "Ortiz",
    "Gutierrez",
]
SAYINGS = [
    "Hi! Is the sunset tour on this Saturday?",
    "hey do u have space tmrw for the city walk",
    "we are 2 adults 2 kids, one is vegetarian",
    "can you pick us up from hotel yak and yeti?",
    "Your booking BK-7K3Q9 is confirmed. See you at 08:00!",
    "2 adults and 1 child please",
    "Here are the times that work for you.",
    "yes please hold it",
    "Thanks, see you there!",
]
GUIDES = ["Sita Rai", "Pasang Sherpa", "Nima Lama", "Kiran Shrestha", "Anil Tamang", "Gita Magar"]
DIETS = ["vegetarian", "vegan", "no nuts (allergy)", "gluten-free", "halal"]
DELIVERY = ["sent", "delivered", "delivered", "read", "read", "failed"]


def measure(url: str, rounds: int, only: str | None = None) -> list[tuple[str, list[float]]]:
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

    # As gunicorn's post_worker_init leaves a web worker (gunicorn.conf.py): what the app
    # keeps for its life frozen out of the collector's view, so a full collection does not
    # walk it (up to 130 ms a render here: the p95 of pages that allocate much).
    settle_garbage_collector()
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        today = org.local(now).date()
        soon = list(
            s.scalars(
                select(Departure).where(
                    Departure.starts_at > now, Departure.starts_at < now + timedelta(days=14)
                )
            )
        )
        busiest = max(inventory.occupancy_many(s, soon, now).items(), key=lambda kv: kv[1].taken)[0]
        dep_code = s.get_one(Departure, busiest).code
        conv_id = s.scalars(select(Conversation.id).where(Conversation.status == "pending")).first()
        # The customer with the most bookings: the longest profile.
        most = s.execute(
            select(Booking.customer_id, func.count())
            .group_by(Booking.customer_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        customer = s.get_one(Customer, most[0])
        named = s.scalars(
            select(Customer).where(Customer.name.is_not(None)).order_by(Customer.id.desc())
        ).first()
        lead_ref = s.scalars(select(Lead.reference).order_by(Lead.id.desc())).first()
        booking_ref = s.scalars(
            select(Booking.reference)
            .where(Booking.customer_id == customer.id)
            .order_by(Booking.id.desc())
            .limit(1)
        ).one()
        incident_id = s.scalars(select(Incident.id)).first()
    assert customer is not None and named is not None and named.name
    first_name, surname = named.name.split()
    typo = surname[:3] + surname[4:]  # "Wilson" -> "Wilon": found by closeness only
    phone = f"({customer.phone[2:5]}) {customer.phone[5:8]}-{customer.phone[8:]}"
    week = f"date={today}&to={today + timedelta(days=6)}"
    year = f"from={today - timedelta(days=364)}&to={today}"
    pages = {
        "dashboard": "/admin/",
        "inbox": "/admin/inbox",
        "inbox (waiting)": "/admin/inbox?status=pending",
        "inbox poll": "/admin/inbox/poll",
        "conversation": f"/admin/inbox/{conv_id}",
        "tasks": "/admin/tasks",
        "leads board": "/admin/leads",
        "lead": f"/admin/leads/{lead_ref}",
        "departures (14 days)": "/admin/departures",
        "departure (busiest)": f"/admin/departures/{dep_code}",
        "manifest (busiest)": f"/admin/departures/{dep_code}/manifest",
        "incidents": "/admin/incidents",
        "incident": f"/admin/incidents/{incident_id}",
        "search: name": f"/admin/search?q={surname}",
        "search: name typo": f"/admin/search?q={first_name} {typo}",
        # The phone as a person types it: "(202) 700-0000"
        "search: phone": f"/admin/search?q={phone}",
        "search: last digits": f"/admin/search?q={customer.phone[-6:]}",
        "search: reference": f"/admin/search?q={booking_ref.lower()}",
        "search: ref no prefix": f"/admin/search?q={booking_ref[3:].lower()}",
        "caller lookup": f"/admin/customers/lookup?phone={phone}",
        "new booking (a week)": f"/admin/bookings/new?{week}&tier_adult=2&tier_child=1",
        "booking": f"/admin/bookings/{booking_ref}",
        "customer (most bookings)": f"/admin/customers/{customer.id}",
        "reports (this month)": "/admin/reports",
        "reports (30 days)": f"/admin/reports?from={today - timedelta(days=29)}",
        "reports (a year)": f"/admin/reports?{year}",
        **{
            f"CSV {table} (a year)": f"/admin/reports/{table}.csv?{year}"
            for table in owner_report.TABLES
        },
        "crisis (next 7 days)": f"/admin/crisis?to={today + timedelta(days=6)}",
        "team": "/admin/access",
        "settings": "/admin/settings",
    }
    results = []
    for name, path in pages.items():
        if only and only not in name:
            continue
        timings = []
        for i in range(rounds + 3):
            start = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if i >= 3:  # the first renders compile templates and warm caches
                timings.append(elapsed)
        results.append((name, timings))
        if name == "search: phone":
            assert re.search(r"/admin/customers/\d+", response.text), "phone search found nothing"
        if name == "search: name typo":
            assert named.name in response.text, "the name with a typo found nothing"
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=10000)
    parser.add_argument("--conversations", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database", default=DB, help="rebuilt each run")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data the last run loaded (migrated to head), without rebuilding",
    )
    parser.add_argument("--only", help="measure only the pages whose name contains this")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.reuse:
        url = f"{SERVER}/{args.database}"
        command.upgrade(alembic_config(url), "head")
        summary = "as the last run left it"
    else:
        url = rebuild_database(args.database)
        summary = populate(url, args.bookings, args.conversations)
    # As autovacuum would have by then: without statistics the planner takes the fresh
    # tables for empty and picks plans no production database would, and without the
    # visibility map no index-only scan (COPY leaves it unset).
    with make_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"data: {summary}, loaded in {time.perf_counter() - start:.1f} s")
    print("load average before measuring: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'page':<24}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}")
    worst = 0.0
    for name, timings in measure(url, args.rounds, args.only):
        p95 = pct(timings, 95)
        worst = max(worst, p95)
        print(f"{name:<24}{statistics.median(timings):>10.1f}{p95:>9.1f}{max(timings):>9.1f}")
    print(f"slowest p95: {worst:.1f} ms (aim: every page under 200 ms, search under 100 ms)")
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
