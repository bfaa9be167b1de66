"""The booking desk: a new booking for a caller, availability first (tour and dates ->
departures with seats left and the party's price -> the caller found by phone or created ->
needs -> hold with a payment link, or confirmed with a payment taken); and on an existing
booking, its guests' needs, a payment taken by hand, the party changed, a move to another
departure; a customer's contact details and notes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin import admin_bp
from admin.actions import form_text, run
from admin.auth import current_org, requires, scoped, staff
from admin.bookings import _booking
from admin.filters import local_time
from extensions import app_config, db, rate_counter, stripe_account
from models import Customer, Departure, Lead, Tour, utcnow
from services import availability, booking_changes, desk
from services import staff as staff_service
from services.errors import ServiceError
from services.guest_needs import GuestNeeds
from services.money import format_money, to_minor

MAX_DAYS = 62
# The customer form's fields carried back to the list when a booking is refused.
PREFILLED = ("name", "email", "dietary", "accessibility", "pickup", "names")
# And, when 'Paid now' was refused, what was typed for the payment.
PAY_PREFILLED = ("pay", "amount", "method", "payment_reference")


def _tours() -> list[Tour]:
    return list(
        db.session.scalars(
            select(Tour)
            .options(selectinload(Tour.price_tiers))
            .where(Tour.organization_id == current_org().id, Tour.active.is_(True))
            .order_by(Tour.name)
        )
    )


def _tiers(tours: list[Tour]) -> list[tuple[str, str]]:
    """Each price tier code once (adults, children...), in the tours' order."""
    seen: dict[str, str] = {}
    for tour in tours:
        for tier in tour.price_tiers:
            seen.setdefault(tier.code, tier.label)
    return list(seen.items())


def _party(values: Mapping[str, str], tiers: list[tuple[str, str]]) -> dict[str, int]:
    party = {}
    for code, label in tiers:
        raw = (values.get(f"tier_{code}") or "").strip()
        if not raw:
            continue
        # isdigit() also takes '٣' and '³' (int() reads one, fails on the other): 0-9 only.
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 99:
            abort(400, f"{label}: a number of people from 0 to 99")
        if int(raw):
            party[code] = int(raw)
    return party


def _day(values: Mapping[str, str], name: str, default: date) -> date:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a date like 2027-01-31")
    if not date(1900, 1, 1) <= value <= date(9000, 12, 31):
        abort(400, f"{name} must be a date between 1900 and 9000")
    return value


def _departure(code: str | None) -> Departure:
    if not code:
        abort(400, "Choose a departure.")
    return scoped(  # type: ignore[no-any-return]
        db.session.scalar(
            select(Departure).where(
                Departure.code == code, Departure.organization_id == current_org().id
            )
        )
    )


def _lead(reference: str | None) -> Lead | None:
    if not reference:
        return None
    lead = db.session.scalar(
        select(Lead).where(
            Lead.reference == reference.upper(), Lead.organization_id == current_org().id
        )
    )
    return scoped(lead)  # type: ignore[no-any-return]


QUICK_DAYS = {
    "today": "Today",
    "tomorrow": "Tomorrow",
    "weekend": "This weekend",
    "week": "Next 7 days",
}


def quick_days(today: date, when: str) -> tuple[date, date]:
    """The days a one-tap button means, in the organization's calendar: the weekend is the
    coming Saturday and Sunday (on a Saturday, today and tomorrow; on a Sunday, next week's:
    today's departures are under Today)."""
    if when == "today":
        return today, today
    if when == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1)
    if when == "week":
        return today, today + timedelta(days=6)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    return saturday, saturday + timedelta(days=1)


def quick_labels(today: date) -> dict[str, str]:
    """The buttons' words: on a Sunday the weekend they give is next week's."""
    return {**QUICK_DAYS, "weekend": "Next weekend" if today.weekday() == 6 else "This weekend"}


@dataclass
class Search:
    """What the rep asked for (tour, days, party; from a lead, its tour, date and party)
    and the departures with room for it."""

    tours: list[Tour]
    tiers: list[tuple[str, str]]
    lead: Lead | None
    tour: Tour | None
    first: date
    last: date
    party: dict[str, int]
    free: list[availability.AvailableDeparture]
    error: str | None
    # Nothing free on those days: the nearest departures with room, to offer instead.
    nearest: list[availability.AvailableDeparture]


