"""Tasks: what a person must do for a customer, made when the bot promises a person's
follow-up (a voucher, an invoice, a group rate), meets a question nothing answers, hears
a complaint or an urgent report, or receives a file it cannot read.

Every task is assigned (the conversation's or the enquiry's rep, else nobody: the owner
hears of it), goes on the timeline of its booking or enquiry, and is sent to staff as a
text that carries its context (staff_context): who, which booking or enquiry, tour, date,
party, and the customer's last words quoted. Urgent ones also go to ops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    EXPECTED_STATUSES,
    OPEN_LEAD_STATUSES,
    Booking,
    Conversation,
    Customer,
    Departure,
    Lead,
    Message,
    Organization,
    StaffUser,
    Task,
    TaskPriority,
    TaskStatus,
)
from services import notify, ratelimit, task_states, timeline
from services.i18n import Voice

# Staff read English.
STAFF = Voice()
LAST_MESSAGES = 3


@dataclass(frozen=True)
class StaffContext:
    """What a person needs to act on a customer's message without opening the inbox."""

    who: str  # "Ada (+12025550101, whatsapp)"
    about: str  # "BK-7K3Q9: Sunset Tour, Sat 12 Dec 17:30, 2 adults (confirmed, paid $98)"
    said: str  # the last messages, quoted and defanged
    booking: Booking | None
    lead: Lead | None

    def lines(self) -> list[str]:
        return [line for line in (self.who, self.about, self.said) if line]


def relevant_booking(
    session: Session, customer: Customer, now: datetime, reference: str | None = None
) -> Booking | None:
    """The booking a customer's message is most likely about: the one named, else the
    expected one whose departure is nearest now (a tour that started an hour ago, for a
    guide who did not come, comes before next month's)."""
    stmt = (
        select(Booking)
        .where(Booking.customer_id == customer.id)
        .options(joinedload(Booking.departure).joinedload(Departure.tour))
    )
    if reference:
        named = session.scalar(stmt.where(Booking.reference == reference))
        if named is not None:
            return named
    rows = session.scalars(
        stmt.join(Departure, Departure.id == Booking.departure_id).where(
            Booking.status.in_(EXPECTED_STATUSES),
            Departure.starts_at > now - timedelta(days=1),
        )
    ).all()
    if not rows:
        return None
    return min(rows, key=lambda b: abs((b.departure.starts_at - now).total_seconds()))


def staff_context(
    session: Session,
    org: Organization,
    customer: Customer,
    conversation: Conversation | None,
    now: datetime,
    *,
    booking: Booking | None = None,
    lead: Lead | None = None,
) -> StaffContext:
    channel = conversation.channel if conversation else None
    name = notify.display_name(customer)
    who = f"{name} ({customer.phone}, {channel})" if channel else f"{name} ({customer.phone})"
    if name == customer.phone:
        who = f"{customer.phone} ({channel})" if channel else customer.phone
    open_lead = conversation.lead if conversation is not None else None
    if lead is None and open_lead is not None and open_lead.status in OPEN_LEAD_STATUSES:
        lead = open_lead
    about = ""
    if booking is not None:
        about = notify.booking_line(org, booking)
    elif lead is not None:
        about = notify.lead_line(lead)
    said = notify.last_words(session, conversation, LAST_MESSAGES)
    return StaffContext(who, about, said, booking, lead)


def assignee(
    conversation: Conversation | None, lead: Lead | None, booking: Booking | None
) -> int | None:
    for candidate in (
        conversation.assigned_to_id if conversation else None,
        lead.assigned_to_id if lead else None,
        booking.lead.assigned_to_id if booking is not None and booking.lead else None,
    ):
        if candidate:
            return candidate
    return None


