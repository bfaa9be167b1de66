"""Search, bookings (payments, cancel, refund, resend) and the dashboard."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    Message,
    Payment,
    utcnow,
)
from tests.admin.support import a_paid_booking, an_incident, the_org
from tests.chat import Chat
from tests.factories import hold
from tests.staff import StaffClient


def test_search_finds_by_name_phone_in_any_format_and_reference(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    for query in ("grace", "HOPPER", "+1 202-555-0141", "(202) 555-0141", "2025550141", "0141"):
        page = owner.get(f"/admin/search?q={query}")
        assert booking.reference in page.text, query
    page = owner.get(f"/admin/search?q={booking.reference.lower()}")
    assert booking.reference in page.text
    assert "Nothing found" in owner.get("/admin/search?q=zzzz-nobody").text
    assert owner.get("/admin/search?q=%25_%25").status_code == 200


def test_booking_page_shows_payments_messages_and_timeline(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    page = owner.get(f"/admin/bookings/{booking.reference}")
    assert page.status_code == 200
    assert "deposit" in page.text and "Booking confirmed" in page.text
    assert "Payment received" in page.text and "Resend confirmation" in page.text
    customer = owner.get(f"/admin/customers/{booking.customer_id}")
    assert booking.reference in customer.text


def test_cancel_a_booking_refunds_by_the_policy(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    page = sales.get(f"/admin/bookings/{booking.reference}")
    assert "Cancelling now:" in page.text
    assert "Amount to refund" not in page.text  # sales cannot make a manual refund
    sales.post(f"/admin/bookings/{booking.reference}/cancel", {"reason": "changed plans"})
    with factory() as s:
        b = s.get(Booking, booking.id)
        payment = s.scalars(select(Payment)).one()
    assert b.status == BookingStatus.CANCELLED
    assert payment.refunded_minor == payment.amount_minor  # 100 days ahead: a full refund


def test_refund_and_resend_confirmation(
    ops: StaffClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    with factory() as s:
        payment = s.scalars(select(Payment)).one()
    url = f"/admin/bookings/{booking.reference}/refund"
    assert sales.post(url, {"payment": str(payment.id), "amount": "10.00"}).status_code == 403
    assert ops.post(url, {"payment": str(payment.id), "amount": "ten"}).status_code == 400
    assert ops.post(url, {"payment": str(payment.id), "amount": "-5"}).status_code == 400
    assert ops.post(url, {"payment": "999999", "amount": "1"}).status_code == 404
    done = ops.post(url, {"payment": str(payment.id), "amount": "10.00", "reason": "goodwill"})
    assert "Refunded $10." in done.text
    with factory() as s:
        assert s.get(Payment, payment.id).refunded_minor == 1000
        assert s.get(Booking, booking.id).paid_minor == payment.amount_minor - 1000
        before = len(s.scalars(select(Message)).all())
    sales.post(f"/admin/bookings/{booking.reference}/resend")
    with factory() as s:
        newest = s.scalars(select(Message).order_by(Message.id.desc())).first()
        assert len(s.scalars(select(Message)).all()) == before + 1
    assert "Booking confirmed" in newest.body and booking.reference in newest.body
    # With a balance left, the confirmation carries the link to pay it (with its secret).
    assert f"{booking.reference}/{booking.pay_token}" in newest.body


def test_dashboard_shows_the_day_at_a_glance(
    owner: StaffClient, factory: sessionmaker[Session], client: FlaskClient
) -> None:
    a_paid_booking(factory)
    an_incident(factory)
    Chat(client, factory, phone="+12025550151", name="Dan").say("talk to a human")
    with factory() as s:
        org = the_org(s)
        soon = hold(s, org, "CITY4", "+12025550152", utcnow(), adults=1)
        soon.hold_expires_at = utcnow() + timedelta(hours=2)
        s.commit()
    page = owner.get("/admin/")
    assert page.status_code == 200
    assert "CITY0" in page.text  # today's departure
    assert "Maya Gurung" in page.text
    assert "INC-" in page.text and "Dan" in page.text and soon.reference in page.text
    figures = page.text.split('id="figures"')[1].split("</div>\n</div>")[0]
    assert "$684" in figures  # this month's deposit: 30% of $2,400 less the 5% early bird
