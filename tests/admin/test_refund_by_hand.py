"""Money taken by hand (card by phone, cash, bank transfer) cannot be refunded by the
system: a refund of it is recorded, and a person is given a task to hand it back, named in
what staff are told. Card payments (Stripe, the fake checkout) are refunded as before."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Payment, Refund, StaffUser, Task, utcnow
from tests.admin.support import SALES, a_paid_booking
from tests.admin.test_desk import sunset
from tests.staff import StaffClient


def paid_by_phone(staff: StaffClient, factory: sessionmaker[Session]) -> Booking:
    code = sunset(factory, 30)
    done = staff.post(
        "/admin/bookings/new",
        {
            "departure": code,
            "tier_adult": "2",
            "phone": "+12025550178",
            "name": "Wei Chen",
            "pay": "now",
            "amount": "98.00",
            "method": "card_phone",
            "payment_reference": "POS 4471",
        },
    )
    assert "confirmed: $98 card by phone recorded" in done.text
    with factory() as s:
        return s.scalars(select(Booking)).one()


def test_cancelling_a_booking_paid_by_phone_opens_a_task_to_hand_the_money_back(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = paid_by_phone(sales, factory)
    done = sales.post(f"/admin/bookings/{booking.reference}/cancel", {"reason": "plans changed"})
    assert f"{booking.reference} cancelled; refunded $98." in done.text
    assert "Return $98 by hand (card by phone, POS 4471)" in done.text
    with factory() as s:
        task = s.scalars(select(Task)).one()
        sam = s.scalars(select(StaffUser).where(StaffUser.email == SALES)).one()
        assert task.status == "open" and task.kind == "refund"
        assert task.booking_id == booking.id and task.assigned_to_id == sam.id  # who took it
        assert task.title == "Return $98 to Wei Chen by hand: card by phone, POS 4471"
        assert s.scalars(select(Payment)).one().refunded_minor == 9800
    tasks = sales.get("/admin/tasks?mine=1").text
    assert "Return $98 to Wei Chen by hand" in tasks and booking.reference in tasks
    page = sales.get(f"/admin/bookings/{booking.reference}").text
    assert "to hand back" in page  # the refund row says no money moved by itself


def test_a_partial_refund_by_hand_names_the_amount(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = paid_by_phone(ops, factory)
    with factory() as s:
        payment = s.scalars(select(Payment)).one()
    done = ops.post(
        f"/admin/bookings/{booking.reference}/refund",
        {"payment": str(payment.id), "amount": "20", "reason": "goodwill"},
    )
    assert "Refunded $20. Return $20 by hand (card by phone, POS 4471)" in done.text
    with factory() as s:
        (task,) = s.scalars(select(Task)).all()
        assert task.title.startswith("Return $20 to Wei Chen by hand")


def test_a_card_payment_is_refunded_without_a_task(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    with factory() as s:
        payment = s.scalars(select(Payment)).one()
    done = ops.post(
        f"/admin/bookings/{booking.reference}/refund",
        {"payment": str(payment.id), "amount": "10.00"},
    )
    assert "Refunded $10." in done.text and "by hand" not in done.text
    with factory() as s:
        assert s.scalars(select(Task)).all() == []


def test_a_storm_cancellation_counts_what_is_to_hand_back(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = paid_by_phone(ops, factory)
    with factory() as s:
        code = s.get(Booking, booking.id).departure.code
    done = ops.post("/admin/crisis/cancel", {"code": code, "reason": "storm", "refund": "full"})
    assert "1 departure cancelled" in done.text
    assert "1 to hand back" in done.text  # the progress page, beside the $98 refunded
    with factory() as s:
        (task,) = s.scalars(select(Task)).all()
        assert task.title == "Return $98 to Wei Chen by hand: card by phone, POS 4471"


def refund_rows(page: str) -> dict[str, str]:
    """The refunds table's last cell by reason."""
    table = page.split("<h2>Refunds</h2>")[1].split("</table>")[0]
    rows = {}
    for row in table.split("<tr>")[1:]:
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in row.split("<td")[1:]]
        cells = [c.split(">", 1)[-1].strip() for c in cells]
        if len(cells) >= 4:
            rows[cells[2]] = " ".join(cells[3].split())
    return rows


def test_each_refund_by_hand_shows_its_own_task_and_a_departed_taker_s_goes_to_the_owner(
    sales: StaffClient, owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    """The refunds table said 'handed back' for every refund by hand when no task was open,
    even one recorded before these tasks existed (it never had one), and one open task
    marked every refund by hand 'to hand back'. A person who took the money and has left
    cannot hand it back: the task is the owner's."""
    booking = paid_by_phone(sales, factory)
    with factory() as s:
        payment = s.scalars(select(Payment)).one()
        s.add(
            Refund(
                organization_id=payment.organization_id,
                payment_id=payment.id,
                amount_minor=500,
                reason="before tasks",
                created_at=utcnow() - timedelta(days=30),
            )
        )
        s.get(Payment, payment.id).refunded_minor += 500
        s.commit()
    url = f"/admin/bookings/{booking.reference}"
    for amount, reason in (("20", "goodwill"), ("30", "late pickup")):
        owner.post(
            f"{url}/refund", {"payment": str(payment.id), "amount": amount, "reason": reason}
        )
    with factory() as s:
        first, second = s.scalars(select(Task).order_by(Task.id)).all()
        first.status = "done"
        s.commit()
        second_number = second.number
    rows = refund_rows(owner.get(url).text)
    assert rows["before tasks"] == "by hand: no task"
    assert rows["goodwill"] == "by hand: handed back"
    assert rows["late pickup"] == f"by hand: to hand back {second_number}"
    # Sam, who took the money, leaves: the next refund's task is an owner's.
    with factory() as s:
        sam_id = s.scalars(select(StaffUser.id).where(StaffUser.email == SALES)).one()
    left = owner.post(f"/admin/access/staff/{sam_id}/deactivate")
    assert "can no longer log in" in left.text
    owner.post(f"{url}/refund", {"payment": str(payment.id), "amount": "5", "reason": "later"})
    with factory() as s:
        last = s.scalars(select(Task).order_by(Task.id.desc())).first()
        assert last.title.startswith("Return $5") and last.assigned_to is not None
        assert (last.assigned_to.role, last.assigned_to.active) == ("owner", True)
