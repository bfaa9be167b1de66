"""Search, customers and bookings: one box for name, phone or reference; a booking page
with payments, refunds, messages and the timeline; cancel, refund, resend."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin import admin_bp
from admin.actions import form_int, form_text, run
from admin.auth import actor, current_org, requires, scoped, staff
from extensions import app_config, db, stripe_account
from models import (
    AWAITING_PAYMENT_STATUSES,
    CANCELLABLE_STATUSES,
    Booking,
    Conversation,
    ConversationNote,
    Customer,
    Departure,
    Incident,
    Lead,
    Message,
    Payment,
    Refund,
    StaffUser,
    Task,
    utcnow,
)
from services import (
    approvals,
    booking_changes,
    cancellations,
    desk,
    message_costs,
    payments,
    refunds,
    search,
    timeline,
)
from services import staff as staff_service
from services.errors import ServiceError
from services.i18n import Voice
from services.money import format_money, to_minor


def _booking(reference: str) -> Booking:
    booking = db.session.scalar(
        select(Booking)
        .options(
            joinedload(Booking.customer), joinedload(Booking.departure).joinedload(Departure.tour)
        )
        .where(Booking.reference == reference.upper(), Booking.organization_id == current_org().id)
    )
    return scoped(booking)  # type: ignore[no-any-return]


def _messages_with(customer: Customer, limit: int = 50) -> list[Message]:
    """The newest messages of the customer's conversations and those sent to their number,
    oldest first. Two indexed reads, not one OR: with OR the planner walked every message
    of the organization newest first (240 ms over a year's 240,000)."""
    conversation_ids = select(Conversation.id).where(Conversation.customer_id == customer.id)
    newest = (
        select(Message.id).where(Message.conversation_id.in_(conversation_ids)),
        select(Message.id).where(
            Message.organization_id == customer.organization_id,
            Message.to_phone == customer.phone,
        ),
    )
    ids = {
        i
        for query in newest
        for i in db.session.scalars(query.order_by(Message.id.desc()).limit(limit))
    }
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Message).where(Message.id.in_(ids)).order_by(Message.id.desc()).limit(limit)
        )
    )[::-1]


@admin_bp.get("/search")
@requires()
def search_page() -> ResponseReturnValue:
    query = request.args.get("q", "")
    results = search.search(db.session, current_org(), query)
    return render_template("admin/search.html", results=results, now=utcnow())


@admin_bp.get("/customers/<int:customer_id>")
@requires()
def customer_page(customer_id: int) -> ResponseReturnValue:
    """Everything about one customer on one page, for the person on the phone with them:
    recognised (returning, trips, spent), their bookings and payments, what was said and
    noted, incidents on their tours; contact details and notes editable."""
    org = current_org()
    now = utcnow()
    customer = scoped(db.session.get(Customer, customer_id))
    bookings = list(
        db.session.scalars(
            select(Booking)
            .options(joinedload(Booking.departure).joinedload(Departure.tour))
            .where(Booking.customer_id == customer.id)
            .order_by(Booking.id.desc())
        )
    )
    booking_ids = [b.id for b in bookings] or [0]
    conversations = list(
        db.session.scalars(select(Conversation).where(Conversation.customer_id == customer.id))
    )
    return render_template(
        "admin/customer.html",
        customer=customer,
        history=desk.history(db.session, org, customer, now),
        email_typo=desk.email_typo(customer.email),
        bookings=bookings,
        payments=list(
            db.session.scalars(
                select(Payment)
                .options(joinedload(Payment.booking))
                .where(Payment.booking_id.in_(booking_ids), Payment.status != "pending")
                .order_by(Payment.id.desc())
                .limit(50)
            )
        ),
        leads=list(
            db.session.scalars(
                select(Lead).where(Lead.customer_id == customer.id).order_by(Lead.id.desc())
            )
        ),
        conversations=conversations,
        notes=list(
            db.session.scalars(
                select(ConversationNote)
                .options(joinedload(ConversationNote.author))
                .where(ConversationNote.conversation_id.in_([c.id for c in conversations] or [0]))
                .order_by(ConversationNote.id.desc())
                .limit(30)
            )
        ),
        incidents=list(
            db.session.scalars(
                select(Incident)
                .options(joinedload(Incident.departure).joinedload(Departure.tour))
                .where(
                    Incident.organization_id == org.id,
                    Incident.departure_id.in_([b.departure_id for b in bookings] or [0]),
                )
                .order_by(Incident.id.desc())
                .limit(20)
            )
        ),
        messages=_messages_with(customer),
        now=now,
    )


