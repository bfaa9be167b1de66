"""What a sales rep does for a lead from the admin: a quote (previewed, then sent) and a hold
with its payment link. The customer hears on the channel they last wrote on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from models import (
    Booking,
    Customer,
    Departure,
    Lead,
    LeadStatus,
    Organization,
    Quote,
    StaffUser,
)
from services import inventory, leads, notify, payments, phrases, pricing, timeline
from services.errors import ServiceError
from services.i18n import Voice, customer_voice
from services.pricing import PriceBreakdown


class SalesError(ServiceError):
    pass


def quote_message(
    voice: Voice, departure: Departure, price: PriceBreakdown, reference: str | None
) -> str:
    what = dict(tour=departure.tour.name, when=voice.when(departure.starts_at))
    return "\n".join(
        [
            voice._("Your quote {reference}: {tour}, {when}", reference=reference, **what)
            if reference
            else voice._("Your quote: {tour}, {when}", **what),
            phrases.price_breakdown(voice, price),
            voice._(
                "Deposit {deposit}, total {total}.",
                deposit=voice.money(price.deposit_minor, price.currency),
                total=voice.money(price.total_minor, price.currency),
            ),
            voice._("Reply YES and we'll hold your seats."),
        ]
    )


def check_room(
    session: Session, departure: Departure, party: Mapping[str, int], now: datetime
) -> None:
    """A quote is only for seats that are there now (it does not hold them: the YES does,
    under the lock)."""
    inventory.check_bookable(departure, now)
    free = inventory.occupancy(session, departure, now).spots_left
    wanted = sum(party.values())
    if wanted > free:
        raise inventory.NotEnoughSeats(departure, wanted, free)


def preview_quote(
    session: Session,
    org: Organization,
    departure: Departure,
    party: Mapping[str, int],
    now: datetime,
    customer: Customer | None = None,
) -> tuple[PriceBreakdown, str]:
    """The price and the exact message the customer will read, before anything is stored
    or sent; refused when the departure has no room for the party."""
    price = pricing.price_party(org, departure, party, now)
    check_room(session, departure, party, now)
    return price, quote_message(customer_voice(org, customer), departure, price, None)


def send_quote(
    session: Session,
    org: Organization,
    lead: Lead,
    departure: Departure,
    party: Mapping[str, int],
    now: datetime,
    *,
    staff: StaffUser,
) -> Quote:
    """Prices, stores and sends the quote. Its message says "Reply YES": the caller readies
    the bot for that answer (bot.staff.expect_quote_answer), since services do not write
    the bot's state."""
    if departure.organization_id != org.id or lead.organization_id != org.id:
        raise SalesError("That departure is not yours.")
    if pricing.children_alone(party):
        raise SalesError(pricing.children_alone_refusal(departure))
    pricing.validate_party(departure, party)
    check_room(session, departure, party, now)
    quote = pricing.create_quote(session, org, departure, party, now, lead=lead)
    price = pricing.price_party(org, departure, party, now)
    voice = customer_voice(org, lead.customer)
    notify.to_customer(
        session, org, lead.customer, quote_message(voice, departure, price, quote.reference), now
    )
    lead.departure_id, lead.tour_id, lead.party = departure.id, departure.tour_id, dict(quote.party)
    actor = f"staff:{staff.id}"
    if lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED):
        leads.change_status(session, lead, LeadStatus.QUOTED, now, actor=actor, source="admin")
    timeline.record(
        session,
        lead,
        "lead.quote_sent",
        actor=actor,
        source="admin",
        at=now,
        content={"quote": quote.reference, "departure": departure.code, "total": quote.total_minor},
    )
    return quote


def hold_for_lead(
    session: Session,
    org: Organization,
    lead: Lead,
    departure: Departure,
    party: Mapping[str, int],
    now: datetime,
    *,
    staff: StaffUser,
    base_url: str | None,
    dietary_notes: str | None = None,
) -> Booking:
    """Holds the seats (under the departure lock, like any hold) and sends the payment link
    (at base_url, the public address). A staff hold needs no owner approval: staff are the
    ones deciding."""
    if departure.organization_id != org.id or lead.organization_id != org.id:
        raise SalesError("That departure is not yours.")
    if pricing.children_alone(party):
        raise SalesError(pricing.children_alone_refusal(departure))
    booking = inventory.hold_seats(
        session,
        org,
        departure,
        lead.customer,
        party,
        now,
        source="admin",
        actor=f"staff:{staff.id}",
        lead=lead,
        dietary_notes=(dietary_notes or "").strip()[:500] or None,
    )
    voice = customer_voice(org, lead.customer)
    notify.to_customer(
        session,
        org,
        lead.customer,
        hold_message(voice, booking, base_url),
        now,
        reference=booking.reference,
    )
    lead.departure_id, lead.tour_id, lead.party = (
        departure.id,
        departure.tour_id,
        dict(booking.party),
    )
    return booking


def hold_message(voice: Voice, booking: Booking, base_url: str | None) -> str:
    """The hold a rep made, with its payment link (the bot's own hold says the same)."""
    dep = booking.departure
    assert booking.hold_expires_at is not None
    return (
        voice.n_(
            "We've held {n} seat for you on {tour}, {when} ({party}).",
            "We've held {n} seats for you on {tour}, {when} ({party}).",
            booking.seats,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
            party=phrases.party(voice, booking.party),
        )
        + "\n"
        + voice._(
            "Booking: {reference}\n"
            "Hold expires: {expires}\n"
            "Deposit {deposit} or pay in full {total}.\n"
            "Payment link: {link}",
            reference=booking.reference,
            expires=voice.when(booking.hold_expires_at),
            deposit=voice.money(booking.deposit_minor, booking.currency),
            total=voice.money(booking.total_minor, booking.currency),
            link=payments.pay_url(booking, base_url),
        )
    )
