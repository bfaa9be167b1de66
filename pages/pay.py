"""/pay/<ref>: what the payment link in a chat opens. It shows the booking and the choices
(deposit or full, or the balance), then sends the customer to Stripe Checkout; in the
embedded default, to a local fake checkout so the whole flow can be tried in a browser."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from extensions import db, job_queue
from models import Booking, Organization, Payment, utcnow
from services import outbox, payments
from services.errors import ServiceError
from services.money import format_money
from services.notify import local_time

pay_bp = Blueprint("pay", __name__)


def _booking(ref: str) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.reference == ref.strip().upper()))
    if booking is None:
        abort(404, description="No such booking. Check the link in your message.")
    return booking


def _base_url() -> str:
    return (current_app.config["APP_CONFIG"].PUBLIC_BASE_URL or request.host_url).rstrip("/")


@pay_bp.get("/pay/<ref>")
def choose(ref: str) -> str:
    booking = _booking(ref)
    options = [
        (kind, format_money(payments.amount_for(booking, kind), booking.currency))
        for kind in payments.payable_kinds(booking)
    ]
    return render_template(
        "pay/booking.html",
        booking=booking,
        tour=booking.departure.tour,
        options=options,
        not_payable=payments.not_payable_because(booking),
        when=local_time(_org(booking), booking.departure.starts_at),
        total=format_money(booking.total_minor, booking.currency),
        paid=format_money(booking.paid_minor, booking.currency),
    )


def _org(booking: Booking) -> Organization:
    org = db.session.get(Organization, booking.organization_id)
    assert org is not None
    return org


@pay_bp.post("/pay/<ref>")
def start(ref: str) -> Response | str:
    booking = _booking(ref)
    kind = request.form.get("kind", "")
    try:
        _, url = payments.start_checkout(
            db.session, _org(booking), booking, kind, utcnow(), _base_url()
        )
    except ServiceError as exc:
        return render_template("pay/message.html", title="Nothing to pay", message=exc.message), 409
    db.session.commit()
    return redirect(url, code=303)


@pay_bp.route("/pay/<ref>/fake/<int:payment_id>", methods=["GET", "POST"])
def fake_checkout(ref: str, payment_id: int) -> str | tuple[str, int]:
    """The embedded default's stand-in for Stripe Checkout. Refused when Stripe is on."""
    if payments.uses_stripe():
        abort(404)
    booking = _booking(ref)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.booking_id != booking.id or payment.provider != "fake":
        abort(404)
    amount = format_money(payment.amount_minor, payment.currency)
    if request.method == "GET":
        return render_template(
            "pay/fake_checkout.html", booking=booking, payment=payment, amount=amount
        )
    outcome = payments.settle(db.session, _org(booking), payment, utcnow(), source="fake")
    outbox.commit_and_send(db.session, job_queue())
    messages = {
        "confirmed": (
            "Payment received",
            f"Thank you! {booking.reference} is confirmed; details are on their way.",
        ),
        "balance_paid": ("Payment received", f"Thank you! {booking.reference} is paid."),
        "already_paid": ("Already paid", "This payment was already received."),
        "refunded": (
            "Refunded",
            "Sorry, the seats were gone before your payment arrived; it has been refunded.",
        ),
    }
    title, message = messages.get(outcome, ("Payment", outcome))
    return render_template("pay/message.html", title=title, message=message)


@pay_bp.get("/pay/<ref>/done")
def done(ref: str) -> str:
    booking = _booking(ref)
    return render_template(
        "pay/message.html",
        title="Thank you",
        message=f"We'll confirm {booking.reference} by message as soon as the payment clears.",
    )
