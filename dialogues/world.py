"""The world the dialogues are played in (tests/dialogues/world.yml.j2): its catalog
imported once, its seed bookings made again before each dialogue, and everything a dialogue
left behind wiped, so each one starts from the same fresh operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from dialogues.script import DIALOGUE_DIR, ScriptError, render
from intents import forget_vocabularies
from models import Base, Booking, Departure, Organization, Tour
from services import checkout, inventory, outbox, payments, ratelimit, settlement, waitlist
from services.catalog import import_catalog
from services.customers import get_or_create_customer
from services.job_queue import JobQueue

WORLD_FILE = DIALOGUE_DIR / "world.yml.j2"
BASE_URL = "https://bot.example.com"


@dataclass
class World:
    org_id: int
    seed: list[dict[str, Any]]
    # Tables the import filled: kept between dialogues; every other table is wiped.
    kept: frozenset[str]


def load_world(today: date | None = None) -> dict[str, Any]:
    data = yaml.safe_load(render(WORLD_FILE.read_text(), today))
    if not isinstance(data, dict) or "catalog" not in data:
        raise ScriptError(f"{WORLD_FILE.name}: needs a catalog")
    return data


def build(engine: Engine, session: Session, now: datetime, today: date | None = None) -> World:
    """Empties the database, imports the world's catalog and notes which tables it filled."""
    data = load_world(today)
    _delete(engine, frozenset())
    summary = import_catalog(session, data["catalog"], now)
    session.commit()
    kept = frozenset(
        t.name
        for t in Base.metadata.sorted_tables
        if session.scalar(select(func.count()).select_from(t)) or 0
    )
    return World(summary.organization.id, list(data.get("seed") or []), kept)


def _delete(engine: Engine, kept: frozenset[str]) -> None:
    forget_vocabularies()
    ratelimit.reset_memory()
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in kept:
                conn.execute(delete(table))


def reset(engine: Engine, session: Session, world: World, now: datetime, jobs: JobQueue) -> None:
    """Back to the freshly imported world, with its seed bookings made again (the messages
    they cause sent like any other, before the dialogue's first line)."""
    _delete(engine, world.kept)
    org = session.get(Organization, world.org_id)
    assert org is not None
    for item in world.seed:
        if "fill" in item:
            dep = find_departure(session, org, item["fill"])
            customer, _ = get_or_create_customer(
                session, org, item["phone"], now, name=item.get("name")
            )
            left = inventory.occupancy(session, dep, now).spots_left
            if left:
                pay(
                    session,
                    org,
                    inventory.hold_seats(
                        session, org, dep, customer, {"adult": left}, now, source="admin"
                    ),
                    "full",
                    now,
                )
        elif "waitlist" in item:
            dep = find_departure(session, org, item["waitlist"])
            customer, _ = get_or_create_customer(
                session, org, item["phone"], now, name=item.get("name")
            )
            waitlist.join_waitlist(
                session, org, dep, customer, item["party"], now, source="whatsapp"
            )
        else:
            raise ScriptError(f"{WORLD_FILE.name}: seed item {item} is neither fill nor waitlist")
    outbox.commit_and_send(session, jobs)


def find_departure(session: Session, org: Organization, where: dict[str, Any]) -> Departure:
    """{tour: slug, date: YYYY-MM-DD, time: HH:MM}: that departure, in the organization's time."""
    tz = ZoneInfo(org.timezone)
    day = date.fromisoformat(str(where["date"]))
    at = time.fromisoformat(str(where.get("time") or "00:00"))
    query = (
        select(Departure)
        .join(Tour, Tour.id == Departure.tour_id)
        .where(Tour.organization_id == org.id, Tour.slug == where["tour"])
        .order_by(Departure.starts_at)
    )
    for dep in session.scalars(query):
        local = dep.starts_at.astimezone(tz)
        if local.date() == day and ("time" not in where or local.time() == at):
            return dep
    raise ScriptError(
        f"no departure of {where['tour']} on {day} at {where.get('time', 'any time')}"
    )


def pay(session: Session, org: Organization, booking: Booking, kind: str, now: datetime) -> None:
    """The customer paid through the (fake) checkout: deposit or full."""
    fake = payments.StripeAccount(None)
    payment, _ = checkout.start_checkout(session, org, booking, kind, now, BASE_URL, fake)
    settlement.settle(
        session, org, payment, now, stripe=fake, counts=ratelimit.counter(None), source="fake"
    )


def give(
    session: Session,
    world: World,
    phone: str,
    name: str | None,
    given: list[dict[str, Any]],
    now: datetime,
    jobs: JobQueue,
) -> list[str]:
    """The bookings a dialogue's customer already has; returns their references."""
    org = session.get(Organization, world.org_id)
    assert org is not None
    refs = []
    for item in given:
        dep = find_departure(session, org, item)
        customer, _ = get_or_create_customer(session, org, phone, now, name=name)
        booking = inventory.hold_seats(
            session, org, dep, customer, item.get("party") or {"adult": 1}, now, source="whatsapp"
        )
        paid = item.get("paid", "none")
        if paid in ("deposit", "full"):
            pay(session, org, booking, paid, now)
        elif paid != "none":
            raise ScriptError(f"given booking paid: {paid!r} is not none, deposit or full")
        refs.append(booking.reference)
    outbox.commit_and_send(session, jobs)
    return refs
