"""/pay/<ref>/<secret>: what the payment link in a chat opens. It shows the booking and the
choices (deposit or full, or the balance), then sends the customer to Stripe Checkout; in the
embedded default, to a local fake checkout so the whole flow can be tried in a browser.

The reference alone (/pay/<ref>) opens nothing: it is five guessable characters, and the
page shows the customer's booking. Every pay page is rate-limited per client address, and
an address that keeps trying links that lead nowhere is refused for a while."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from extensions import app_config, db, job_queue, rate_counter, stripe_account
from models import Booking, BookingStatus, Organization, Payment, utcnow
from pages.voice import speak_to
from services import checkout, outbox, payments, phrases, ratelimit, settlement
from services.errors import ServiceError
from services.i18n import Voice, customer_voice

pay_bp = Blueprint("pay", __name__)


@pay_bp.before_request
def _limit() -> tuple[str, int] | None:
    address = request.remote_addr or "unknown"
    if ratelimit.hit(ratelimit.PAY_PAGES_PER_ADDRESS, address, rate_counter()) > (
        ratelimit.PAY_PAGES_PER_ADDRESS.count
    ) or ratelimit.exceeded(ratelimit.PAY_LINK_MISSES_PER_ADDRESS, address, rate_counter()):
        return render_template(
            "pay/message.html",
            title="Too many requests",
            message="Too many requests from your address. Please wait a few minutes.",
        ), 429
    return None


def _missing(message: str) -> tuple[str, int]:
    ratelimit.hit(
        ratelimit.PAY_LINK_MISSES_PER_ADDRESS, request.remote_addr or "unknown", rate_counter()
    )
    return render_template("pay/message.html", title="Link not found", message=message), 404


def _booking(ref: str, token: str) -> Booking:
    booking = payments.booking_for_link(db.session, ref, token)
    if booking is None:
        abort(
            make_response(
                _missing(
                    "This payment link is not valid. "
                    "Please use the link in the message we sent you."
                )
            )
        )
    return booking


@pay_bp.route("/pay/<ref>", methods=["GET", "POST"])
def reference_only(ref: str) -> tuple[str, int]:
    """Links sent before pay links had a secret, or a guessed reference: nothing shown."""
    return _missing(
        "Please use the payment link in the message we sent you (it is longer than the "
        "booking reference). Reply PAY in the chat for a new one."
    )


def _base_url() -> str:
    return (app_config().PUBLIC_BASE_URL or request.host_url).rstrip("/")


@pay_bp.get("/pay/<ref>/<token>")
def choose(ref: str, token: str) -> str:
    booking = _booking(ref, token)
    voice = _voice(booking)
    options = [
        (kind, voice.money(payments.amount_for(booking, kind), booking.currency))
        for kind in payments.payable_kinds(booking)
    ]
    # The WhatsApp buttons "Pay deposit" / "Pay in full" open ?pay=deposit / ?pay=full:
    # that choice comes first, ready to press (never paid on a GET: link previews fetch
    # it too).
    chosen = request.args.get("pay", "")
    if chosen not in {kind for kind, _ in options}:
        chosen = ""
    options.sort(key=lambda option: option[0] != chosen)
    refusal = payments.not_payable_because(booking)
    return render_template(
        "pay/booking.html",
        booking=booking,
        tour=booking.departure.tour,
        options=options,
        chosen=chosen,
        not_payable=refusal.said_by(voice) if refusal else None,
        when=voice.when(booking.departure.starts_at),
        total=voice.money(booking.total_minor, booking.currency),
        due=_due(voice, booking),
        paid=voice.money(booking.paid_minor, booking.currency),
        status=voice._(phrases.status(booking.status)),
    )


def _due(voice: Voice, booking: Booking) -> str | None:
    """When the balance of a confirmed booking is due, as the confirmation said it."""
    if booking.status != BookingStatus.CONFIRMED or not booking.balance_minor:
        return None
    due = payments.balance_due_at(_org(booking), booking)
    if due <= utcnow():
        return voice._("Balance due now")
    return voice._("Balance due {due}", due=voice.date(due, year=True))


def _org(booking: Booking) -> Organization:
    org = db.session.get(Organization, booking.organization_id)
    assert org is not None
    return org


def _voice(booking: Booking) -> Voice:
    """The booking's customer's voice, for this request's page and its sentences."""
    return speak_to(customer_voice(_org(booking), booking.customer))


@pay_bp.post("/pay/<ref>/<token>")
def start(ref: str, token: str) -> ResponseReturnValue:
    booking = _booking(ref, token)
    kind = request.form.get("kind", "")
    org, now, stripe = _org(booking), utcnow(), stripe_account()
    try:
        # The payment is committed before any checkout exists: Stripe's event for it, however
        # fast, finds it. A second click gets the same payment and its open checkout.
        payment = checkout.open_payment(db.session, org, booking, kind, now, stripe)
        db.session.commit()
        url = checkout.checkout_url(db.session, payment, now, _base_url(), stripe)
    except ServiceError as exc:
        db.session.rollback()
        voice = _voice(booking)
        return render_template(
            "pay/message.html", title=voice._("Nothing to pay"), message=exc.said_by(voice)
        ), 409
    db.session.commit()
    return redirect(url, code=303)


@pay_bp.route("/pay/<ref>/<token>/fake/<int:payment_id>", methods=["GET", "POST"])
def fake_checkout(ref: str, token: str, payment_id: int) -> str | tuple[str, int]:
    """The embedded default's stand-in for Stripe Checkout. Refused when Stripe is on."""
    if stripe_account().enabled:
        abort(404)
    booking = _booking(ref, token)
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.booking_id != booking.id or payment.provider != "fake":
        abort(404)
    voice = _voice(booking)
    amount = voice.money(payment.amount_minor, payment.currency)
    if request.method == "GET":
        return render_template(
            "pay/fake_checkout.html", booking=booking, payment=payment, amount=amount
        )
    outcome = settlement.settle(
        db.session,
        _org(booking),
        payment,
        utcnow(),
        stripe=stripe_account(),
        counts=rate_counter(),
        source="fake",
        base_url=_base_url(),
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


@pay_bp.get("/pay/<ref>/<token>/done")
def done(ref: str, token: str) -> str:
    booking = _booking(ref, token)
    voice = _voice(booking)
    return render_template(
        "pay/message.html",
        title=voice._("Thank you"),
        message=voice._(
            "We'll confirm {reference} by message as soon as the payment clears.",
            reference=booking.reference,
        ),
    )
