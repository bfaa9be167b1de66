"""Guide operations over the signed webhook: assignment offers, CHECKIN / ISSUE / UPDATE /
CHECKOUT / MANIFEST, refusals that change nothing, and the manifest split across messages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import (
    Booking,
    Departure,
    Guide,
    GuideAssignment,
    Incident,
    Message,
    Organization,
    PayrollEntry,
    TimelineEvent,
    utcnow,
)
from services import assignments, bookings, crew, incidents, inventory
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import catalog_data, departure, make_customer, new_departure

RAJESH = "+9779800000001"
AMIT = "+9779800000002"
OPS = "+15551230002"
OWNER = "+15551230000"


def live_catalog() -> dict:
    """A trek starting in an hour (Rajesh's), one in two days, one next month without a guide."""
    now = utcnow().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kathmandu"))
    data = catalog_data()
    data["guides"] = [
        {"name": "Rajesh Kumar", "phone": RAJESH, "tours": ["ebc-trek"], "trip_fee": "800.00"},
        {"name": "Amit Sharma", "phone": AMIT, "tours": ["ebc-trek"], "trip_fee": "600.00"},
    ]
    soon = now + timedelta(hours=1)
    data["tours"][0]["departures"] = [
        {"code": "EBCSOON", "start": f"{soon:%Y-%m-%d %H:%M}", "capacity": 50, "guide": RAJESH},
        {"code": "EBCLATER", "start": f"{now + timedelta(days=2):%Y-%m-%d %H:%M}", "capacity": 12},
        {"code": "EBCNEXT", "start": f"{now + timedelta(days=30):%Y-%m-%d 06:00}", "capacity": 12},
    ]
    return data


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    with factory() as s:
        import_org(s, utcnow() - timedelta(days=1), **live_catalog())
        org = s.scalar(select(Organization))
        dep = departure(s, org, "EBCSOON")
        for i, party in enumerate([{"adult": 2}, {"adult": 1}]):
            booking = inventory.hold_seats(
                s,
                org,
                dep,
                make_customer(s, org, f"+1202555020{i}", utcnow(), name=f"Guest {i}"),
                party,
                utcnow(),
                source="sms",
            )
            bookings.confirm_booking(s, org, booking, utcnow())
        s.commit()
    return create_app(config)


@pytest.fixture
def rajesh(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone=RAJESH, whatsapp=True)


def sent_to(chat: Chat, phone: str, since: int = 0) -> list[str]:
    return [m.body for m in chat.outbox(since) if m.to_phone == phone]


def last_id(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.scalar(select(func.max(Message.id))) or 0


def test_the_whole_trip(rajesh: Chat, factory: sessionmaker[Session]) -> None:
    # Checking in, one hour before the start.
    mark = last_id(factory)
    reply = rajesh.say("check in EBCSOON")
    assert (
        "Checked in" in reply
        and "Group: 3 guests" in reply
        and "14 days" in reply
        and OWNER in reply
    )
    assert any("checked in" in b for b in sent_to(rajesh, OPS, mark))
    for i in range(2):
        [started] = sent_to(rajesh, f"+1202555020{i}", mark)
        assert "has started" in started and "Rajesh Kumar" in started and RAJESH in started
    assert "already checked in" in rajesh.say("CHECKIN EBCSOON")  # repeating changes nothing
    with factory() as s:
        dep = s.scalar(select(Departure).where(Departure.code == "EBCSOON"))
        assert dep.status == "started" and dep.checked_in_at is not None
        assert {b.attendance for b in s.scalars(select(Booking))} == {"on_trip"}

    # An incident, without the code (the guide has one trip under way).
    mark = last_id(factory)
    reply = rajesh.say("ISSUE One guest showing altitude sickness symptoms, may need evacuation")
    number = re.search(r"INC-\d+", reply).group(0)
    assert "Severity: High" in reply and OWNER in reply
    assert any(number in b and "HIGH" in b for b in sent_to(rajesh, OPS, mark))
    assert any(number in b for b in sent_to(rajesh, OWNER, mark))  # high severity: the owner too
    assert "Say what changed" in rajesh.say("UPDATE")  # nothing to page ops with
    assert "Update added" in rajesh.say("update EBCSOON guest resting, monitoring overnight")
    resolved = rajesh.say("UPDATE all good, guest feeling better, back on track")
    assert "Resolved" in resolved and "Response time: 0 minutes" in resolved
    with factory() as s:
        incident = s.scalar(select(Incident))
        assert (incident.status, incident.severity, len(incident.updates)) == (
            "resolved",
            "high",
            2,
        )

    # Checking out: bookings completed, payroll recorded, customers thanked.
    mark = last_id(factory)
    reply = rajesh.say("CHECKOUT EBCSOON All 3 guests safe. Amazing journey!")
    assert "Payroll: $800 added" in reply
    assert "already checked out" in rajesh.say("checkout EBCSOON")
    with factory() as s:
        assert {b.status for b in s.scalars(select(Booking))} == {"completed"}
        [pay] = s.scalars(select(PayrollEntry)).all()
        assert (pay.amount_minor, pay.currency) == (80000, "USD")
        events = [
            e.event_type
            for e in s.scalars(select(TimelineEvent).where(TimelineEvent.object_ref == "EBCSOON"))
        ]
        for event in (
            "departure.started",
            "incident.opened",
            "incident.updated",
            "incident.resolved",
            "departure.completed",
        ):
            assert event in events
    assert all(
        "feedback" in b or "score" in b
        for b in [m for i in range(2) for m in sent_to(rajesh, f"+1202555020{i}", mark)]
    )


def test_assignment_offer_accept_and_decline_with_replacements(
    client: FlaskClient, factory
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        dep = departure(s, org, "EBCNEXT")
        amit = s.scalar(select(Guide).where(Guide.phone == AMIT))
        assignments.offer_assignment(s, org, dep, amit, utcnow())
        s.commit()
    amit_chat = Chat(client, factory, phone=AMIT)
    [offer] = sent_to(amit_chat, AMIT)
    assert (
        "EBCNEXT" in offer
        and "$600" in offer
        and "ACCEPT" in offer
        and "Kathmandu Airport" in offer
    )
    mark = last_id(factory)
    reply = amit_chat.say("decline EBCNEXT family wedding")
    assert "released" in reply
    [to_ops] = sent_to(amit_chat, OPS, mark)
    assert "Amit Sharma declined EBCNEXT" in to_ops and "family wedding" in to_ops
    assert "Rajesh Kumar" in to_ops  # qualified and free that week
    with factory() as s:
        org = s.scalar(select(Organization))
        assignments.offer_assignment(
            s,
            org,
            departure(s, org, "EBCNEXT"),
            s.scalar(select(Guide).where(Guide.phone == RAJESH)),
            utcnow(),
        )
        s.commit()
    rajesh = Chat(client, factory, phone=RAJESH)
    assert "Assignment confirmed" in rajesh.say("ACCEPT EBCNEXT")
    assert "already accepted" in rajesh.say("accept EBCNEXT")
    with factory() as s:
        assert s.scalar(select(Departure).where(Departure.code == "EBCNEXT")).guide.phone == RAJESH
        statuses = sorted(a.status for a in s.scalars(select(GuideAssignment)))
        assert statuses == ["accepted", "declined"]


def test_a_busy_or_unqualified_guide_cannot_be_offered(app: Flask, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        rajesh = s.scalar(select(Guide).where(Guide.phone == RAJESH))
        with pytest.raises(crew.OperationsError, match="another departure"):
            assignments.offer_assignment(s, org, departure(s, org, "EBCLATER"), rajesh, utcnow())
        with pytest.raises(crew.OperationsError, match="not qualified"):
            assignments.offer_assignment(s, org, departure(s, org, "CITY0120"), rajesh, utcnow())


@pytest.mark.parametrize(
    ("who", "text", "answer"),
    [
        ("+12025550300", "CHECKIN EBCSOON", "I can help you"),  # a customer gets no privilege
        (AMIT, "CHECKIN EBCSOON", "not assigned to you"),
        (RAJESH, "CHECKOUT EBCSOON", "not been checked in"),
        (RAJESH, "CHECKIN NOPE123", "no departure NOPE123"),
        (RAJESH, "UPDATE EBCSOON all good", "no open incident"),
        (RAJESH, "ISSUE EBCSOON", "Say what happened"),
        (RAJESH, "what's up", "Guide commands"),
    ],
)
def test_refusals_are_clear_and_change_nothing(
    client: FlaskClient, factory, who: str, text: str, answer: str
) -> None:
    reply = Chat(client, factory, phone=who).say(text)
    assert answer in reply
    with factory() as s:
        assert s.scalar(select(Departure.status).where(Departure.code == "EBCSOON")) == "open"
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_two_days_early_is_refused(client: FlaskClient, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        later = departure(s, org, "EBCLATER")
        later.guide_id = s.scalar(select(Guide.id).where(Guide.phone == AMIT))
        s.commit()
    reply = Chat(client, factory, phone=AMIT).say("CHECKIN EBCLATER")
    assert "Too early" in reply
    with factory() as s:
        assert s.scalar(select(Departure.status).where(Departure.code == "EBCLATER")) == "open"


def test_severity_rules() -> None:
    assert incidents.severity_of("Guest injured his ankle") == "high"
    assert incidents.severity_of("missing person near camp 2") == "high"
    assert incidents.severity_of("Vehicle breakdown at Pokhara checkpoint") == "medium"
    assert incidents.severity_of("heavy rain, we'll be late") == "medium"
    assert incidents.severity_of("forgot the snacks") == "low"
    # Injuries in a guide's words, not only a doctor's; and the same words in other senses.
    for text in ("one hiker twisted ankle", "guest fell on the ice", "guest fainted at lunch"):
        assert incidents.severity_of(text) == "high", text
    assert incidents.severity_of("knee pain after the descent") == "medium"
    assert incidents.severity_of("we fell behind schedule") == "low"


def test_manifest_of_40_participants_splits_between_bookings(client: FlaskClient, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        dep = departure(s, org, "EBCSOON")
        for i in range(19):  # 2 + 1 already booked; 19 more of 2 = 41 guests
            booking = inventory.hold_seats(
                s,
                org,
                dep,
                make_customer(s, org, f"+120255504{i:02d}", utcnow(), name=f"Traveller Number {i}"),
                {"adult": 1, "child": 1} if i % 3 else {"adult": 2},
                utcnow(),
                source="sms",
                dietary_notes="vegetarian, no nuts" if i % 4 == 0 else None,
                pickup_notes=f"Hotel Yak & Yeti, room {100 + i}" if i % 2 else None,
            )
            if i % 5:
                bookings.confirm_booking(s, org, booking, utcnow())
        s.commit()
    reply = Chat(client, factory, phone=RAJESH).say("MANIFEST EBCSOON")
    with factory() as s:
        parts = list(
            s.scalars(select(Message.body).where(Message.kind == "reply").order_by(Message.id))
        )
    assert len(parts) >= 2 and all(len(p) <= 1600 for p in parts)
    assert parts[0].startswith("MANIFEST EBCSOON") and "41 guests" in parts[0]
    text = "\n".join(parts)
    for i in range(19):
        assert f"Traveller Number {i} " in text  # nobody cut
    assert text.count("⚠️ DIET: VEGETARIAN, NO NUTS") == 5
    assert "possible no-show" in text and "UNPAID" in text
    for part in parts[1:]:
        assert re.match(r"^\d+\. ", part)  # each message starts at a booking, never inside one
    assert reply.startswith("MANIFEST")


def test_api_incidents_payroll_and_departure_times(
    rajesh: Chat, client: FlaskClient, factory
) -> None:
    from services import api_tokens

    rajesh.say("CHECKIN EBCSOON")
    rajesh.say("ISSUE EBCSOON bus broke down")
    rajesh.say("CHECKOUT EBCSOON done")
    with factory() as s:
        token = api_tokens.create_token(s, s.scalar(select(Organization)), utcnow())
        s.commit()
    auth = {"Authorization": f"Bearer {token}"}
    incidents = client.get("/api/v1/incidents?departure=EBCSOON&status=open", headers=auth).json[
        "items"
    ]
    assert [(i["severity"], i["status"]) for i in incidents] == [("medium", "open")]
    payroll = client.get(f"/api/v1/payroll?guide=%2B{RAJESH[1:]}", headers=auth).json["items"]
    assert [(p["departure"], p["amount_minor"]) for p in payroll] == [("EBCSOON", 80000)]
    dep = client.get("/api/v1/departures/EBCSOON", headers=auth).json
    assert dep["status"] == "completed" and dep["checked_in_at"] and dep["checked_out_at"]
    assert client.get("/api/v1/payroll?from=bad", headers=auth).status_code == 400


def test_ops_update_reaches_the_guide_and_customers_by_choice(rajesh: Chat, factory) -> None:
    rajesh.say("CHECKIN EBCSOON")
    rajesh.say("ISSUE EBCSOON vehicle breakdown at the checkpoint")
    with factory() as s:
        org = s.scalar(select(Organization))
        incident = s.scalar(select(Incident))
        mark = s.scalar(select(func.max(Message.id)))
        incidents.ops_update(
            s, org, incident, "Backup vehicle dispatched, ETA 11:20", utcnow(), staff_id=1
        )
        s.commit()
    assert any("Backup vehicle" in b for b in sent_to(rajesh, RAJESH, mark))
    assert not any("Backup vehicle" in b for b in sent_to(rajesh, "+12025550200", mark))
    with factory() as s:
        org = s.scalar(select(Organization))
        incident = s.scalar(select(Incident))
        incidents.ops_update(
            s,
            org,
            incident,
            "New vehicle arrives 11:20, delay about 45 minutes",
            utcnow(),
            tell_customers=True,
        )
        s.commit()
    assert any("45 minutes" in b for b in sent_to(rajesh, "+12025550200"))
    assert any("45 minutes" in b for b in sent_to(rajesh, "+12025550201"))


def test_replacing_a_guide_messages_both(client: FlaskClient, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        dep = departure(s, org, "EBCNEXT")
        dep.guide_id = s.scalar(select(Guide.id).where(Guide.phone == AMIT))
        s.commit()
        assignments.replace_guide(
            s,
            org,
            dep,
            s.scalar(select(Guide).where(Guide.phone == RAJESH)),
            utcnow(),
            reason="Amit is sick",
        )
        s.commit()
    chat = Chat(client, factory, phone=RAJESH)
    assert any("released you from EBCNEXT" in b and "sick" in b for b in sent_to(chat, AMIT))
    assert any("Trip assignment" in b and "EBCNEXT" in b for b in sent_to(chat, RAJESH))
    with factory() as s:
        assert (
            s.scalar(select(Departure.guide_id).where(Departure.code == "EBCNEXT")) is None
        )  # until ACCEPT


def test_manifest_today_and_help(rajesh: Chat) -> None:
    assert rajesh.say("manifest today").startswith("MANIFEST EBCSOON")
    help_text = rajesh.say("HELP")
    assert "CHECKIN" in help_text and "MANIFEST" in help_text


def test_todays_trip_late_in_the_evening_is_the_one_leaving_in_the_night(
    session: Session, org: Organization
) -> None:
    """'MANIFEST TODAY' or 'CHECKIN' at 23:30 for a trip leaving at 00:30: that trip (it was
    'Which trip?' from 23:00 on, when tests/test_guides' trip 'in an hour' is tomorrow)."""
    ktm = org.tz
    guide = session.scalar(select(Guide).where(Guide.phone == RAJESH))
    assert guide is not None
    evening = datetime(2027, 3, 10, 23, 30, tzinfo=ktm)
    night = new_departure(session, org, "EBCNIGHT", evening + timedelta(hours=1), 12)
    morning = new_departure(session, org, "EBCMORN", evening + timedelta(hours=9), 12)
    night.guide_id = morning.guide_id = guide.id
    session.flush()
    assert crew.todays_departure(session, org, guide, evening) == night
    night.guide_id = None
    session.flush()
    # The next morning's trip is tomorrow's, not tonight's.
    assert crew.todays_departure(session, org, guide, evening) is None
    assert crew.todays_departure(session, org, guide, evening + timedelta(hours=9)) == morning