def _search(args: Mapping[str, str]) -> Search:
    org = current_org()
    now = utcnow()
    tours = _tours()
    tiers = _tiers(tours)
    lead = _lead(args.get("lead"))
    tour_slug = args.get("tour", lead.tour.slug if lead and lead.tour else "")
    tour = next((t for t in tours if t.slug == tour_slug), None)
    if tour_slug and tour is None:
        abort(404)
    today = org.local(now).date()
    first = _day(args, "date", lead.preferred_date if lead and lead.preferred_date else today)
    last = _day(args, "to", first)
    when = args.get("when")
    if when:  # a one-tap day: the form's buttons Today, Tomorrow, This weekend, Next 7 days
        if when not in QUICK_DAYS:
            abort(400, "when: today, tomorrow, weekend or week")
        first, last = quick_days(today, when)
    if last < first or (last - first).days > MAX_DAYS:
        abort(400, f"Choose at most {MAX_DAYS} days, ending after they start.")
    party = _party(args, tiers) if any(f"tier_{c}" in args for c, _ in tiers) else {}
    if not party:
        party = dict(lead.party) if lead and lead.party else {tiers[0][0]: 2} if tiers else {}
    error = None
    free: list[availability.AvailableDeparture] = []
    try:
        free = desk.free_departures(
            db.session, org, now, tour=tour, first=first, last=last, party=party, limit=200
        )
    except ServiceError as exc:
        error = exc.message
    nearest: list[availability.AvailableDeparture] = []
    if not free and error is None:
        nearest = _nearest(now, tour, first, last, party, today)
    return Search(tours, tiers, lead, tour, first, last, party, free, error, nearest)


NEAREST_BEFORE, NEAREST_AFTER, NEAREST_SHOWN = 7, 21, 3


def _nearest(
    now: datetime,
    tour: Tour | None,
    first: date,
    last: date,
    party: dict[str, int],
    today: date,
) -> list[availability.AvailableDeparture]:
    """The departures with room for the party closest to the days asked for (a week
    before to three weeks after), soonest first."""
    around = desk.free_departures(
        db.session,
        current_org(),
        now,
        tour=tour,
        first=max(today, first - timedelta(days=NEAREST_BEFORE)),
        last=last + timedelta(days=NEAREST_AFTER),
        party=party,
        limit=200,
    )

    def distance(found: availability.AvailableDeparture) -> int:
        day = found.starts_local.date()
        return (first - day).days if day < first else (day - last).days

    closest = sorted(around, key=lambda f: (distance(f), f.departure.starts_at))
    return sorted(closest[:NEAREST_SHOWN], key=lambda f: f.departure.starts_at)


@admin_bp.get("/bookings/new/free")
@requires("hold")
def booking_new_free() -> ResponseReturnValue:
    """What the list of free departures shows, in short: the new booking page polls it and
    redraws the list when a seat is taken or freed elsewhere (another rep, the bot)."""
    found = _search(request.args)
    return jsonify([[f.departure.code, f.spots_left] for f in found.free] + [found.error or ""])


@admin_bp.get("/bookings/new")
@requires("hold")
def booking_new() -> ResponseReturnValue:
    org = current_org()
    now = utcnow()
    args = request.args
    found = _search(args)
    tours, tiers, lead, tour = found.tours, found.tiers, found.lead, found.tour
    first, last, party, free, error = (
        found.first,
        found.last,
        found.party,
        found.free,
        found.error,
    )
    nearest = found.nearest
    chosen = None
    code = args.get("departure")
    if code:
        chosen = next((f for f in free if f.departure.code == code), None)
        if chosen is None and error is None:
            error = f"No departure {code} with room for this party now: choose one below."
    phone = args.get("phone", lead.customer.phone if lead else "")
    caller = desk.find_caller(db.session, org, phone) if phone else None
    seen = desk.history(db.session, org, caller, now) if caller else None
    return render_template(
        "admin/booking_new.html",
        tour_options=[("", "Any tour")] + [(t.slug, t.name) for t in tours],
        tiers=tiers,
        # A departure's "Choose" link keeps the search, the party, the number and the lead.
        choose_args={
            "tour": tour.slug if tour else "",
            "date": first.isoformat(),
            "to": last.isoformat() if last != first else "",
            "phone": phone,
            "lead": lead.reference if lead else "",
            **{f"tier_{k}": v for k, v in party.items()},
            **{k: v[:500] for k in PREFILLED if (v := args.get(k, ""))},
        },
        tour=tour,
        first=first,
        last=last,
        party=party,
        free=free,
        nearest=nearest,
        chosen=chosen,
        error=error,
        lead=lead,
        phone=phone,
        caller=caller,
        history=seen,
        history_words=_history_words(seen) if seen else "",
        methods=desk.PAYMENT_METHODS,
        quick_days=quick_labels(current_org().local(now).date()),
        can_take_payment=staff_service.can(staff(), "take_payment"),
        prefill={k: args.get(k, "")[:500] for k in PREFILLED + PAY_PREFILLED},
        refresh_url=url_for("admin.booking_new_free")
        + (f"?{request.query_string.decode()}" if request.query_string else ""),
        now=now,
    )


