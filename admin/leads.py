"""Leads: a board by status; a lead page with its conversation, context and timeline; quote
(previewed before it is sent), hold, and won/lost."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from admin import admin_bp
from admin.actions import form_text, run
from admin.auth import actor, current_org, requires, scoped, staff
from bot import staff as bot_staff
from extensions import app_config, db
from models import Booking, Conversation, Departure, Lead, LeadStatus, Message, Quote, utcnow
from services import desk, leads, sales, timeline
from services.errors import ServiceError
from services.money import format_money

BOARD_COLUMN_LIMIT = 40


def _lead(reference: str) -> Lead:
    lead = db.session.scalar(
        select(Lead)
        .options(joinedload(Lead.customer))
        .where(Lead.reference == reference.upper(), Lead.organization_id == current_org().id)
    )
    return scoped(lead)  # type: ignore[no-any-return]


def _departure(code: str | None) -> Departure:
    if not code:
        abort(400, "Choose a departure.")
    dep = db.session.scalar(
        select(Departure).where(
            Departure.code == code, Departure.organization_id == current_org().id
        )
    )
    return scoped(dep)  # type: ignore[no-any-return]


def _party(departure: Departure, values: Mapping[str, str]) -> dict[str, int]:
    """Counts per price tier (fields tier_<code>) from a form or a preview's query."""
    party = {}
    for tier in departure.tour.price_tiers:
        raw = (values.get(f"tier_{tier.code}") or "").strip()
        if not raw:
            continue
        # isdigit() also takes '٣' and '³' (int() reads one, fails on the other): 0-9 only.
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 500:
            abort(400, f"{tier.label}: a number of people from 0 to 500")
        if int(raw):
            party[tier.code] = int(raw)
    return party


@admin_bp.get("/leads")
@requires()
def lead_board() -> ResponseReturnValue:
    org = current_org()
    counts: dict[str, int] = {
        status: n
        for status, n in db.session.execute(
            select(Lead.status, func.count())
            .where(Lead.organization_id == org.id)
            .group_by(Lead.status)
        )
    }
    columns = {}
    for status in LeadStatus:
        columns[status.value] = list(
            db.session.scalars(
                select(Lead)
                .options(
                    joinedload(Lead.customer), joinedload(Lead.assigned_to), joinedload(Lead.tour)
                )
                .where(Lead.organization_id == org.id, Lead.status == status)
                .order_by(Lead.updated_at.desc())
                .limit(BOARD_COLUMN_LIMIT)
            )
        )
        # High priority (failed bookings) first; the sort is stable, so newest next.
        columns[status.value].sort(key=lambda lead: lead.priority != "high")
    return render_template("admin/leads.html", columns=columns, counts=counts, now=utcnow())


@admin_bp.get("/leads/<reference>")
@requires()
def lead_page(reference: str) -> ResponseReturnValue:
    org = current_org()
    lead = _lead(reference)
    now = utcnow()
    conversation = db.session.scalar(
        select(Conversation)
        .where(Conversation.lead_id == lead.id)
        .order_by(Conversation.last_message_at.desc().nulls_last())
    )
    messages = (
        list(
            db.session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(30)
            )
        )[::-1]
        if conversation
        else []
    )
    # Departures with room for the lead's party, with seats left and its price; sold-out
    # ones are not offered. The lead's tour first; any tour when it has none.
    today = org.local(now).date()
    free = []
    for tour in (lead.tour, None) if lead.tour else (None,):
        try:
            free = desk.free_departures(
                db.session,
                org,
                now,
                tour=tour,
                first=today,
                last=today + timedelta(days=180),
                party=lead.party or None,
                limit=40,
            )
        except ServiceError:
            free = []
        if free:
            break
    departures = [f.departure for f in free]
    room = {
        f.departure.code: f"{f.spots_left} left"
        + (f" · {format_money(f.price.total_minor, f.price.currency)}" if f.price else "")
        for f in free
    }
    chosen = request.args.get("departure") or (lead.departure.code if lead.departure else None)
    preview = None
    if request.args.get("preview") and chosen:
        departure = _departure(chosen)
        party = _party(departure, request.args)
        try:
            price, text = sales.preview_quote(db.session, org, departure, party, now, lead.customer)
            preview = {"departure": departure, "party": party, "price": price, "text": text}
        except ServiceError as exc:
            preview = {"error": exc.message}
    return render_template(
        "admin/lead.html",
        lead=lead,
        conversation=conversation,
        messages=messages,
        departures=departures,
        room=room,
        chosen=chosen,
        preview=preview,
        quotes=list(
            db.session.scalars(
                select(Quote).where(Quote.lead_id == lead.id).order_by(Quote.id.desc()).limit(10)
            )
        ),
        bookings=list(
            db.session.scalars(
                select(Booking).where(Booking.lead_id == lead.id).order_by(Booking.id.desc())
            )
        ),
        events=timeline.events_for(db.session, org.id, lead.reference),
        statuses=[s.value for s in leads.moves_from(LeadStatus(lead.status))],
        next_status=leads.NEXT_STEP.get(LeadStatus(lead.status)),
        now=now,
    )


@admin_bp.post("/leads/<reference>/quote")
@requires("quote")
def lead_quote(reference: str) -> ResponseReturnValue:
    lead = _lead(reference)
    departure = _departure(request.form.get("departure"))
    party = _party(departure, request.form)

    def send() -> Quote:
        quote = sales.send_quote(
            db.session, current_org(), lead, departure, party, utcnow(), staff=staff()
        )
        # The quote says "Reply YES": the bot is readied for that answer.
        bot_staff.expect_quote_answer(db.session, lead.customer, departure, quote.party)
        return quote

    return run(
        send,
        lambda quote: f"Quote {quote.reference} sent to the customer.",
        url_for("admin.lead_page", reference=lead.reference),
    )


@admin_bp.post("/leads/<reference>/hold")
@requires("hold")
def lead_hold(reference: str) -> ResponseReturnValue:
    lead = _lead(reference)
    departure = _departure(request.form.get("departure"))
    party = _party(departure, request.form)
    return run(
        lambda: sales.hold_for_lead(
            db.session,
            current_org(),
            lead,
            departure,
            party,
            utcnow(),
            staff=staff(),
            base_url=app_config().PUBLIC_BASE_URL,
            dietary_notes=form_text("dietary", 500),
        ),
        lambda booking: f"Held {booking.seats} seat(s): {booking.reference}. Payment link sent.",
        url_for("admin.lead_page", reference=lead.reference),
    )


@admin_bp.post("/leads/<reference>/status")
@requires()
def lead_status(reference: str) -> ResponseReturnValue:
    lead = _lead(reference)
    try:
        to = LeadStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, "Unknown lead status.")
    return run(
        lambda: leads.change_status(
            db.session,
            lead,
            to,
            utcnow(),
            actor=actor(),
            source="admin",
            note=form_text("note", 500) or None,
        ),
        f"{lead.reference} is now {to.value}.",
        url_for("admin.lead_page", reference=lead.reference),
    )
