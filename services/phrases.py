"""Pieces of customer sentences that the bot's replies and the services' notifications
share, in the recipient's voice: a party ("2 adults + 1 child"), a price breakdown, a price
tier's name, a booking's status. Whole sentences stay where they are said."""

from __future__ import annotations

from collections.abc import Mapping

from models import BookingStatus, DepartureStatus
from models.enums import status_label
from services.i18n import N_, Term, Voice
from services.pricing import PriceBreakdown


def party(voice: Voice, people: Mapping[str, int]) -> str:
    """ "2 adults + 1 child"; a tier the product has no words for by its code."""
    parts = []
    for tier, count in people.items():
        if tier == "adult":
            parts.append(voice.n_("{n} adult", "{n} adults", count))
        elif tier == "child":
            parts.append(voice.n_("{n} child", "{n} children", count))
        else:
            parts.append(voice.n_("{n} {tier}", "{n} {tier}s", count, tier=tier))
    return " + ".join(parts)


_TIER_LABELS = {"adult": N_("Adult"), "child": N_("Child")}


def tier_label(voice: Voice, code: str, label: str) -> str:
    """ "Adult"; a tier of the organization's own ("Senior") by the label it imported."""
    known = _TIER_LABELS.get(code)
    return voice._(known) if known else label


def price_breakdown(voice: Voice, price: PriceBreakdown) -> str:
    """ "$49 × 2 + $29 × 2 = $156", with an early-bird discount ", early bird 5% -$7.80 =
    $148.20"."""
    parts = " + ".join(
        f"{voice.money(line.unit_minor, price.currency)} × {line.quantity}" for line in price.lines
    )
    text = f"{parts} = {voice.money(price.subtotal_minor, price.currency)}"
    if not price.discount_minor:
        return text
    return voice._(
        "{prices}, early bird {percent}% -{discount} = {total}",
        prices=text,
        percent=voice.number(price.discount_percent or 0),
        discount=voice.money(price.discount_minor, price.currency),
        total=voice.money(price.total_minor, price.currency),
    )


_STATUSES: dict[str, str] = {
    BookingStatus.HELD: N_("held"),
    BookingStatus.PENDING_APPROVAL: N_("pending approval"),
    BookingStatus.PAYMENT_PENDING: N_("payment pending"),
    BookingStatus.CONFIRMED: N_("confirmed"),
    BookingStatus.WAITLISTED: N_("waitlisted"),
    BookingStatus.CANCELLED: N_("cancelled"),
    BookingStatus.EXPIRED: N_("expired"),
    BookingStatus.COMPLETED: N_("completed"),
    BookingStatus.NO_SHOW: N_("no show"),
    DepartureStatus.OPEN: N_("open"),
    DepartureStatus.CLOSED: N_("closed"),
    DepartureStatus.STARTED: N_("started"),
}


_PAYMENT_KINDS = {"deposit": N_("deposit"), "full": N_("full"), "balance": N_("balance")}


def payment_kind(kind: str) -> Term:
    """ "deposit", "full", "balance": what a payment is for, inside a sentence."""
    return Term(_PAYMENT_KINDS.get(kind, kind))


def status(value: str) -> Term:
    """A booking's or a departure's status as a customer reads it ("pending approval"), to
    say inside a sentence, an error's included."""
    return Term(_STATUSES.get(value) or status_label(value))
