"""What a sales rep does for a lead from the admin: a quote (previewed, then sent) and a hold
with its payment link. The customer hears on the channel they last wrote on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from models import Booking, Departure, Lead, LeadStatus, Organization, Quote, StaffUser
from services import inventory, leads, notify, payments, pricing, timeline
from services.errors import ServiceError
from services.money import format_money
from services.pricing import PriceBreakdown


class SalesError(ServiceError):
    pass


def _party_words(party: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {tier}" for tier, count in party.items() if count)


def quote_message(
    org: Organization, departure: Departure, price: PriceBreakdown, reference: str | None
) -> str:
    lines = [
        f"Your quote{f' {reference}' if reference else ''}: {departure.tour.name}, "
        f"{notify.local_time(org, departure.starts_at)}",
        price.describe(),
        f"Deposit {format_money(price.deposit_minor, price.currency)}, "
        f"total {format_money(price.total_minor, price.currency)}.",
        "Reply YES and we'll hold your seats.",
    ]
    return "\n".join(lines)


def preview_quote(
    org: Organization, departure: Departure, party: Mapping[str, int], now: datetime
) -> tuple[PriceBreakdown, str]:
    """The price and the exact message, before anything is stored or sent."""
    price = pricing.price_party(org, departure, party, now)
    return price, quote_message(org, departure, price, None)


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
    quote = pricing.create_quote(session, org, departure, party, now, lead=lead)
    price = pricing.price_party(org, departure, party, now)
    notify.to_customer(
        session, org, lead.customer, quote_message(org, departure, price, quote.reference), now
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
    dietary_notes: str | None = None,
) -> Booking:
    """Holds the seats (under the departure lock, like any hold) and sends the payment link.
    A staff hold needs no owner approval: staff are the ones deciding."""
    if departure.organization_id != org.id or lead.organization_id != org.id:
        raise SalesError("That departure is not yours.")
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
    notify.to_customer(session, org, lead.customer, hold_message(org, booking), now)
    lead.departure_id, lead.tour_id, lead.party = (
        departure.id,
        departure.tour_id,
        dict(booking.party),
    )
    return booking


def hold_message(org: Organization, booking: Booking) -> str:
    dep = booking.departure
    assert booking.hold_expires_at is not None
    return (
        f"We've held {booking.seats} seat{'s' if booking.seats != 1 else ''} for you on "
        f"{dep.tour.name}, {notify.local_time(org, dep.starts_at)} "
        f"({_party_words(booking.party)}).\n"
        f"Booking: {booking.reference}\n"
        f"Hold expires: {notify.local_time(org, booking.hold_expires_at)}\n"
        f"Deposit {format_money(booking.deposit_minor, booking.currency)} or pay in full "
        f"{format_money(booking.total_minor, booking.currency)}.\n"
        f"Payment link: {payments.pay_url(booking)}"
    )