@admin_bp.post("/bookings/new")
@requires("hold")
def booking_create() -> ResponseReturnValue:
    org = current_org()
    form = request.form
    departure = _departure(form.get("departure"))
    party = _party(form, _tiers([departure.tour]))
    lead = _lead(form.get("lead"))
    needs = GuestNeeds.typed(
        dietary=form_text("dietary", 500),
        accessibility=form_text("accessibility", 500),
        pickup=form_text("pickup", 500),
        names=form_text("names", 4000),
    )
    paying = form.get("pay") == "now"
    # Back to the same search on a refusal, with what was typed kept: the chosen departure
    # (when it filled a moment ago the page says so and lists the others to offer), the
    # customer's details and, for a payment refused (a mistyped amount, less than the
    # deposit), 'Paid now' with its amount, method and reference.
    search: dict[str, Any] = {
        "tour": form.get("tour") or "",
        "date": form.get("date") or "",
        "to": form.get("to") or "",
        "phone": form_text("phone", 40),
        "lead": lead.reference if lead else "",
        "departure": departure.code,
        **{f"tier_{k}": v for k, v in party.items()},
        **{k: form_text(k, 500) for k in PREFILLED if form_text(k, 500)},
        **{k: form_text(k, 100) for k in PAY_PREFILLED if paying and form_text(k, 100)},
    }
    back = url_for("admin.booking_new", **search) + "#customer"
    payment = None
    if paying:
        if not staff_service.can(staff(), "take_payment"):
            abort(403, "Your role cannot take payments.")
        try:
            payment = desk.ManualPayment(
                to_minor(form_text("amount", 20), org.currency),
                form.get("method", ""),
                form_text("payment_reference", 100) or None,
            )
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(back, code=303)

    def create() -> Any:
        return desk.book(
            db.session,
            org,
            departure,
            party,
            utcnow(),
            staff=staff(),
            phone=form_text("phone", 40),
            name=form_text("name", 200),
            email=form_text("email", 254),
            needs=needs,
            lead=lead,
            payment=payment,
            base_url=app_config().PUBLIC_BASE_URL,
            stripe=stripe_account(),
            counts=rate_counter(),
        )

    def done(booking: Any) -> str:
        if payment is not None:
            return (
                f"{booking.reference} confirmed: "
                f"{format_money(payment.amount_minor, org.currency)} "
                f"{desk.PAYMENT_METHODS[payment.method]} recorded; confirmation sent."
            )
        return f"{booking.reference} held; the payment link is on its way to the customer."

    return run(
        create,
        done,
        back,
        then=lambda booking: url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.get("/customers/lookup")
@requires()
def customer_lookup() -> ResponseReturnValue:
    """The caller recognised while their number is typed (the new booking form)."""
    org = current_org()
    customer = desk.find_caller(db.session, org, request.args.get("phone", "")[:40])
    if customer is None:
        return jsonify(found=False)
    seen = desk.history(db.session, org, customer, utcnow())
    return jsonify(
        found=True,
        name=customer.name,
        url=url_for("admin.customer_page", customer_id=customer.id),
        returning=seen.returning,
        summary=_history_words(seen),
    )


def _history_words(seen: desk.History) -> str:
    cancelled = f"{seen.cancelled} booking{'s' if seen.cancelled != 1 else ''} cancelled"
    if not seen.bookings:
        # A caller whose tour we cancelled (a storm) has booked with us: say so.
        return f"Known number: {cancelled}." if seen.cancelled else "Known number, no bookings yet."
    words = f"{seen.bookings} booking{'s' if seen.bookings != 1 else ''}"
    if seen.last_tour and seen.last_at:
        words += f"; last trip {seen.last_tour}, {seen.last_at.strftime('%b %Y')}"
    if seen.cancelled:
        words += f"; {cancelled}"
    return words + f"; spent {format_money(seen.spent_minor, seen.currency)}."


@admin_bp.post("/bookings/<reference>/hold-until")
@requires("hold")
def booking_hold_until(reference: str) -> ResponseReturnValue:
    """'Can you keep it till Friday?': the hold's new deadline, typed in the organization's
    time (the form's date-and-time field)."""
    org = current_org()
    booking = _booking(reference)
    back = url_for("admin.booking_page", reference=booking.reference)
    try:
        until = datetime.fromisoformat(form_text("until", 40)).replace(tzinfo=org.tz)
    except ValueError:
        flash("Keep the seats until: a date and time, like 2027-01-31 18:00.", "error")
        return redirect(back, code=303)
    return run(
        lambda: desk.keep_hold_until(db.session, org, booking, until, utcnow(), staff=staff()),
        lambda kept: f"{booking.reference} is held until {org.local(kept):%a %d %b %H:%M}.",
        back,
    )


@admin_bp.post("/bookings/<reference>/needs")
@requires("edit_booking")
def booking_needs(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    needs = GuestNeeds.typed(
        dietary=form_text("dietary", 500),
        accessibility=form_text("accessibility", 500),
        pickup=form_text("pickup", 500),
        names=form_text("names", 4000),
    )
    return run(
        lambda: desk.update_needs(db.session, booking, needs, utcnow(), staff=staff()),
        lambda changed: "Guests' needs saved." if changed else "Nothing changed.",
        url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.post("/bookings/<reference>/payment")
@requires("take_payment")
def booking_payment(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    try:
        paid = desk.ManualPayment(
            to_minor(form_text("amount", 20), booking.currency),
            request.form.get("method", ""),
            form_text("payment_reference", 100) or None,
        )
    except ServiceError as exc:
        abort(400, exc.message)
    return run(
        lambda: desk.record_payment(
            db.session,
            current_org(),
            booking,
            paid,
            utcnow(),
            staff=staff(),
            stripe=stripe_account(),
            counts=rate_counter(),
        ),
        lambda p: (
            f"{format_money(p.amount_minor, p.currency)} {desk.PAYMENT_METHODS[paid.method]} "
            "recorded."
        ),
        url_for("admin.booking_page", reference=booking.reference),
    )


def _change_done(change: booking_changes.Change) -> str:
    b = change.booking
    text = (
        f"{b.reference} changed: total {format_money(change.was_total_minor, b.currency)} → "
        f"{format_money(change.price.total_minor, b.currency)}; the customer is told."
    )
    if change.over_paid_minor:
        text += (
            f" They paid {format_money(change.over_paid_minor, b.currency)} more than the new "
            "total: refund it from the payments below."
        )
    return text


@admin_bp.post("/bookings/<reference>/party")
@requires("edit_booking")
def booking_party(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    party = _party(request.form, _tiers([booking.departure.tour]))
    return run(
        lambda: desk.change_party(
            db.session,
            current_org(),
            booking,
            party,
            utcnow(),
            staff=staff(),
            base_url=app_config().PUBLIC_BASE_URL,
        ),
        _change_done,
        url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.post("/bookings/<reference>/move")
@requires("edit_booking")
def booking_move(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    to = _departure(request.form.get("departure"))
    return run(
        lambda: desk.move(
            db.session,
            current_org(),
            booking,
            to,
            utcnow(),
            staff=staff(),
            base_url=app_config().PUBLIC_BASE_URL,
        ),
        _change_done,
        url_for("admin.booking_page", reference=booking.reference),
    )


def move_choices(booking: Any, now: Any) -> list[tuple[str, str]]:
    """Where the booking could go, as (code, words) options: the same tour's departures
    with room for its party in the next 60 days, with seats left and its price."""
    org = current_org()
    today = org.local(now).date()
    try:
        found = desk.free_departures(
            db.session,
            org,
            now,
            tour=booking.departure.tour,
            first=today,
            last=today + timedelta(days=60),
            party=booking.party,
            limit=31,
        )
    except ServiceError:
        return []
    return [
        (
            f.departure.code,
            f"{local_time(f.departure.starts_at)} · {f.spots_left} left · "
            + (format_money(f.price.total_minor, f.price.currency) if f.price else ""),
        )
        for f in found
        if f.departure.id != booking.departure_id
    ][:30]


@admin_bp.post("/customers/<int:customer_id>")
@requires()
def customer_update(customer_id: int) -> ResponseReturnValue:
    customer = scoped(db.session.get(Customer, customer_id))
    back = url_for("admin.customer_page", customer_id=customer.id)
    return run(
        lambda: desk.update_customer(
            db.session,
            current_org(),
            customer,
            utcnow(),
            staff=staff(),
            name=form_text("name", 200),
            email=form_text("email", 254),
            phone=form_text("phone", 40),
            notes=request.form.get("notes", "")[:4000],
        ),
        lambda changed: f"Saved: {', '.join(changed)}." if changed else "Nothing changed.",
        back,
    )
