"""Messages to people other than the current sender: sales reps, owners, ops, and
customers told about something that happened elsewhere (a waitlist spot). All go through
the outbox, in the caller's transaction, so they exist exactly when the change does.

A customer's own words and name reach staff only quoted, on one line, trimmed, with links
made unclickable (quoted, display_name): a customer once could write a message that, in
the owner's SMS, looked like our "Approval needed" block with a link of theirs. And one
customer can page staff only so often (STAFF_PAGES_PER_CUSTOMER); the rest wait in the
inbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    Channel,
    Conversation,
    Customer,
    Guide,
    Lead,
    Message,
    Organization,
    StaffUser,
    WaitlistEntry,
)
from services import outbox, ratelimit, whatsapp_content, whatsapp_templates
from services.i18n import DEFAULT_LANGUAGE, Voice, customer_voice, guide_languages, guide_voice

log = logging.getLogger(__name__)

# Text messages to a rep or owner caused by one customer: new lead, "asks for a person",
# change and cancellation requests. Past this, the conversation waits in the inbox.
STAFF_PAGES_PER_CUSTOMER = ratelimit.Limit("staff-pages", 5, 60 * 60)

Pair = tuple[str, dict[str, str]]  # a content's SID and its variables

_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.IGNORECASE)
# host-like words: "evil.example", "bit.ly/x", "www.x.com" (not "3.5" or "e.g.")
_HOST_DOT = re.compile(r"(?<=[A-Za-z0-9-])\.(?=[A-Za-z][A-Za-z0-9-]+(?:[./:?#]|\b))")


def one_line(text: str) -> str:
    """Whitespace of every kind (line breaks included) as single spaces, NULs dropped."""
    return " ".join(text.replace("\x00", "").split())


def defang(text: str) -> str:
    """Links a phone will not turn into something to tap: hxxps://evil[.]example."""
    text = _SCHEME.sub(lambda m: f"{m[1]}xx{m[3]}{m[4]}", text)
    return _HOST_DOT.sub("[.]", text)


def quoted(text: str, limit: int = 200) -> str:
    """A customer's words as staff see them in a text message: in quotes, on one line,
    at most `limit` characters, links defanged."""
    words = defang(one_line(text).replace("\u201c", '"').replace("\u201d", '"'))
    if len(words) > limit:
        words = words[: limit - 1].rstrip() + "\u2026"
    return f"\u201c{words}\u201d"


def display_name(customer: Customer) -> str:
    """The customer's name (theirs to choose, in WhatsApp) as one short, inert line; their
    number when they have no name."""
    name = defang(one_line(customer.name or ""))[:60]
    return name or customer.phone


def may_page_staff(org: Organization, customer: Customer, counts: ratelimit.Counter) -> bool:
    """Counts one page of staff caused by this customer; False past the limit."""
    count = ratelimit.hit(STAFF_PAGES_PER_CUSTOMER, f"{org.id}:{customer.id}", counts)
    if count > STAFF_PAGES_PER_CUSTOMER.count:
        log.info("customer %s paged staff %d times this hour; not texting", customer.id, count)
        return False
    return True


def local_time(org: Organization, moment: datetime) -> str:
    """E.g. "Sat 9 Jan 17:30", in the organization's zone: for staff, who read English.
    A customer's time is their voice's (services.i18n.Voice.when)."""
    local = org.local(moment)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def booking_line(org: Organization, booking: Booking) -> str:
    """For staff: "BK-7K3Q9: Sunset Tour, Sat 12 Dec 17:30, 2 adults (confirmed, paid $98)"."""
    dep = booking.departure
    party = " + ".join(
        f"{n} {tier if n == 1 else ('children' if tier == 'child' else tier + 's')}"
        for tier, n in booking.party.items()
    )
    money = ""
    if booking.paid_minor:
        money = f", paid {_staff_money(booking.paid_minor, booking.currency)}"
        if booking.balance_minor:
            money += f" of {_staff_money(booking.total_minor, booking.currency)}"
    return (
        f"{booking.reference}: {dep.tour.name}, {local_time(org, dep.starts_at)}, {party} "
        f"({booking.status}{money})"
    )


def _staff_money(amount_minor: int, currency: str) -> str:
    from services.i18n import Voice  # English, as staff read it

    return Voice().money(amount_minor, currency)


def people(n: int) -> str:
    """For staff: "1 person", "3 people"."""
    return f"{n} person" if n == 1 else f"{n} people"


