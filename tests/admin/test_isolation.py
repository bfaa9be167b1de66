"""One organization's staff never reach another's data, whatever ids they guess."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Guide,
    GuideTimeOff,
    Incident,
    Lead,
    LeadStatus,
    Organization,
    Payment,
    StaffUser,
    utcnow,
)
from services import assignments
from tests.admin.support import (
    SALES,
    a_lead,
    a_paid_booking,
    an_incident,
    as_staff,
    conversation_of,
    the_org_by_slug,
)
from tests.chat import Chat
from tests.conftest import import_org
from tests.factories import catalog_data, departure
from tests.staff import StaffClient, make_staff


def test_another_organizations_objects_are_404_by_every_route(
    owner: StaffClient, factory: sessionmaker[Session], client: FlaskClient
) -> None:
    # Objects of organization A, and a user of organization B guessing their ids.
    booking = a_paid_booking(factory)
    incident = an_incident(factory)
    lead = a_lead(factory, phone="+12025550161")
    Chat(client, factory, phone="+12025550162").say("hello")
    other = catalog_data(
        organization={
            **catalog_data()["organization"],
            "slug": "other-co",
            "name": "Other Co",
            "numbers": ["+15005550009"],
        },
        staff=[],
        guides=[],
    )
    for tour in other["tours"]:
        tour.pop("departures", None)
        tour["schedule"] = []
    with factory() as s:
        other_org = import_org(s, utcnow(), **other)
        make_staff(s, other_org, "owner", "boss@other.example")
        conv = s.scalars(select(Conversation)).first()
        customer = s.get(Customer, booking.customer_id)
        payment = s.scalars(select(Payment)).one()
        sam = s.scalars(select(StaffUser).where(StaffUser.email == SALES)).one()
        guide = s.scalars(select(Guide).where(Guide.organization_id != other_org.id)).first()
        off, _ = assignments.add_time_off(
            s,
            s.get_one(Organization, guide.organization_id),
            guide,
            utcnow() + timedelta(days=1),
            utcnow() + timedelta(days=2),
            utcnow(),
        )
        s.commit()
        ids = {
            "conv": conv.id,
            "customer": customer.id,
            "payment": payment.id,
            "staff": sam.id,
            "guide": guide.id,
            "off": off.id,
        }
    intruder = as_staff(client, "boss@other.example")
    gets = [
        f"/admin/inbox/{ids['conv']}",
        f"/admin/inbox/{ids['conv']}/messages",
        f"/admin/leads/{lead.reference}",
        "/admin/departures/CITY0",
        "/admin/departures/CITY0/manifest",
        "/admin/departures/CITY0/cancel",
        f"/admin/incidents/{incident.id}",
        f"/admin/bookings/{booking.reference}",
        f"/admin/customers/{ids['customer']}",
        "/admin/crisis/cancel?code=CITY0",
        "/admin/crisis/preview?code=CITY0&reason=x",
        f"/admin/guides/{ids['guide']}",
    ]
    for url in gets:
        assert intruder.get(url).status_code == 404, url
    posts = [
        (f"/admin/inbox/{ids['conv']}/reply", {"body": "hi"}),
        (f"/admin/inbox/{ids['conv']}/note", {"note": "x"}),
        (f"/admin/inbox/{ids['conv']}/assign", {"assignee": ""}),
        (f"/admin/inbox/{ids['conv']}/resolve", {}),
        (f"/admin/leads/{lead.reference}/quote", {"departure": "CITY3", "tier_adult": "1"}),
        (f"/admin/leads/{lead.reference}/hold", {"departure": "CITY3", "tier_adult": "1"}),
        (f"/admin/leads/{lead.reference}/status", {"status": "lost"}),
        ("/admin/departures/CITY0/guide", {"guide": "1"}),
        ("/admin/departures/CITY0/cancel", {"reason": "x", "confirm": "CITY0"}),
        (f"/admin/incidents/{incident.id}/update", {"text": "x"}),
        (f"/admin/incidents/{incident.id}/resolve", {}),
        (f"/admin/bookings/{booking.reference}/cancel", {}),
        (
            f"/admin/bookings/{booking.reference}/refund",
            {"payment": str(ids["payment"]), "amount": "1"},
        ),
        (f"/admin/bookings/{booking.reference}/resend", {}),
        ("/admin/departures/CITY0/guide/assign", {"guide": "1"}),
        ("/admin/departures/CITY0/guide/release", {}),
        ("/admin/departures/CITY0/check-in", {"booking": booking.reference}),
        ("/admin/crisis/cancel", {"code": "CITY0", "reason": "x"}),
        ("/admin/departures/CITY4/cancellation/called", {"phone": "+12025550151"}),
        (f"/admin/access/staff/{ids['staff']}/role", {"role": "owner"}),
        (f"/admin/access/staff/{ids['staff']}/link", {}),
        (f"/admin/guides/{ids['guide']}/time-off", {"first": "2030-01-01"}),
        (f"/admin/guides/{ids['guide']}/time-off/{ids['off']}/delete", {}),
        (f"/admin/guides/{ids['guide']}/languages", {"languages-0": "pt"}),
    ]
    for url, data in posts:
        assert intruder.post(url, data, follow=False).status_code == 404, url
    # Search and lists never show the other organization's rows.
    assert "Nothing found" in intruder.get(f"/admin/search?q={booking.reference}").text
    assert "Nothing found" in intruder.get("/admin/search?q=grace").text
    assert "CITY0" not in intruder.get("/admin/departures").text
    assert "Maya Gurung" not in intruder.get("/admin/guides").text
    assert intruder.get("/admin/inbox/poll").get_json()["open"] == 0
    # The other organization's report counts none of A's money or bookings.
    report = intruder.get("/admin/reports/summary.csv").text
    assert "bookings made,0" in report and "revenue (USD),0.00" in report
    with factory() as s:  # and nothing of A's changed
        assert s.get(Booking, booking.id).status == BookingStatus.CONFIRMED
        assert s.get(Incident, incident.id).status == "open"
        assert s.get(GuideTimeOff, ids["off"]) is not None
        assert s.get_one(Guide, ids["guide"]).languages == []
        assert s.get(Lead, lead.id).status == LeadStatus.NEW
        assert departure(s, the_org_by_slug(s, "adventure-treks"), "CITY0").status == "open"


def test_a_user_of_one_organization_cannot_assign_to_another_organizations_staff(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("agent")
    with factory() as s:
        other = import_org(
            s,
            utcnow(),
            **catalog_data(
                organization={**catalog_data()["organization"], "slug": "x-co", "numbers": []},
                staff=[],
                guides=[],
                tours=[],
            ),
        )
        stranger = make_staff(s, other, "sales", "stranger@x.example")
        conv = conversation_of(s, ada.phone)
        before = conv.assigned_to_id  # asking for a person gave it to the enquiry's rep
    page = owner.post(f"/admin/inbox/{conv.id}/assign", {"assignee": str(stranger.id)})
    assert "not on your team" in page.text
    with factory() as s:
        assigned = s.get(Conversation, conv.id).assigned_to_id
        assert assigned == before and assigned != stranger.id
