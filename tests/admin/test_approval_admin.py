"""Owner approval from the admin: the dashboard lists a booking waiting for the owner, and
its page confirms or declines it, as the texted link does (the link is spent either way)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, utcnow
from tests.admin.support import OPS, OWNER, SALES, admin_catalog, as_staff
from tests.chat import AUTH_TOKEN, BASE_URL
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff
from tests.test_approvals import pencil_in, status


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    data = admin_catalog()
    data["organization"]["settings"]["approval_required"] = True
    with factory() as s:
        org = import_org(s, utcnow(), **data)
        make_staff(s, org, "owner", OWNER, "Olivia")
        make_staff(s, org, "ops", OPS, "Priya")
        make_staff(s, org, "sales", SALES, "Sam")
    return create_app(config)


def test_the_owner_confirms_from_the_booking_page_and_the_link_is_spent(
    app: Flask, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada, ref, token = pencil_in(client, factory)
    owner = as_staff(app.test_client(), OWNER)
    assert ref in owner.get("/admin/").text  # "Pending approvals"
    page = owner.get(f"/admin/bookings/{ref}")
    assert 'id="approval"' in page.text and "Confirm" in page.text and "Decline" in page.text
    done = owner.post(f"/admin/bookings/{ref}/approval", {"action": "confirm"})
    assert f"{ref} is confirmed and the customer has been told." in done.text
    assert status(factory, ref) == "confirmed"
    assert any(
        "Good news" in m.body and "/pay/" in m.body for m in ada.outbox() if m.to_phone == ada.phone
    )
    assert client.get(f"/approve/{token}").status_code == 410  # the texted link is spent
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert booking.approval_nonce is None
    # Decided: no buttons any more, and a second click is refused in words.
    assert 'id="approval"' not in owner.get(f"/admin/bookings/{ref}").text
    again = owner.post(f"/admin/bookings/{ref}/approval", {"action": "decline"})
    assert again.status_code == 200 and "no longer waiting for approval" in again.text
    assert status(factory, ref) == "confirmed"


def test_the_owner_declines_and_the_customer_is_offered_other_dates(
    app: Flask, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada, ref, _ = pencil_in(client, factory)
    owner = as_staff(app.test_client(), OWNER)
    done = owner.post(f"/admin/bookings/{ref}/approval", {"action": "decline"})
    assert "declined; the seats are free again" in done.text
    assert status(factory, ref) == "cancelled"
    [sorry] = [m.body for m in ada.outbox() if m.to_phone == ada.phone and "can't take" in m.body]
    assert "We do have room on" in sorry
    page = owner.get(f"/admin/bookings/{ref}").text
    declined = page[page.index("Declined by the owner") :]
    assert "by Olivia" in declined[:200]  # who, on the timeline


def test_only_owners_decide_and_a_bad_action_changes_nothing(
    app: Flask, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    _, ref, _ = pencil_in(client, factory)
    sales: StaffClient = as_staff(app.test_client(), SALES)
    assert 'id="approval"' not in sales.get(f"/admin/bookings/{ref}").text
    assert sales.post(f"/admin/bookings/{ref}/approval", {"action": "confirm"}).status_code == 403
    owner = as_staff(app.test_client(), OWNER)
    assert owner.post(f"/admin/bookings/{ref}/approval", {"action": "maybe"}).status_code == 400
    assert owner.post("/admin/bookings/BK-NOPE1/approval", {"action": "confirm"}).status_code == 404
    assert status(factory, ref) == "pending_approval"
