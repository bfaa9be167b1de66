"""/pay/<ref>: what the payment link in a chat opens. It shows the booking and the choices
(deposit or full, or the balance), then sends the customer to Stripe Checkout; in the
embedded default, to a local fake checkout so the whole flow can be tried in a browser."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from extensions import app_config, db, job_queue, rate_counter, stripe_account
from models import Booking, Organization, Payment, utcnow
from pages.voice import speak_to
from services import outbox, payments, phrases
from services.errors import ServiceError
from services.i18n import Voice, customer_voice

pay_bp = Blueprint("pay", __name__)


def _booking(ref: str) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.reference == ref.strip().upper()))
    if booking is None:
        abort(404, description="No such booking. Check the link in your message.")
    return booking


def _base_url() -> str:
    return (app_config().PUBLIC_BASE_URL or request.host_url).rstrip("/")


@pay_bp.get("/pay/<ref>")
def choose(ref: str) -> str:
    booking = _booking(ref)
    voice = _voice(booking)
    options = [
        (kind, voice.money(payments.amount_for(booking, kind), booking.currency))
        for kind in payments.payable_kinds(booking)
    ]
    refusal = payments.not_payable_because(booking)
    return render_template(
        "pay/booking.html",
        booking=booking,
        tour=booking.departure.tour,
        options=options,
        not_payable=refusal.said_by(voice) if refusal else None,
        when=voice.when(booking.departure.starts_at),
        total=voice.money(booking.total_minor, booking.currency),
        paid=voice.money(booking.paid_minor, booking.currency),
        status=voice._(phrases.status(booking.status)),
    )


def _org(booking: Booking) -> Organization:
    org = db.session.get(Organization, booking.organization_id)
    assert org is not None
    return org


def _voice(booking: Booking) -> Voice:
    """The booking's customer's voice, for this request's page and its sentences."""
    return speak_to(customer_voice(_org(booking), booking.customer))


@pay_bp.post("/pay/<ref>")
def start(ref: str) -> ResponseReturnValue:
    booking = _booking(ref)
    kind = request.form.get("kind", "")
    try:
        _, url = payments.start_checkout(
            db.session, _org(booking), booking, kind, utcnow(), _base_url(), stripe_account()
        )
    except ServiceError as exc:
        voice = _voice(booking)
        return render_template(
            "pay/message.html", title=voice._("Nothing to pay"), message=exc.said_by(voice)
        ), 409
    db.session.commit()
    return redirect(url, code=303)


@pay_bp.route("/pay/<ref>/fake/<int:payment_id>", methods=["GET", "POST"])
def fake_checkout(ref: str, payment_id: int) -> str | tuple[str, int]:
    """The embedded default's stand-in for Stripe Checkout. Refused when Stripe is on."""
    if stripe_account().enabled:
        abort(404)
    booking = _booking(ref)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.booking_id != booking.id or payment.provider != "fake":
        abort(404)
    voice = _voice(booking)
    amount = voice.money(payment.amount_minor, payment.currency)
    if request.method == "GET":
        return render_template(
            "pay/fake_checkout.html", booking=booking, payment=payment, amount=amount
        )
    outcome = payments.settle(
        db.session,
        _org(booking),
        payment,
        utcnow(),
        stripe=stripe_account(),
        counts=rate_counter(),
        source="fake",
    )
    outbox.commit_and_send(db.session, job_queue())
    reference = booking.reference
    messages = {
        "confirmed": (
            voice._("Payment received"),
            voice._(
                "Thank you! {reference} is confirmed; details are on their way.",
                reference=reference,
            ),
        ),
        "balance_paid": (
            voice._("Payment received"),
            voice._("Thank you! {reference} is paid.", reference=reference),
        ),
        "already_paid": (
            voice._("Already paid"),
            voice._("This payment was already received."),
        ),
        "refunded": (
            voice._("Refunded"),
            voice._(
                "Sorry, the seats were gone before your payment arrived; it has been refunded."
            ),
        ),
    }
    title, message = messages.get(outcome, (voice._("Payment"), outcome))
    return render_template("pay/message.html", title=title, message=message)


@pay_bp.get("/pay/<ref>/done")
def done(ref: str) -> str:
    booking = _booking(ref)
    voice = _voice(booking)
    return render_template(
        "pay/message.html",
        title=voice._("Thank you"),
        message=voice._(
            "We'll confirm {reference} by message as soon as the payment clears.",
            reference=booking.reference,
        ),
    )
