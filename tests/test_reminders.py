"""Reminders: before the departure, before the balance is due, before a hold lapses; each
sent once however often the job runs, including two runs at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Message, Organization, ReminderSent
from services import bookings, inventory, jobs, reminders
from services.runtime import Runtime
from tests.conftest import NOW, import_org
from tests.factories import departure, make_customer


def setup(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        org = import_org(s, NOW)
        paid_part = inventory.hold_seats(
            s,
            org,
            departure(s, org, "CITY0120"),
            make_customer(s, org, "+12025550101", NOW),
            {"adult": 1},
            NOW,
            source="sms",
        )
        bookings.confirm_booking(s, org, paid_part, NOW)  # confirmed with the balance still to pay
        inventory.hold_seats(
            s,
            org,
            departure(s, org, "EBC0315"),
            make_customer(s, org, "+12025550102", NOW),
            {"adult": 1},
            NOW,
            source="sms",
            hold_hours=1,
        )
        s.commit()


def bodies(factory: sessionmaker[Session], phone: str) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(select(Message.body).where(Message.to_phone == phone).order_by(Message.id))
        )


def test_each_reminder_goes_once_when_the_job_runs_twice(
    factory: sessionmaker[Session], runtime: Runtime
) -> None:
    setup(factory)
    moment = NOW + timedelta(
        minutes=30
    )  # CITY0120 is 10 days out; the EBC hold lapses in 30 minutes
    first = jobs.run_sweep(runtime, moment)
    second = jobs.run_sweep(runtime, moment)
    assert sorted(first["reminders"]) == ["balance_due: 1", "hold_expiring: 1"]
    assert "reminders" not in second
    [balance] = bodies(factory, "+12025550101")
    assert "Balance for BK-" in balance and "$25" in balance and "/pay/BK-" in balance
    [nudge] = bodies(factory, "+12025550102")
    assert "held until" in nudge and "/pay/BK-" in nudge


def test_pre_departure_reminders_at_7_days_and_1_day(factory: sessionmaker[Session]) -> None:
    setup(factory)
    start = NOW + timedelta(days=10)
    for moment in (
        start - timedelta(days=6, hours=23),
        start - timedelta(days=6),
        start - timedelta(hours=20),
        start - timedelta(hours=19),
    ):
        with factory() as s:
            reminders.send_due_reminders(s, moment, None)
            s.commit()
    pre = [b for b in bodies(factory, "+12025550101") if "starts" in b]
    assert len(pre) == 2 and all("Old City Walk" in b for b in pre)


def test_two_runs_at_once_send_once(factory: sessionmaker[Session]) -> None:
    setup(factory)
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        with factory() as s:
            reminders.send_due_reminders(s, NOW + timedelta(minutes=30), None)
            s.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(ReminderSent)) == 2
        assert s.scalar(select(func.count()).where(Message.kind == "notification")) == 2
        assert s.scalar(select(Organization.slug)) == "adventure-treks"
