"""Leads: the board, a quote previewed before it is sent, a hold with its payment link,
won and lost."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    Departure,
    Lead,
    LeadStatus,
    Message,
    Quote,
    Tour,
    utcnow,
)
from tests.admin.support import a_lead
from tests.chat import BASE_URL, Chat
from tests.staff import StaffClient


def test_lead_board_and_page(owner: StaffClient, factory: sessionmaker[Session]) -> None:
    lead = a_lead(factory)
    board = owner.get("/admin/leads")
    assert board.status_code == 200 and lead.reference in board.text
    page = owner.get(f"/admin/leads/{lead.reference}")
    assert page.status_code == 200 and "Preview quote" in page.text


def test_lead_notes_keep_their_lines_link_their_links_and_escape_the_rest(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    lead = a_lead(factory)
    with factory() as s:
        s.get(
            Lead, lead.id
        ).notes = (
            "vegetarian <script>alert(1)</script>\nHotel Yak https://maps.google.com/?q=27.7,85.3"
        )
        s.commit()
    page = owner.get(f"/admin/leads/{lead.reference}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert '<a href="https://maps.google.com/?q=27.7,85.3"' in page


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
    owner.post(f"/admin/leads/{lead.reference}/status", {"status": "lost", "note": "too pricey"})
    with factory() as s:
        assert s.get(Lead, lead.id).status == LeadStatus.LOST
    refused = owner.post(f"/admin/leads/{lead.reference}/status", {"status": "won"})
    assert "cannot become won" in refused.text
    assert (
        owner.post(f"/admin/leads/{lead.reference}/status", {"status": "BOGUS"}).status_code == 400
    )


def test_the_customer_can_say_yes_to_a_quote_sent_from_the_admin(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say("Hi! I'm interested in the Old City Walk for 2 people")
    with factory() as s:
        lead = s.scalars(select(Lead)).one()
    owner.post(f"/admin/leads/{lead.reference}/quote", {"departure": "CITY4", "tier_adult": "2"})
    held = ada.say("yes")
    assert "Booking: BK-" in held and "/pay/BK-" in held
    with factory() as s:
        booking = s.scalars(select(Booking)).one()
        assert (booking.departure.code, booking.seats, booking.lead_id) == ("CITY4", 2, lead.id)


def test_yes_to_a_staff_quote_holds_its_party_after_an_earlier_bot_quote(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """The bot quoted 2 people; the rep then quotes 3. YES holds the rep's quote, the one
    the customer saw last, instead of quoting the bot's price for 3 all over again."""
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say("Hi! I'm interested in the Old City Walk for 2 people")
    ada.say("yes")
    assert "Reply YES to hold" in ada.say("1")
    with factory() as s:
        lead = s.scalars(select(Lead)).one()
    owner.post(f"/admin/leads/{lead.reference}/quote", {"departure": "CITY4", "tier_adult": "3"})
    held = ada.say("yes")
    assert "Booking: BK-" in held
    with factory() as s:
        booking = s.scalars(select(Booking)).one()
        assert (booking.departure.code, booking.seats) == ("CITY4", 3)


def test_a_lead_s_quote_or_hold_of_children_alone_or_other_digits_is_refused(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    """As at the desk: no tour takes children alone, and '٣' is not 3."""
    lead = a_lead(factory)
    with factory() as s:
        code = s.scalars(
            select(Departure.code)
            .join(Tour)
            .where(Tour.slug == "sunset-tour", Departure.starts_at > utcnow())
            .order_by(Departure.starts_at)
        ).first()
    for action in ("quote", "hold"):
        alone = owner.post(
            f"/admin/leads/{lead.reference}/{action}", {"departure": code, "tier_child": "3"}
        )
        assert "no children alone" in alone.text, action
        odd = owner.post(
            f"/admin/leads/{lead.reference}/{action}",
            {"departure": code, "tier_adult": "٣"},
            follow=False,
        )
        assert odd.status_code == 400, action
    with factory() as s:
        assert not s.scalars(select(Booking)).all() and not s.scalars(select(Quote)).all()
