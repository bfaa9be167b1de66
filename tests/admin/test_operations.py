"""Departures (manifest, guides, cancellation) and incidents, with the role limits."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    Guide,
    Incident,
    Message,
    utcnow,
)
from tests.admin.support import an_incident, the_org
from tests.chat import Chat
from tests.factories import departure, hold, make_customer
from tests.staff import StaffClient


def test_departure_board_page_and_printable_manifest(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        b = hold(s, org, "CITY3", "+12025550111", utcnow(), adults=2, dietary_notes="nut allergy")
        s.commit()
    board = owner.get("/admin/departures")
    assert "CITY3" in board.text and "CITY0" in board.text
    page = owner.get("/admin/departures/CITY3")
    assert page.status_code == 200 and b.reference in page.text
    manifest = owner.get("/admin/departures/CITY3/manifest")
    assert 'class="diet"' in manifest.text and "nut allergy" in manifest.text
    assert "2 guests" in manifest.text
    assert owner.get("/admin/departures?from=2027-13-01").status_code == 400
    assert owner.get("/admin/departures/NOPE").status_code == 404


def test_assign_a_guide_offers_only_qualified_free_guides(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    page = ops.get("/admin/departures/CITY3")
    assert "Maya Gurung" in page.text and "Rajesh Kumar" not in page.text
    with factory() as s:
        maya = s.scalars(select(Guide).where(Guide.name == "Maya Gurung")).one()
        rajesh = s.scalars(select(Guide).where(Guide.name == "Rajesh Kumar")).one()
    done = ops.post("/admin/departures/CITY3/guide", {"guide": str(maya.id)})
    assert "Offered to Maya Gurung" in done.text
    with factory() as s:
        offer = s.scalars(select(Message).where(Message.to_phone == maya.phone)).one()
    assert "ACCEPT" in offer.body
    refused = ops.post("/admin/departures/CITY4/guide", {"guide": str(rajesh.id)})
    assert "not qualified" in refused.text


def test_sales_cannot_cancel_a_departure_or_assign_guides(sales: StaffClient) -> None:
    assert sales.get("/admin/departures/CITY3/cancel").status_code == 403
    assert (
        sales.post(
            "/admin/departures/CITY3/cancel", {"reason": "x", "confirm": "CITY3"}
        ).status_code
        == 403
    )
    assert sales.post("/admin/departures/CITY3/guide", {"guide": "1"}).status_code == 403
    assert "Cancel CITY3" not in sales.get("/admin/departures/CITY3").text


def test_cancel_a_departure_shows_the_count_then_progress_and_call_list(
    ops: StaffClient, factory: sessionmaker[Session], client: FlaskClient
) -> None:
    Chat(client, factory, phone="+12025550121", name="Cat").say("hi")
    with factory() as s:
        org = the_org(s)
        hold(s, org, "CITY3", "+12025550121", utcnow(), adults=2)
        quiet = make_customer(s, org, "+12025550122", utcnow(), name="Quiet")
        quiet.opted_out = True
        hold(s, org, "CITY3", "+12025550122", utcnow(), adults=1)
        s.commit()
    form = ops.get("/admin/departures/CITY3/cancel?reason=storm")
    assert "2 bookings, 3 people" in form.text and "is cancelled (storm)" in form.text
    # The preview follows the reason as it is typed (admin.js asks the crisis preview).
    assert 'data-preview-url="/admin/crisis/preview"' in form.text
    preview = ops.get("/admin/crisis/preview?code=CITY3&reason=landslide")
    assert "(landslide)" in preview.json["text"]
    wrong = ops.post("/admin/departures/CITY3/cancel", {"reason": "storm", "confirm": "CITY4"})
    assert wrong.status_code == 400
    with factory() as s:
        assert departure(s, the_org(s), "CITY3").status == DepartureStatus.OPEN
    done = ops.post("/admin/departures/CITY3/cancel", {"reason": "storm", "confirm": "CITY3"})
    assert "CITY3 cancelled: 2 bookings" in done.text
    assert "+12025550122" in done.text and "opted out" in done.text  # the call list
    with factory() as s:
        statuses = {b.status for b in s.scalars(select(Booking))}
    assert statuses == {BookingStatus.CANCELLED}


def test_incidents_update_the_guide_and_customers_then_resolve(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    incident = an_incident(factory)
    listing = ops.get("/admin/incidents")
    assert incident.number in listing.text
    ops.post(
        f"/admin/incidents/{incident.id}/update",
        {"text": "Taxi on the way to the trailhead", "tell_customers": "1"},
    )
    with factory() as s:
        bodies = {m.to_phone: m.body for m in s.scalars(select(Message))}
    assert "Taxi on the way" in bodies["+9779800000003"]
    assert "Taxi on the way" in bodies["+12025550131"]
    ops.post(f"/admin/incidents/{incident.id}/resolve", {"note": "back at the hotel"})
    with factory() as s:
        assert s.get(Incident, incident.id).status == "resolved"
    page = ops.get(f"/admin/incidents/{incident.id}")
    assert "back at the hotel" in page.text and "Send update" not in page.text


def test_sales_can_read_incidents_but_not_act(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    incident = an_incident(factory)
    assert sales.get(f"/admin/incidents/{incident.id}").status_code == 200
    assert sales.post(f"/admin/incidents/{incident.id}/update", {"text": "hi"}).status_code == 403
    assert sales.post(f"/admin/incidents/{incident.id}/resolve").status_code == 403