def lead_line(lead: Lead) -> str:
    """For staff: "LD-7K3Q9: Sunset Tour, Sat 12 Dec, 2 adults"."""
    parts = []
    if lead.tour is not None:
        parts.append(lead.tour.name)
    if lead.preferred_date:
        day = lead.preferred_date
        parts.append(f"{day:%a} {day.day} {day:%b}")
    elif lead.preferred_month:
        parts.append(lead.preferred_month)
    size = sum(lead.party.values()) if lead.party else 0
    parts.append(people(size) if size else "party not known yet")
    return f"{lead.reference}: {', '.join(parts)}"


def last_words(
    session: Session, conversation: Conversation | None, limit: int = 3, *, besides: str = ""
) -> str:
    """The customer's last messages in the conversation, quoted: "Said: “…” / “…”";
    `besides`: a message already quoted (left out)."""
    if conversation is None:
        return ""
    texts = list(
        session.scalars(
            select(Message.body)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == "inbound",
                Message.body != "",
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    texts = [t for t in texts if t != besides]
    if not texts:
        return ""
    return "Said: " + " / ".join(quoted(t, 160) for t in reversed(texts))


def customer_channel(session: Session, customer: Customer) -> tuple[str, Conversation | None]:
    """The channel the customer last wrote on (WhatsApp or SMS)."""
    conv = session.scalar(
        select(Conversation)
        .where(Conversation.customer_id == customer.id)
        .order_by(Conversation.last_inbound_at.desc().nulls_last(), Conversation.id.desc())
    )
    return (conv.channel, conv) if conv else (Channel.SMS, None)


def to_customer(
    session: Session,
    org: Organization,
    customer: Customer,
    body: str,
    now: datetime,
    *,
    content: tuple[str, dict[str, str]] | None = None,
    template: tuple[str, dict[str, str]] | None = None,
    persistent_action: list[str] | None = None,
    **fields: str,
) -> list[Message]:
    """Queues a message the customer reads: body is said in their voice
    (services.i18n.customer_voice), never an English f-string."""
    channel, conv = customer_channel(session, customer)
    # The booking it is about, for what messaging costs per booking.
    booking_id = (
        session.scalar(
            select(Booking.id).where(
                Booking.organization_id == org.id, Booking.reference == fields["reference"]
            )
        )
        if fields.get("reference")
        else None
    )
    return outbox.queue(
        session,
        org,
        customer.phone,
        body,
        now,
        channel=channel,
        conversation=conv,
        kind="notification",
        template_fields=fields or None,
        content=content,
        template=template,
        booking_id=booking_id,
        persistent_action=persistent_action,
    )


def to_staff(
    session: Session,
    org: Organization,
    phone: str | None,
    body: str,
    now: datetime,
    *,
    template: Pair | None = None,
) -> list[Message]:
    """template: an approved WhatsApp template (services/whatsapp_templates.py; to a guide
    in their language, guide_template) for when the staff member or guide is reached on
    WhatsApp outside the 24-hour window. Staff read English: a guide's body is said in
    their voice (services.i18n.guide_voice) by the caller."""
    if not phone:
        return []
    channel = outbox.staff_address(session, org, phone)["channel"]
    return outbox.queue(
        session, org, phone, body, now, channel=channel, kind="staff", template=template
    )


def guide_template(
    session: Session,
    org: Organization,
    guide: Guide,
    purpose: str,
    values: Callable[[Voice], dict[str, str]],
) -> Pair | None:
    """A guides' purpose's template, filled in the guide's words (values: the variables as
    a voice says them), for when the guide is reached on WhatsApp outside the 24-hour
    window: the first of the guide's languages whose template WhatsApp has approved, else
    the English one (a guide reached in a language they listed later, or in English, rather
    than not at all); None while none is approved."""
    for language in dict.fromkeys([*guide_languages(guide.languages), DEFAULT_LANGUAGE]):
        found = whatsapp_templates.render(
            session, org, language, purpose, values(guide_voice(org, guide, language))
        )
        if found is not None and found[1]:
            return found[0].content_sid, found[0].variables
    return None


def rep_or_owner_phone(
    session: Session, org: Organization, staff_id: int | None
) -> tuple[str | None, str | None]:
    """The rep's phone and name; the owner's phone and no name when the rep has no phone."""
    rep = session.get(StaffUser, staff_id) if staff_id else None
    if rep is not None and rep.phone:
        return rep.phone, rep.name
    return org.owner_phone, None


def lead_created(
    session: Session,
    org: Organization,
    lead: Lead,
    text: str,
    now: datetime,
    counts: ratelimit.Counter,
) -> None:
    """Tells the lead's rep (or the owner), unless this customer has paged staff too often
    (counts: the rate-limit counter, see ratelimit.counter)."""
    if not may_page_staff(org, lead.customer, counts):
        return
    phone, _ = rep_or_owner_phone(session, org, lead.assigned_to_id)
    tag = " [HIGH PRIORITY]" if lead.priority == "high" else ""
    # What the lead is about after the customer's words: tour, dates, party.
    to_staff(
        session,
        org,
        phone,
        f"New lead {lead.reference}{tag} from {display_name(lead.customer)} ({lead.source}): "
        f"{quoted(text)} · {lead.customer.phone} · {lead_line(lead).split(': ', 1)[1]}",
        now,
    )


def handoff_requested(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff_id: int | None,
    text: str,
    now: datetime,
    counts: ratelimit.Counter,
) -> str | None:
    """Tells the rep (or the owner); returns the rep's name, None for "our team"."""
    phone, name = rep_or_owner_phone(session, org, staff_id)
    if may_page_staff(org, conv.customer, counts):
        to_staff(
            session,
            org,
            phone,
            f"{display_name(conv.customer)} ({conv.channel}) asks for a person: {quoted(text)}",
            now,
        )
    return name


def booking_request(
    session: Session,
    org: Organization,
    booking: Booking,
    what: str,
    text: str,
    now: datetime,
    counts: ratelimit.Counter,
) -> None:
    if not may_page_staff(org, booking.customer, counts):
        return
    staff_id = booking.lead.assigned_to_id if booking.lead else None
    phone, _ = rep_or_owner_phone(session, org, staff_id)
    _, conversation = customer_channel(session, booking.customer)
    said = last_words(session, conversation, besides=text)
    to_staff(
        session,
        org,
        phone,
        f"{what} request for {booking.reference} ({booking.departure.code}) from "
        f"{display_name(booking.customer)}: {quoted(text)} · {booking.customer.phone} · "
        f"{booking_line(org, booking)}" + (f" · {said}" if said else ""),
        now,
    )


def waitlist_offer(
    session: Session, org: Organization, entry: WaitlistEntry, now: datetime
) -> None:
    booking = entry.booking
    dep = booking.departure
    assert entry.offer_expires_at is not None
    voice = customer_voice(org, booking.customer)
    body = "\n".join(
        [
            voice._(
                "🎉 A spot opened up on {tour}, {when}!",
                tour=dep.tour.name,
                when=voice.when(dep.starts_at),
            ),
            voice.n_(
                "{n} seat held for you until {expires}. Total {total}.",
                "{n} seats held for you until {expires}. Total {total}.",
                entry.seats,
                expires=voice.when(entry.offer_expires_at),
                total=voice.money(booking.total_minor, booking.currency),
            ),
            voice._("Reply CONFIRM to book, or DECLINE to stay on the list."),
        ]
    )
    buttons = whatsapp_content.render(
        session,
        org,
        voice.language,
        whatsapp_content.Interactive(
            "offer",
            body.rsplit("\n", 1)[0],  # without "Reply CONFIRM ...": the buttons say it
            (
                whatsapp_content.Choice(
                    whatsapp_content.payload("confirm", entry.id), voice._("Confirm")
                ),
                whatsapp_content.Choice(
                    whatsapp_content.payload("decline", entry.id), voice._("Decline")
                ),
            ),
        ),
    )
    _, template = purpose_template(
        session,
        org,
        voice,
        booking.customer,
        "waitlist_offer",
        {
            "tour": dep.tour.name,
            "when": voice.when(dep.starts_at),
            "expires": voice.when(entry.offer_expires_at),
            "total": voice.money(booking.total_minor, booking.currency),
        },
        tap_arg=entry.id,
    )
    to_customer(
        session,
        org,
        booking.customer,
        body,
        now,
        content=(buttons.content_sid, buttons.variables) if buttons else None,
        template=template,
        reference=booking.reference,
    )


def purpose_template(
    session: Session,
    org: Organization,
    voice: Voice,
    customer: Customer,
    purpose: str,
    values: dict[str, str],
    *,
    tap_arg: str | int = "",
) -> tuple[Pair | None, Pair | None]:
    """The purpose's WhatsApp template filled for this customer: (to send inside the
    24-hour window, whatever its review; to send outside it, only once approved)."""
    name = customer.name.split()[0] if customer.name else voice._("traveller")
    found = whatsapp_templates.render(
        session, org, voice.language, purpose, {"name": name, **values}, tap_arg=tap_arg
    )
    if found is None:
        return None, None
    rendered, approved = found
    pair = (rendered.content_sid, rendered.variables)
    return pair, pair if approved else None