@admin_bp.get("/bookings/<reference>")
@requires()
def booking_page(reference: str) -> ResponseReturnValue:
    org = current_org()
    booking = _booking(reference)
    now = utcnow()
    payment_rows = list(
        db.session.scalars(
            select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)
        )
    )
    refund_rows = list(
        db.session.scalars(
            select(Refund)
            .where(Refund.payment_id.in_([p.id for p in payment_rows] or [0]))
            .order_by(Refund.id)
        )
    )
    refund_text = (
        # Staff read it in English: the words the customer would be told.
        cancellations.describe(
            Voice(tz=org.tz), booking, cancellations.refund_quote(org, booking, now)
        )
        if booking.status in CANCELLABLE_STATUSES
        else None
    )
    from admin.desk import move_choices  # the desk's module imports this one

    recorders = {
        u.id: u.name
        for u in db.session.scalars(
            select(StaffUser).where(
                StaffUser.id.in_([p.recorded_by_id for p in payment_rows if p.recorded_by_id])
            )
        )
    }
    changeable = booking.status in booking_changes.CHANGEABLE and booking.departure.starts_at > now
    # A hold that still holds can be kept longer: by default a day more, not past the start.
    keep_until = (
        min(booking.hold_expires_at + timedelta(days=1), booking.departure.starts_at)
        if booking.status in AWAITING_PAYMENT_STATUSES
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > now
        else None
    )
    return render_template(
        "admin/booking.html",
        booking=booking,
        recorders=recorders,
        methods=desk.PAYMENT_METHODS,
        refunded_minor=sum(r.amount_minor for r in refund_rows),
        # A refund of money taken by hand waits for a person until its own task is done
        # (those recorded before these tasks existed have none).
        hand_back_tasks={
            t.refund_id: t
            for t in db.session.scalars(
                select(Task).where(
                    Task.booking_id == booking.id,
                    Task.kind == "refund",
                    Task.refund_id.in_([r.id for r in refund_rows]),
                )
            )
        },
        changeable=changeable,
        keep_until=keep_until,
        move_choices=move_choices(booking, now) if changeable else [],
        tiers=[(t.code, t.label) for t in booking.departure.tour.price_tiers],
        payments=payment_rows,
        refunds=refund_rows,
        messages=_messages_with(booking.customer),
        messaging=message_costs.usage_by_booking(db.session, org, Booking.id == booking.id).get(
            booking.id, message_costs.Usage()
        ),
        events=timeline.events_for(db.session, org.id, booking.reference),
        refund_text=refund_text,
        # The same rule as the customer's confirmation and reminders.
        balance_due=payments.balance_due_at(org, booking) if booking.balance_minor else None,
        can=lambda action: staff_service.can(staff(), action),
        now=now,
    )


@admin_bp.post("/bookings/<reference>/cancel")
@requires("cancel_booking")
def booking_cancel(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    reason = form_text("reason", 300) or "cancelled by staff"
    # Money taken by hand is refunded on the books only: say who must hand back what.
    by_hand = {
        p: p.refunded_minor
        for p in db.session.scalars(
            select(Payment).where(Payment.booking_id == booking.id, Payment.provider == "manual")
        )
    }

    def done(refunded: int) -> str:
        words = [
            f" {refunds.by_hand(p, p.refunded_minor - before)}: it is on the task list."
            for p, before in by_hand.items()
            if p.refunded_minor > before
        ]
        return (
            f"{booking.reference} cancelled; refunded {format_money(refunded, booking.currency)}."
            + "".join(words)
        )

    return run(
        lambda: cancellations.cancel_with_refund(
            db.session,
            current_org(),
            booking,
            utcnow(),
            reason=reason,
            stripe=stripe_account(),
            actor=actor(),
            source="admin",
        ),
        done,
        url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.post("/bookings/<reference>/refund")
@requires("refund")
def booking_refund(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    payment = db.session.get(Payment, form_int("payment", 0, low=0, high=2**31 - 1))
    if payment is None or payment.booking_id != booking.id:
        abort(404)
    try:
        amount = to_minor(form_text("amount", 20), booking.currency)
    except ServiceError as exc:
        abort(400, exc.message)
    if amount <= 0:
        abort(400, "The refund must be more than zero.")
    reason = form_text("reason", 60) or "requested_by_customer"
    return run(
        lambda: refunds.refund(
            db.session, current_org(), payment, amount, reason, utcnow(), stripe=stripe_account()
        ),
        lambda refund: (
            f"Refunded {format_money(refund.amount_minor, booking.currency)}."
            + (
                f" {words}: it is on the task list."
                if (words := refunds.by_hand(payment, refund.amount_minor))
                else ""
            )
        ),
        url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.post("/bookings/<reference>/approval")
@requires("approve")
def booking_approval(reference: str) -> ResponseReturnValue:
    """The owner's answer to a booking waiting for approval, as the texted link gives it:
    confirm (the customer gets the payment link) or decline (seats freed, other dates
    offered). Either spends the link."""
    booking = _booking(reference)
    action = request.form.get("action")
    if action not in ("confirm", "decline"):
        abort(400, "Confirm or decline.")
    return run(
        lambda: approvals.decide(
            db.session,
            current_org(),
            booking,
            action == "confirm",
            utcnow(),
            base_url=app_config().PUBLIC_BASE_URL,
            nonce=booking.approval_nonce,
            actor=actor(),
            source="admin",
        ),
        lambda message: str(message),
        url_for("admin.booking_page", reference=booking.reference),
    )


@admin_bp.post("/bookings/<reference>/resend")
@requires("resend")
def booking_resend(reference: str) -> ResponseReturnValue:
    booking = _booking(reference)
    return run(
        lambda: payments.resend_confirmation(
            db.session,
            current_org(),
            booking,
            utcnow(),
            base_url=app_config().PUBLIC_BASE_URL,
            actor=actor(),
        ),
        "Sent to the customer again.",
        url_for("admin.booking_page", reference=booking.reference),
    )
