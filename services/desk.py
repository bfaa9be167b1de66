"""The booking desk: what staff do for a customer on the phone or at the counter. Find
what is free for the party (availability first), find or create the caller by phone, hold
the seats with a payment link on the customer's channel or confirm them with money taken
by hand (card by phone, cash, bank transfer); later change the party, move the booking to
another departure, and keep the guests' needs. Seats are always taken under the departure
lock, the same as the bot's holds (services.inventory)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AWAITING_PAYMENT_STATUSES,
    BOOKED_STATUSES,
    BookingStatus,
    Customer,
    Departure,
    Lead,
    Organization,
    Payment,
    PaymentStatus,
    StaffUser,
    Tour,
)
from models.booking import Booking
from services import (
    availability,
    booking_changes,
    customers,
    guest_needs,
    inventory,
    notify,
    payments,
    phrases,
    pricing,
    ratelimit,
    settlement,
    timeline,
    waitlist,
)
from services.errors import ServiceError
from services.guest_needs import GuestNeeds
from services.i18n import customer_voice
from services.locking import lock_departure
from services.money import format_money
from services.notify import local_time
from services.payments import PAYMENT_METHODS as PAYMENT_METHODS  # the admin's names
from services.phones import InvalidPhone, normalize_phone
from services.sales import hold_message

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DeskError(ServiceError):
    pass


@dataclass(frozen=True)
class ManualPayment:
    """Money staff took themselves."""

    amount_minor: int
    method: str
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.method not in PAYMENT_METHODS:
            raise DeskError(f"Choose how it was paid: {', '.join(PAYMENT_METHODS.values())}.")


# --- finding ------------------------------------------------------------------------------


def home_region(org: Organization) -> str | None:
    """The country a number typed without its country code belongs to: the owner's."""
    for phone in (org.owner_phone, *(org.ops_phones or ())):
        if phone:
            try:
                code = phonenumbers.parse(phone).country_code
            except phonenumbers.NumberParseException:
                continue
            # The country code's main region: +1 is "US" even for a +1 555 example number.
            region = phonenumbers.region_code_for_country_code(code or 0)
            if region and region != "ZZ":
                return str(region)
    return None


