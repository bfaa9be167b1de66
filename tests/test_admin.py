"""The staff admin through Flask's test client: every page and action, role limits,
organization isolation (by guessing ids too), CSRF refusals, login and sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import Config, TestConfig
from models import (
    Booking,
    BookingStatus,
    Conversation,
    ConversationNote,
    Customer,
    DepartureStatus,
    Guide,
    Incident,
    Lead,
    LeadStatus,
    Message,
    Organization,
    Payment,
    Quote,
    StaffUser,
    utcnow,
)
from services import incidents, leads, payments
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import catalog_data, departure, hold, make_customer
from tests.staff import StaffClient, make_staff
from tests.test_conversations import day, live_catalog

OWNER, OPS, SALES = "olivia@example.com", "priya@example.com", "sam@example.com"


def admin_catalog() -> dict:
    data = live_catalog()
    data["guides"].append(
        {"name": "Maya Gurung", "phone": "+9779800000003", "tours": ["city-walk", "sunset-tour"]}
    )
    data["tours"][2]["departures"].append(
        {"code": "CITY0", "start": f"{day(0)} 23:30", "capacity": 10, "guide": "+9779800000003"}
    )
    return data


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    with factory() as s:
        org = import_org(s, utcnow(), **admin_catalog())
        make_staff(s, org, "owner", OWNER, "Olivia")
        make_staff(s, org, "ops", OPS, "Priya")
        make_staff(s, org, "sales", SALES, "Sam")
    return create_app(config)


def as_staff(client: FlaskClient, email: str) -> StaffClient:
    staff = StaffClient(client)
    assert staff.login(email).status_code == 302
    return staff


@pytest.fixture
def owner(client: FlaskClient) -> StaffClient:
    return as_staff(client, OWNER)


@pytest.fixture
def sales(app: Flask) -> StaffClient:
    return as_staff(app.test_client(), SALES)


@pytest.fixture
def ops(app: Flask) -> StaffClient:
    return as_staff(app.test_client(), OPS)


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone="+12025550101", name="Ada")


def the_org(s: Session) -> Organization:
    return s.scalars(select(Organization)).one()


def conversation_of(s: Session, phone: str) -> Conversation:
    return s.scalars(select(Conversation).join(Customer).where(Customer.phone == phone)).one()


# --- login, sessions, CSRF ---------------------------------------------------------------


def test_pages_need_a_login_and_a_wrong_password_is_refused(client: FlaskClient) -> None:
    response = client.get("/admin/inbox")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    staff = StaffClient(client)
    refused = staff.login(OWNER, "not-the-password")
    assert refused.status_code == 401
    assert "do not match" in refused.text
    assert staff.login("nobody@example.com").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_login_logout_and_the_cookie_flags(client: FlaskClient) -> None:
    staff = StaffClient(client)
    response = staff.login(OWNER)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/admin/")
    assert page.status_code == 200 and "Olivia" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")  # served as https
    staff.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_the_session_cookie_is_secure_when_served_over_https() -> None:
    assert Config({"PUBLIC_BASE_URL": "https://bot.example.com"}).SESSION_COOKIE_SECURE
    assert not Config({}).SESSION_COOKIE_SECURE  # the embedded default is plain http


def test_login_never_redirects_off_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x"):
        page = client.get("/admin/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        response = client.post(
            f"/admin/login?next={target}",
            data={"email": OWNER, "password": "correct-horse-battery", "csrf_token": token},
        )
        assert response.headers["Location"] == "/admin/"
        client.get("/admin/")  # the login worked
        StaffClient(
            client, re.search(r'csrf-token" content="([^"]+)"', client.get("/admin/").text)[1]
        ).post("/admin/logout")  # type: ignore[index]


def test_a_session_ends_after_its_absolute_limit(client: FlaskClient) -> None:
    as_staff(client, OWNER)
    with client.session_transaction() as sess:
        sess["logged_in_at"] -= 25 * 3600
    assert client.get("/admin/").status_code == 302


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("can I talk to someone")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
    response = owner.client.post(f"/admin/inbox/{conv.id}/reply", data={"body": "hello"})
    assert response.status_code == 400
    assert "CSRF" in response.text
    response = owner.client.post(f"/admin/inbox/{conv.id}/resolve", data={"csrf_token": "forged"})
    assert response.status_code == 400
    with factory() as s:
        assert conversation_of(s, ada.phone).status == "pending"
        assert not s.scalars(select(Message).where(Message.kind == "agent")).all()


def test_the_login_form_itself_needs_the_csrf_token(client: FlaskClient) -> None:
    response = client.post(
        "/admin/login", data={"email": OWNER, "password": "correct-horse-battery"}
    )
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


# --- inbox -------------------------------------------------------------------------------


def test_a_handoff_is_first_in_the_inbox_with_its_unread_count(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    Chat(client, factory, phone="+12025550102", name="Bob").say("hi")
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say("can I talk to a person please")
    ada.say("it's about a group of 12")
    page = owner.get("/admin/inbox")
    assert page.status_code == 200
    rows = re.findall(r'data-conversation="(\d+)"', page.text)
    with factory() as s:
        ada_conv = conversation_of(s, ada.phone)
    assert rows[0] == str(ada_conv.id)
    assert "wants a person" in page.text
    assert ada_conv.status == "pending" and ada_conv.unread_count == 2


def test_reply_goes_through_the_outbox_on_the_conversation_channel(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("can I talk to someone")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
    thread = owner.get(f"/admin/inbox/{conv.id}")
    assert "can I talk to someone" in thread.text
    page = owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "Hi Ada, Olivia here. How many?"})
    assert "Reply sent to the outbox" in page.text
    with factory() as s:
        sent = s.scalars(select(Message).where(Message.kind == "agent")).one()
        conv = s.get(Conversation, conv.id)
        olivia = s.scalars(select(StaffUser).where(StaffUser.email == OWNER)).one()
    assert sent.channel == "whatsapp" and sent.to_phone == ada.phone
    assert sent.status == "sent"  # the in-process job delivered it through the transport
    assert sent.sent_by_id == olivia.id
    assert conv.status == "open" and conv.unread_count == 0 and conv.handoff
    # While handed off, the bot stays quiet and staff see the customer's next message.
    assert ada.say("4 people") == ""
    poll = owner.get(f"/admin/inbox/{conv.id}/messages?after={sent.id}").get_json()
    assert "4 people" in poll["html"]
    assert poll["statuses"][str(sent.id)][0] == "sent"


def test_empty_and_oversized_replies_are_refused(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("agent")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
    assert "Write a reply first" in owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "  "}).text
    assert "too long" in owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "x" * 7000}).text
    with factory() as s:
        assert not s.scalars(select(Message).where(Message.kind == "agent")).all()


def test_outside_the_whatsapp_window_only_a_template_can_be_sent(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("agent")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
        conv.last_inbound_at = utcnow() - timedelta(hours=25)
        s.commit()
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert 'id="reply-form"' not in page.text
    assert "No approved template is configured" in page.text
    refused = owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "hello?"})
    assert "only allows an approved template" in refused.text

    with factory() as s:
        org = the_org(s)
        org.settings_json = {
            **org.settings_json,
            "whatsapp_template": {"content_sid": "HX" + "a" * 32},
        }
        s.commit()
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert 'id="template-form"' in page.text
    owner.post(
        f"/admin/inbox/{conv.id}/reply", {"template": "1", "summary": "about your group trip"}
    )
    with factory() as s:
        sent = s.scalars(select(Message).where(Message.kind == "agent")).one()
    assert sent.template_sid == "HX" + "a" * 32
    assert sent.template_variables == {"1": "Ada", "2": "about your group trip"}


def test_notes_are_private_assign_and_resolve(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("can I speak to someone")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
        sam = s.scalars(select(StaffUser).where(StaffUser.email == SALES)).one()
    owner.post(f"/admin/inbox/{conv.id}/note", {"note": "VIP, was here last year"})
    owner.post(f"/admin/inbox/{conv.id}/assign", {"assignee": str(sam.id)})
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert "VIP, was here last year" in page.text
    with factory() as s:
        assert s.scalars(select(ConversationNote)).one().body == "VIP, was here last year"
        assert not s.scalars(select(Message).where(Message.body.contains("VIP"))).all()
        assert s.get(Conversation, conv.id).assigned_to_id == sam.id
    page = owner.post(f"/admin/inbox/{conv.id}/resolve")
    with factory() as s:
        conv = s.get(Conversation, conv.id)
        assert conv.status == "resolved" and not conv.handoff and conv.state == "idle"
    assert "I can help you" in ada.say("menu")  # the bot answers again


def test_inbox_poll_changes_when_a_message_arrives(owner: StaffClient, ada: Chat) -> None:
    before = owner.get("/admin/inbox/poll").get_json()
    ada.say("hello there")
    after = owner.get("/admin/inbox/poll").get_json()
    assert after != before and after["unread"] == before["unread"] + 1
    assert "<strong>Ada</strong>" in owner.get("/admin/inbox").text


# --- leads -------------------------------------------------------------------------------


def a_lead(factory: sessionmaker[Session], phone: str = "+12025550101") -> Lead:
    with factory() as s:
        org = the_org(s)
        customer = make_customer(s, org, phone, utcnow(), name="Ada")
        lead = leads.create_lead(s, org, customer, utcnow(), source="whatsapp")
        s.commit()
        return lead


def test_lead_board_and_page(owner: StaffClient, factory: sessionmaker[Session]) -> None:
    lead = a_lead(factory)
    board = owner.get("/admin/leads")
    assert board.status_code == 200 and lead.reference in board.text
    page = owner.get(f"/admin/leads/{lead.reference}")
    assert page.status_code == 200 and "Preview quote" in page.text


def test_quote_is_previewed_before_it_is_sent(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    lead = a_lead(factory)
    preview = owner.get(f"/admin/leads/{lead.reference}?preview=1&departure=CITY3&tier_adult=2")
    assert "$25 × 2 = $50" in preview.text
    with factory() as s:
        assert not s.scalars(select(Quote)).all()  # nothing stored by a preview
    page = owner.post(
        f"/admin/leads/{lead.reference}/quote", {"departure": "CITY3", "tier_adult": "2"}
    )
    assert "sent to the customer" in page.text
    with factory() as s:
        quote = s.scalars(select(Quote)).one()
        told = s.scalars(select(Message).where(Message.to_phone == "+12025550101")).one()
        assert quote.total_minor == 5000 and quote.lead_id == lead.id
        assert quote.reference in told.body and "$50" in told.body
        assert s.get(Lead, lead.id).status == LeadStatus.QUOTED


def test_hold_from_a_lead_sends_the_payment_link(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    lead = a_lead(factory)
    page = sales.post(
        f"/admin/leads/{lead.reference}/hold",
        {"departure": "CITY3", "tier_adult": "2", "dietary": "vegan"},
    )
    assert "Payment link sent" in page.text
    with factory() as s:
        booking = s.scalars(select(Booking)).one()
        told = s.scalars(select(Message).where(Message.to_phone == "+12025550101")).one()
    assert booking.status == BookingStatus.HELD and booking.seats == 2
    assert booking.lead_id == lead.id and booking.dietary_notes == "vegan"
    assert f"{BASE_URL}/pay/{booking.reference}" in told.body


def test_a_hold_beyond_capacity_is_refused_with_the_reason(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    lead = a_lead(factory)
    page = owner.post(
        f"/admin/leads/{lead.reference}/hold", {"departure": "CITY3", "tier_adult": "5"}
    )
    assert "flash error" in page.text
    with factory() as s:
        assert not s.scalars(select(Booking)).all()
    bad = owner.post(
        f"/admin/leads/{lead.reference}/hold", {"departure": "CITY3", "tier_adult": "two"}
    )
    assert bad.status_code == 400


def test_mark_a_lead_won_or_lost(owner: StaffClient, factory: sessionmaker[Session]) -> None:
    lead = a_lead(factory)
    owner.post(f"/admin/leads/{lead.reference}/status", {"status": "LOST", "note": "too pricey"})
    with factory() as s:
        assert s.get(Lead, lead.id).status == LeadStatus.LOST
    refused = owner.post(f"/admin/leads/{lead.reference}/status", {"status": "WON"})
    assert "cannot become WON" in refused.text
    assert (
        owner.post(f"/admin/leads/{lead.reference}/status", {"status": "BOGUS"}).status_code == 400
    )


# --- departures --------------------------------------------------------------------------


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


# --- incidents ---------------------------------------------------------------------------


def an_incident(factory: sessionmaker[Session]) -> Incident:
    with factory() as s:
        org = the_org(s)
        dep = departure(s, org, "CITY0")
        booking = hold(s, org, dep, "+12025550131", utcnow(), adults=1)
        booking.status = BookingStatus.CONFIRMED
        incidents.report_issue(s, org, dep.guide, dep, "Guest twisted an ankle", utcnow())
        s.commit()
        return s.scalars(select(Incident)).one()


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


# --- bookings, customers, search ---------------------------------------------------------


def a_paid_booking(factory: sessionmaker[Session]) -> Booking:
    with factory() as s:
        org = the_org(s)
        booking = hold(s, org, "EBC100", "+12025550141", utcnow(), adults=1)
        booking.customer.name = "Grace Hopper"
        payment, _ = payments.start_checkout(s, org, booking, "deposit", utcnow(), BASE_URL)
        payments.settle(s, org, payment, utcnow(), source="fake")
        s.commit()
        return booking


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
    assert "payment.received" in page.text and "Resend confirmation" in page.text
    customer = owner.get(f"/admin/customers/{booking.customer_id}")
    assert booking.reference in customer.text


def test_cancel_a_booking_refunds_by_the_policy(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    page = sales.get(f"/admin/bookings/{booking.reference}")
    assert "Cancelling now:" in page.text
    assert 'name="amount"' not in page.text  # sales cannot make a manual refund
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


# --- organization isolation --------------------------------------------------------------


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
        ids = {"conv": conv.id, "customer": customer.id, "payment": payment.id}
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
        (f"/admin/leads/{lead.reference}/status", {"status": "LOST"}),
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
    ]
    for url, data in posts:
        assert intruder.post(url, data, follow=False).status_code == 404, url
    # Search and lists never show the other organization's rows.
    assert "Nothing found" in intruder.get(f"/admin/search?q={booking.reference}").text
    assert "Nothing found" in intruder.get("/admin/search?q=grace").text
    assert "CITY0" not in intruder.get("/admin/departures").text
    assert intruder.get("/admin/inbox/poll").get_json()["open"] == 0
    with factory() as s:  # and nothing of A's changed
        assert s.get(Booking, booking.id).status == BookingStatus.CONFIRMED
        assert s.get(Incident, incident.id).status == "open"
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
    page = owner.post(f"/admin/inbox/{conv.id}/assign", {"assignee": str(stranger.id)})
    assert "not on your team" in page.text
    with factory() as s:
        assert s.get(Conversation, conv.id).assigned_to_id is None


def the_org_by_slug(s: Session, slug: str) -> Organization:
    return s.scalars(select(Organization).where(Organization.slug == slug)).one()


# --- CLI ---------------------------------------------------------------------------------


def test_flask_users_create(app: Flask, factory: sessionmaker[Session]) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "adventure-treks",
            "--role",
            "ops",
            "--email",
            "New@Example.com",
            "--name",
            "Nia",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created ops new@example.com" in result.output
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "adventure-treks",
            "--role",
            "ops",
            "--email",
            "new@example.com",
            "--password",
            "a-long-password",
        ]
    )
    assert again.exit_code == 1 and "already has an account" in again.output
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "adventure-treks",
            "--role",
            "sales",
            "--email",
            "s@example.com",
            "--password",
            "short",
        ]
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    nowhere = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "nope",
            "--role",
            "sales",
            "--email",
            "t@example.com",
            "--password",
            "a-long-password",
        ]
    )
    assert nowhere.exit_code == 1 and "no organization" in nowhere.output
    staff = StaffClient(app.test_client())
    assert staff.login("new@example.com", "a-long-password").status_code == 302
