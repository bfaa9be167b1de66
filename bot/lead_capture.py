"""The conversation's lead, for any handler: found, created (the rep is told) or added to.
A lead is how a person at the tour company hears of a customer the bot cannot finish with."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.states import State
from bot.turn import Turn
from models import OPEN_LEAD_STATUSES, Booking, Departure, Lead, Message, StaffUser
from services import guest_needs, leads, notify, phrases, ratelimit
from services.i18n import Voice
from services.leads import LeadContext
from services.notify import local_time
from services.pricing import MAX_PARTY, party_size

# What the rep reads about the lead is English, like every staff message.
STAFF = Voice()


def open_lead(turn: Turn) -> Lead | None:
    lead = turn.conversation.lead
    if lead is not None and lead.status in OPEN_LEAD_STATUSES:
        return lead
    return None


def ensure_lead(
    turn: Turn,
    *,
    source: str | None = None,
    reason: str | None = None,
    priority: str = "normal",
    summary: str | None = None,
) -> tuple[Lead, bool]:
    """The conversation's open lead, or a new one bound to it (the rep is told). The
    summary, when given, says what the customer is doing better than their last words
    ("yes", "2")."""
    lead = open_lead(turn)
    if lead is not None and reason is None:
        update_lead_context(turn, lead)
        return lead, False
    first, _ = turn.wanted_dates()
    # Someone who is not a returning customer has no bookings to list (Reading.returning).
    history = (
        list(
            turn.session.scalars(
                select(Booking.reference)
                .where(Booking.customer_id == turn.customer.id)
                .order_by(Booking.id)
            )
        )
        if turn.returning
        else []
    )
    # Whoever has the conversation keeps it: the new lead goes to them, never a silent move
    # of the conversation to the next rep in turn.
    keeper = (
        turn.session.get(StaffUser, turn.conversation.assigned_to_id)
        if turn.conversation.assigned_to_id
        else None
    )
    lead = leads.create_lead(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        assign_to=keeper,
        source=source or turn.conversation.channel,
        reason=reason,
        priority=priority,
        actor=turn.actor(),
        context=LeadContext(
            tour=turn.tour(),
            party=turn.party() or {},
            preferred_date=first if turn.slot("date") or turn.slot("dates") else None,
            preferred_month=turn.slot("month"),
            notes=(summary or turn.text)[:500],
            extra={"previous_bookings": history} if history else {},
        ),
    )
    previous = turn.conversation.lead
    turn.conversation.lead = lead
    for told in needs_told_before(turn, previous):
        leads.add_details(
            turn.session, lead, told, turn.now, actor=turn.actor(), source=lead.source
        )
    if turn.conversation.assigned_to_id is None:
        turn.conversation.assigned_to_id = lead.assigned_to_id
    notify.lead_created(
        turn.session,
        turn.org,
        lead,
        summary or turn.text,
        turn.now,
        ratelimit.counter(turn.config.REDIS_URL),
    )
    return lead, True


# How far back a new lead looks for needs the customer mentioned before it existed.
NEEDS_LOOKBACK = timedelta(days=2)


def needs_told_before(turn: Turn, previous: Lead | None) -> list[str]:
    """The customer's earlier messages in this conversation that mention a diet, access or
    pickup need ("sunset tour saturday for 2, one of us is vegan" answered with the
    departures before any lead existed), since the previous lead and within two days."""
    since = turn.now - NEEDS_LOOKBACK
    if previous is not None and previous.created_at > since:
        since = previous.created_at
    bodies = turn.session.scalars(
        select(Message.body)
        .where(
            Message.conversation_id == turn.conversation.id,
            Message.direction == "inbound",
            Message.created_at >= since,
            Message.created_at < turn.now,
        )
        .order_by(Message.id)
    )
    return [b for b in bodies if b and not guest_needs.from_notes(b).empty]


def keep_needs(turn: Turn) -> None:
    """A diet, access or pickup need in the customer's message, whatever it was answered
    as (a question about pickups, a booking request), goes on the conversation's lead, so
    a hold copies it onto the booking and a booking already held gets it too
    (leads.add_details). Without a lead yet, a new one collects it (needs_told_before)."""
    if not turn.text:
        return
    text = " ".join(turn.text.split())[:500]
    if guest_needs.from_notes(text).empty:
        return  # most messages: no need to read the lead (a query) for them
    lead = turn.conversation.lead
    if lead is None or text in (lead.notes or "").splitlines():
        return
    leads.add_details(
        turn.session, lead, text, turn.now, actor=turn.actor(), source=turn.conversation.channel
    )


def wants(turn: Turn, doing: str, dep: Departure) -> str:
    """For the rep, in English: "holding seats: 2 adults, Sunset Tour, Sat 28 Nov 17:30"."""
    party = turn.party()
    who = f"{phrases.party(STAFF, party)}, " if party else ""
    return f"{doing}: {who}{dep.tour.name}, {local_time(turn.org, dep.starts_at)}"


def update_lead_context(turn: Turn, lead: Lead) -> None:
    tour = turn.tour()
    if tour is not None:
        lead.tour_id = tour.id
    if turn.party():
        lead.party = turn.party() or {}
    if turn.slot("month"):
        lead.preferred_month = turn.slot("month")
    if turn.slot("date") or turn.slot("dates"):
        lead.preferred_date = turn.wanted_dates()[0]


def note_details(turn: Turn, lead: Lead) -> None:
    """What the customer just wrote, on the lead in their own words (it may hold more than
    the NLU understood), with the party, dates and tour it gave."""
    update_lead_context(turn, lead)
    leads.add_details(
        turn.session,
        lead,
        turn.text,
        turn.now,
        actor=turn.actor(),
        source=turn.conversation.channel,
    )


def group_for_sales(turn: Turn) -> bool:
    """A party larger than one booking may be ("200 people") is a group for a person to
    arrange: a lead for sales, not an error message."""
    size = party_size(turn.party() or {})
    if size <= MAX_PARTY:
        return False
    tour = turn.tour()
    lead, _ = ensure_lead(
        turn, summary=f"group of {size}" + (f" for {tour.name}" if tour else "") + f": {turn.text}"
    )
    voice = turn.voice
    too_big = voice._(
        "A group of {size} is more than I can book here (up to {most} people per booking).",
        size=size,
        most=MAX_PARTY,
    )
    who = (
        voice._(
            "{rep} arranges groups and will contact you; your enquiry reference is {reference}.",
            rep=lead.assigned_to.name,
            reference=lead.reference,
        )
        if lead.assigned_to
        else voice._(
            "Our team arranges groups and will contact you; your enquiry reference is {reference}.",
            reference=lead.reference,
        )
    )
    more = voice._("Anything to add (dates, pickup, diet)? Just write it here.")
    turn.say(f"{too_big} {who} {more}")
    turn.goto(State.QUESTIONS)
    return True