def caller_phone(org: Organization, raw: str) -> str:
    """A phone number as staff type it while talking ("(202) 555-0141", "+1 202…",
    "00977 980…") in E.164; a national number is read as the organization's country."""
    text = (raw or "").replace("\x00", "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        return normalize_phone(text)
    except InvalidPhone:
        pass
    try:
        return normalize_phone(text, home_region(org))
    except InvalidPhone:
        raise DeskError(
            f"{text or 'That'} is not a phone number we can text: type it with its country "
            "code (+44 …) or as dialled at home."
        ) from None


def find_caller(session: Session, org: Organization, raw: str) -> Customer | None:
    try:
        return customers.find_customer(session, org, caller_phone(org, raw))
    except DeskError:
        return None


def free_departures(
    session: Session,
    org: Organization,
    now: datetime,
    *,
    tour: Tour | None,
    first: date,
    last: date,
    party: Mapping[str, int] | None,
    limit: int | None = None,
) -> list[availability.AvailableDeparture]:
    """Departures with room for the whole party (priced for it), soonest first. Full and
    closed ones are never offered."""
    return availability.search(
        session,
        org,
        now,
        tour=tour,
        date_from=first,
        date_to=last,
        party=party or None,
        limit=limit,
    )


# --- booking ------------------------------------------------------------------------------


def _with_an_adult(departure: Departure, party: Mapping[str, int]) -> None:
    """A party of children only (0 adults + 3 children) is refused."""
    if pricing.children_alone(party):
        raise DeskError(pricing.children_alone_refusal(departure))


def book(
    session: Session,
    org: Organization,
    departure: Departure,
    party: Mapping[str, int],
    now: datetime,
    *,
    staff: StaffUser,
    phone: str,
    name: str | None = None,
    email: str | None = None,
    needs: GuestNeeds | None = None,
    lead: Lead | None = None,
    payment: ManualPayment | None = None,
    base_url: str | None,
    stripe: payments.StripeAccount,
    counts: ratelimit.Counter,
) -> Booking:
    """Holds the seats for the caller (found by phone, or created), with the payment link
    sent on their channel; or, with money taken by hand, confirms them at once. A seat
    that went a moment ago is refused (NotEnoughSeats) and nothing is stored."""
    if departure.organization_id != org.id:
        raise DeskError("That departure is not yours.")
    _with_an_adult(departure, party)
    customer, _ = customers.get_or_create_customer(
        session,
        org,
        caller_phone(org, phone),
        now,
        name=_clean(name, 200),
        email=_clean(email, 254),
    )
    if lead is not None and lead.customer_id != customer.id:
        lead = None  # a different number: not that enquiry's customer
    actor = f"staff:{staff.id}"
    booking = inventory.hold_seats(
        session,
        org,
        departure,
        customer,
        party,
        now,
        source="admin",
        actor=actor,
        lead=lead,
        dietary_notes=needs.dietary if needs else None,
        pickup_notes=needs.pickup if needs else None,
    )
    if needs is not None:
        guest_needs.apply(booking, guest_needs.of(booking).filled_from(needs))
    if lead is not None:
        lead.tour_id, lead.party = departure.tour_id, dict(booking.party)
    if payment is not None:
        record_payment(
            session, org, booking, payment, now, staff=staff, stripe=stripe, counts=counts
        )
    else:
        voice = customer_voice(org, customer)
        notify.to_customer(
            session,
            org,
            customer,
            hold_message(voice, booking, base_url),
            now,
            reference=booking.reference,
        )
    return booking


def record_payment(
    session: Session,
    org: Organization,
    booking: Booking,
    paid: ManualPayment,
    now: datetime,
    *,
    staff: StaffUser,
    stripe: payments.StripeAccount,
    counts: ratelimit.Counter,
) -> Payment:
    """Money staff took (card by phone, cash, bank transfer) applied like any payment: a
    hold is confirmed (at least the deposit), a confirmed booking's balance goes down, and
    the customer gets the confirmation."""
    label = PAYMENT_METHODS[paid.method]
    if booking.status == BookingStatus.PENDING_APPROVAL:
        raise DeskError(f"{booking.reference} awaits the owner's approval; approve it first.")
    if booking.status not in (*AWAITING_PAYMENT_STATUSES, BookingStatus.CONFIRMED):
        raise DeskError(f"{booking.reference} is {phrases.status(booking.status)}: nothing to pay.")
    owed = booking.balance_minor
    money = lambda minor: format_money(minor, booking.currency)  # noqa: E731
    if owed <= 0:
        raise DeskError(f"{booking.reference} is paid in full.")
    if not 0 < paid.amount_minor <= owed:
        raise DeskError(f"The amount must be more than 0 and at most what is owed, {money(owed)}.")
    confirming = booking.status != BookingStatus.CONFIRMED
    least = min(booking.deposit_minor, owed)
    if confirming and paid.amount_minor < least:
        raise DeskError(f"Confirming needs at least the deposit, {money(least)}.")
    kind = "balance" if not confirming else ("full" if paid.amount_minor == owed else "deposit")
    payment = Payment(
        organization_id=org.id,
        booking_id=booking.id,
        kind=kind,
        amount_minor=paid.amount_minor,
        currency=booking.currency,
        provider="manual",
        method=paid.method,
        external_reference=_clean(paid.reference, 100),
        recorded_by_id=staff.id,
        status=PaymentStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    outcome = settlement.settle(
        session, org, payment, now, stripe=stripe, counts=counts, source="admin"
    )
    if outcome == "refunded":
        # The seats went before the money was recorded: keep nothing, say so.
        raise DeskError(
            f"{booking.reference}'s seats are gone (its hold lapsed and they were sold); "
            "nothing was recorded. Hand the money back or book another departure."
        )
    timeline.record(
        session,
        booking,
        "payment.recorded",
        actor=f"staff:{staff.id}",
        source="admin",
        at=now,
        content={
            "payment": payment.id,
            "amount_minor": paid.amount_minor,
            "method": label,
            "reference": payment.external_reference,
        },
    )
    return payment


def update_needs(
    session: Session, booking: Booking, needs: GuestNeeds, now: datetime, *, staff: StaffUser
) -> dict[str, object]:
    changed = guest_needs.apply(booking, needs)
    if changed:
        timeline.record(
            session,
            booking,
            "booking.needs_updated",
            actor=f"staff:{staff.id}",
            source="admin",
            at=now,
            content={k: v for k, v in changed.items()},
        )
    return changed


# At most this far ahead may staff keep a hold: seats held longer are seats nobody can buy.
MAX_HOLD_DAYS = 14


def keep_hold_until(
    session: Session,
    org: Organization,
    booking: Booking,
    until: datetime,
    now: datetime,
    *,
    staff: StaffUser,
) -> datetime:
    """A hold kept longer (or shorter) at the customer's request: a new deadline still to
    come, before the departure starts, within MAX_HOLD_DAYS. Under the departure's lock: a
    hold already past its deadline has no seats any more (they count for others from that
    moment, swept or not) and is refused. The lapsing-hold reminder follows the new
    deadline (it is sent once per deadline)."""
    departure = lock_departure(session, booking.departure)
    session.refresh(booking)
    if booking.status not in AWAITING_PAYMENT_STATUSES:
        raise DeskError(
            f"{booking.reference} is {phrases.status(booking.status)}: there is no hold to keep."
        )
    before = booking.hold_expires_at
    if before is None or before <= now:
        raise DeskError(
            f"{booking.reference}'s hold has lapsed and its seats may be gone: book again."
        )
    if until <= now:
        raise DeskError("Choose a time still to come.")
    if until > departure.starts_at:
        raise DeskError(
            f"A hold ends before the departure starts ({local_time(org, departure.starts_at)})."
        )
    if until > now + timedelta(days=MAX_HOLD_DAYS):
        raise DeskError(f"A hold is kept at most {MAX_HOLD_DAYS} days from now.")
    booking.hold_expires_at = until
    timeline.record(
        session,
        booking,
        "booking.hold_extended",
        actor=f"staff:{staff.id}",
        source="admin",
        at=now,
        content={"from": local_time(org, before), "to": local_time(org, until)},
    )
    return until


# --- changing a booking ------------------------------------------------------------------
# The change itself is services.booking_changes (the chat's too): priced on the booking's
# terms, seats counted again under the departure locks. The desk adds what staff need
# around it: the freed seats offered to the waitlist, the customer told.


def change_party(
    session: Session,
    org: Organization,
    booking: Booking,
    party: Mapping[str, int],
    now: datetime,
    *,
    staff: StaffUser,
    base_url: str | None,
) -> booking_changes.Change:
    """More or fewer people on the same departure; the customer is told the new total and
    what is left to pay, with the link (change.over_paid_minor: paid beyond the new total,
    for a person to refund)."""
    _with_an_adult(booking.departure, party)
    change = booking_changes.apply(
        session, org, booking, now, party=party, actor=f"staff:{staff.id}", source="admin"
    )
    if change.extra_seats < 0:
        waitlist.offer_free_seats(session, org, booking.departure, now)
    _tell_changed(session, org, booking, now, base_url)
    return change


def move(
    session: Session,
    org: Organization,
    booking: Booking,
    to: Departure,
    now: datetime,
    *,
    staff: StaffUser,
    base_url: str | None,
) -> booking_changes.Change:
    """The same party on another departure of the tour; the seats it leaves go to that
    departure's waitlist, and the customer is told."""
    if to.organization_id != org.id:
        raise DeskError("That departure is not yours.")
    old = booking.departure
    change = booking_changes.apply(
        session, org, booking, now, departure=to, actor=f"staff:{staff.id}", source="admin"
    )
    session.flush()
    waitlist.offer_free_seats(session, org, old, now)
    _tell_changed(session, org, booking, now, base_url)
    return change


def _tell_changed(
    session: Session, org: Organization, booking: Booking, now: datetime, base_url: str | None
) -> None:
    voice = customer_voice(org, booking.customer)
    dep = booking.departure
    text = voice._(
        "Your booking {reference} is changed: {tour}, {when}, {party}. Total {total}.",
        reference=booking.reference,
        tour=dep.tour.name,
        when=voice.when(dep.starts_at),
        party=phrases.party(voice, booking.party),
        total=voice.money(booking.total_minor, booking.currency),
    )
    if booking.balance_minor and booking.status != BookingStatus.PENDING_APPROVAL:
        text += "\n" + voice._(
            "Paid {paid}, to pay {balance}: {link}",
            paid=voice.money(booking.paid_minor, booking.currency),
            balance=voice.money(booking.balance_minor, booking.currency),
            link=payments.pay_url(booking, base_url),
        )
    notify.to_customer(session, org, booking.customer, text, now, reference=booking.reference)


# --- customers ----------------------------------------------------------------------------


def update_customer(
    session: Session,
    org: Organization,
    customer: Customer,
    now: datetime,
    *,
    staff: StaffUser,
    name: str | None,
    email: str | None,
    phone: str | None,
    notes: str | None,
) -> list[str]:
    """Staff correct a customer's contact details (a typo in an email, a new number) and
    keep notes on them. Returns the fields changed. A number another customer has is
    refused: they are the same person, and merging is a person's decision. A field given
    empty (None: not given) is refused for the name once known and the number, nothing
    saved; the email and notes may be cleared."""
    if name is not None and _clean(name, 200) is None and customer.name:
        raise DeskError("The name cannot be left empty: type the customer's name.")
    if phone is not None and not phone.strip():
        raise DeskError("The phone cannot be left empty: type the customer's number.")
    changed = []
    if phone is not None:
        e164 = caller_phone(org, phone)
        if e164 != customer.phone:
            other = customers.find_customer(session, org, e164)
            if other is not None:
                raise DeskError(f"{e164} is already {other.name or 'another customer'}'s number.")
            customer.phone = e164
            changed.append("phone")
    clean_email = _clean(email, 254)
    if clean_email and not _EMAIL.match(clean_email):
        raise DeskError(f"{clean_email} is not an email address.")
    for field, value in (
        ("name", _clean(name, 200)),
        ("email", clean_email),
        ("notes", _clean(notes, 4000, keep_lines=True)),
    ):
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(field)
    return changed


def _clean(text: str | None, limit: int, *, keep_lines: bool = False) -> str | None:
    raw = (text or "").replace("\x00", "")
    if keep_lines:
        cleaned = "\n".join(" ".join(line.split()) for line in raw.strip().splitlines())
    else:
        cleaned = " ".join(raw.split())
    return cleaned[:limit] or None


# --- who is calling -------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """A customer at a glance: what the person on the phone should hear recognised."""

    bookings: int  # confirmed, completed or no-show: booked, whatever came of it
    trips: int  # tours already taken (their departure has started)
    upcoming: int
    spent_minor: int  # paid, less refunds, over every booking
    currency: str
    last_tour: str | None
    last_at: datetime | None
    cancelled: int = 0  # bookings cancelled (by them or by us: a storm), never counted above

    @property
    def returning(self) -> bool:
        return self.trips > 0 or self.bookings > 1


def history(session: Session, org: Organization, customer: Customer, now: datetime) -> History:
    rows = session.execute(
        select(Booking.status, Booking.paid_minor, Departure.starts_at, Tour.name)
        .join(Departure, Departure.id == Booking.departure_id)
        .join(Tour, Tour.id == Departure.tour_id)
        .where(Booking.customer_id == customer.id, Booking.organization_id == org.id)
        .order_by(Departure.starts_at)
    ).all()
    booked = [r for r in rows if r.status in BOOKED_STATUSES]
    past = [r for r in booked if r.starts_at <= now]
    return History(
        bookings=len(booked),
        trips=len(past),
        upcoming=len(booked) - len(past),
        spent_minor=sum(r.paid_minor for r in rows),
        currency=org.currency,
        last_tour=past[-1].name if past else None,
        last_at=past[-1].starts_at if past else None,
        cancelled=sum(1 for r in rows if r.status == BookingStatus.CANCELLED),
    )


# Where most customers' email lives; a domain one slip away from one of these is likely a
# typo ("gmial.com"), worth a question before an email bounces.
COMMON_EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "live.com",
    "msn.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "web.de",
    "yahoo.co.uk",
    "hotmail.co.uk",
    "btinternet.com",
    "orange.fr",
    "free.fr",
    "libero.it",
    "qq.com",
)


def email_typo(email: str | None) -> str | None:
    """The address as it was probably meant ("mwilson@gmail.com" for "mwilson@gmial.com"),
    or None when its domain is a known one or like none of them."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    domain = domain.lower()
    if domain in COMMON_EMAIL_DOMAINS:
        return None
    match = process.extractOne(domain, COMMON_EMAIL_DOMAINS, scorer=fuzz.ratio, score_cutoff=80)
    return f"{local}@{match[0]}" if match else None