def create(
    session: Session,
    org: Organization,
    customer: Customer,
    now: datetime,
    *,
    kind: str,
    title: str,
    context: StaffContext,
    conversation: Conversation | None,
    counts: ratelimit.Counter,
    priority: TaskPriority = TaskPriority.NORMAL,
    actor: str,
    source: str,
    extra: str = "",
) -> tuple[Task, list[str]]:
    """A task for the rep (or the owner), on the booking's or enquiry's timeline, and sent
    to them as a text (urgent: to ops as well). Returns the task and the names of the
    people told (none known: "our team")."""
    staff_id = assignee(conversation, context.lead, context.booking)
    details = "\n".join([*context.lines(), extra] if extra else context.lines())
    task = Task(
        organization_id=org.id,
        kind=kind,
        priority=priority,
        title=title[:300],
        details=details,
        customer_id=customer.id,
        conversation_id=conversation.id if conversation else None,
        lead_id=context.lead.id if context.lead else None,
        booking_id=context.booking.id if context.booking else None,
        assigned_to_id=staff_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    about = context.booking or context.lead
    if about is not None:
        timeline.record(
            session,
            about,
            "task.opened",
            actor=actor,
            source=source,
            at=now,
            content={"task": task.number, "kind": kind, "text": title[:500]},
        )
    phone, name = notify.rep_or_owner_phone(session, org, staff_id)
    names = [name] if name else []
    if priority == TaskPriority.URGENT:
        names += [
            person.name
            for person in session.scalars(
                select(StaffUser).where(
                    StaffUser.organization_id == org.id,
                    StaffUser.phone.in_(org.ops_phones or []),
                    StaffUser.active.is_(True),
                )
            )
            if person.name not in names
        ]
    if notify.may_page_staff(org, customer, counts):
        # One line: nothing the customer wrote (their name included) can start a line of
        # its own and pass for one of ours (services/notify.py).
        tag = " URGENT" if priority == TaskPriority.URGENT else ""
        parts = [f"{task.number}{tag}: {notify.one_line(title)}", *context.lines()]
        if extra:
            parts.append(notify.one_line(extra))
        body = " · ".join(parts)
        notify.to_staff(session, org, phone, body, now)
        if priority == TaskPriority.URGENT:
            for ops in org.ops_phones or []:
                if ops != phone:
                    notify.to_staff(session, org, ops, body, now)
    return task, names


def open_tasks(
    session: Session, org: Organization, *, assigned_to_id: int | None = None, limit: int = 100
) -> list[Task]:
    """Urgent first, then oldest first: what to do next."""
    stmt = (
        select(Task)
        .where(Task.organization_id == org.id, Task.status == TaskStatus.OPEN)
        .options(joinedload(Task.customer), joinedload(Task.assigned_to))
    )
    if assigned_to_id is not None:
        stmt = stmt.where(Task.assigned_to_id == assigned_to_id)
    rows = list(session.scalars(stmt.order_by(Task.created_at).limit(limit)).unique())
    return sorted(rows, key=lambda t: t.priority != TaskPriority.URGENT)


def complete(
    session: Session, task: Task, staff: StaffUser, now: datetime, *, source: str = "admin"
) -> None:
    task_states.transition(
        session,
        task,
        TaskStatus.DONE,
        now,
        actor=f"staff:{staff.email}",
        source=source,
        staff_id=staff.id,
    )


def waiting_for_person(session: Session, conversation: Conversation) -> Task | None:
    """An urgent task for this conversation that no person has answered yet (no staff
    reply in the conversation since, and not done): until then the bot cancels and refunds
    nothing."""
    task = session.scalar(
        select(Task)
        .where(
            Task.conversation_id == conversation.id,
            Task.status == TaskStatus.OPEN,
            Task.priority == TaskPriority.URGENT,
        )
        .order_by(Task.id.desc())
        .limit(1)
    )
    if task is None:
        return None
    answered = session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.kind == "agent",
            Message.created_at >= task.created_at,
        )
        .limit(1)
    )
    return None if answered is not None else task
