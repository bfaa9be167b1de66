"""Reminders: before the departure, before the balance is due, before a hold lapses; each
sent once however often the job runs, including two runs at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Message, Organization, ReminderSent
from services import bookings, inventory, jobs, reminders
from services.runtime import Runtime
from tests.conftest import NOW, import_org
from tests.factories import catalog_data, departure, make_customer


def setup(factory: sessionmaker[Session], balance_due_days: int = 7) -> None:
    """CITY0120, 10 days out, confirmed with its balance due balance_due_days before."""
    data = catalog_data()
    data["organization"]["settings"]["balance_due_days"] = balance_due_days
    with factory() as s:
        org = import_org(s, NOW, **data)
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


def test_one_due_date_everywhere_and_none_already_past(
    factory: sessionmaker[Session], runtime: Runtime
) -> None:
    """The balance of a booking made after its nominal due date (10 days out, due 14 days
    before) is due at once: the confirmation says so, the pay page says so, and no balance
    reminder names a day already past (one said "due 22 Nov" on 2 Dec)."""
    from services import payments

    setup(factory, balance_due_days=14)
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking).where(Booking.status == "confirmed"))
        text = payments.confirmation_text(org, booking, NOW)
    assert "Balance: $25, due now" in text
    for days in (0, 1, 3, 9):
        sent = jobs.run_sweep(runtime, NOW + timedelta(days=days, minutes=1))
        assert not any("balance" in r for r in sent.get("reminders", [])), days
    assert not any("Balance for" in m for m in bodies(factory, "+12025550101"))


def test_the_due_date_is_the_same_in_confirmation_reminder_and_pay_page(
    factory: sessionmaker[Session], runtime: Runtime
) -> None:
    import re

    from app import create_app
    from config import TestConfig
    from services import payments

    setup(factory, balance_due_days=7)  # due 3 days after NOW; reminded 3 days ahead
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking).where(Booking.status == "confirmed"))
        text = payments.confirmation_text(org, booking, NOW)
        link = payments.pay_url(booking, "https://x.example").removeprefix("https://x.example")
    said = re.search(r"\(due ([^)]+)\)", text)[1]  # type: ignore[index]
    assert said == "13 Jan 2027"
    jobs.run_sweep(runtime, NOW + timedelta(minutes=1))
    [reminder] = [m for m in bodies(factory, "+12025550101") if "Balance for" in m]
    assert f"due {said}." in reminder
    page = create_app(TestConfig()).test_client().get(link)  # today is before NOW
    assert f"Balance due {said}".encode() in page.data
    # Past the due date nothing more is sent.
    jobs.run_sweep(runtime, NOW + timedelta(days=4))
    assert len([m for m in bodies(factory, "+12025550101") if "Balance for" in m]) == 1


def book_at(factory: sessionmaker[Session], phone: str, moment: datetime) -> None:
    """A customer books CITY0120 (10 days after NOW) at that moment, paid at once."""
    with factory() as s:
        org = import_org(s, NOW, **catalog_data())
        booking = inventory.hold_seats(
            s,
            org,
            departure(s, org, "CITY0120"),
            make_customer(s, org, phone, moment),
            {"adult": 1},
            moment,
            source="whatsapp",
        )
        bookings.confirm_booking(s, org, booking, moment)
        s.commit()


def sweep_every_minute(factory: sessionmaker[Session], start: datetime, end: datetime) -> None:
    moment = start
    while moment < end:
        with factory() as s:
            reminders.send_due_reminders(s, moment, None)
            s.commit()
        moment += (
            timedelta(minutes=1) if moment < start + timedelta(minutes=5) else timedelta(hours=1)
        )


def test_a_booking_made_the_day_before_gets_no_reminder_burst(
    factory: sessionmaker[Session],
) -> None:
    """Booked 20 hours ahead: its confirmation said it all. It got the 1-day reminder a
    minute later, then the 7-day one the minute after (the nearest threshold was sent, and
    the next run took the older one)."""
    start = NOW + timedelta(days=10)
    booked = start - timedelta(hours=20)
    book_at(factory, "+12025550103", booked)
    sweep_every_minute(factory, booked + timedelta(minutes=1), start - timedelta(hours=4))
    assert [b for b in bodies(factory, "+12025550103") if "starts" in b] == []


def test_a_booking_made_five_days_ahead_gets_only_the_one_day_reminder(
    factory: sessionmaker[Session],
) -> None:
    start = NOW + timedelta(days=10)
    booked = start - timedelta(days=5)
    book_at(factory, "+12025550104", booked)
    sweep_every_minute(factory, booked + timedelta(minutes=1), start - timedelta(hours=12))
    pre = [b for b in bodies(factory, "+12025550104") if "starts" in b]
    assert len(pre) == 1 and "Old City Walk" in pre[0], pre
    with factory() as s:
        assert s.scalars(select(ReminderSent.key)).all() == ["1d"]
