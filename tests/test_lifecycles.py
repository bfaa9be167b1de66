"""Every lifecycle's table: complete, and its transition function refuses a move the table
does not allow, with its own error and a message for people, leaving the status as it was.
(The booking table is tried pair by pair in test_bookings.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import pytest

from models import (
    AssignmentStatus,
    BookingStatus,
    ConversationStatus,
    DepartureStatus,
    IncidentStatus,
    LeadStatus,
    MessageStatus,
    PaymentStatus,
    WaitlistStatus,
)
from services import (
    assignment_states,
    booking_states,
    conversation_states,
    departure_states,
    incident_states,
    leads,
    message_states,
    payment_states,
    waitlist_states,
)
from services.lifecycle import Lifecycle, TransitionRefused

NOW = datetime(2027, 1, 10, 6, 0, tzinfo=UTC)
LIFECYCLES: dict[str, Lifecycle[Any]] = {
    "booking": booking_states.LIFECYCLE,
    "lead": leads.LIFECYCLE,
    "waitlist": waitlist_states.LIFECYCLE,
    "payment": payment_states.LIFECYCLE,
    "departure": departure_states.LIFECYCLE,
    "assignment": assignment_states.LIFECYCLE,
    "incident": incident_states.LIFECYCLE,
    "message": message_states.LIFECYCLE,
    "conversation": conversation_states.LIFECYCLE,
}


def _booking(status: str) -> SimpleNamespace:
    return SimpleNamespace(status=status, reference="BK-TEST1")


# (lifecycle, object in the "from" status, a move its table refuses, the transition call,
# the message people get). Nothing is written before the refusal, so no database is needed.
Refusal = tuple[str, SimpleNamespace, StrEnum, Callable[[Any, StrEnum], object], str]
REFUSALS: list[Refusal] = [
    (
        "booking",
        _booking(BookingStatus.CANCELLED),
        BookingStatus.CONFIRMED,
        lambda obj, to: booking_states.transition(None, obj, to, NOW),
        "Booking BK-TEST1 is cancelled and cannot become confirmed.",
    ),
    (
        "lead",
        SimpleNamespace(status=LeadStatus.WON, reference="LD-TEST1"),
        LeadStatus.NEW,
        lambda obj, to: leads.change_status(None, obj, to, NOW),
        "Lead LD-TEST1 is won and cannot become new.",
    ),
    (
        "waitlist",
        SimpleNamespace(status=WaitlistStatus.WAITING, booking=_booking(BookingStatus.WAITLISTED)),
        WaitlistStatus.ACCEPTED,
        lambda obj, to: waitlist_states.transition(None, obj, to, NOW),
        "The waitlist place of BK-TEST1 is waiting and cannot become accepted.",
    ),
    (
        "payment",
        SimpleNamespace(status=PaymentStatus.REFUNDED, id=7),
        PaymentStatus.PAID,
        lambda obj, to: payment_states.transition(None, obj, to, NOW, event="x"),
        "Payment 7 is refunded and cannot become paid.",
    ),
    (
        "departure",
        SimpleNamespace(status=DepartureStatus.STARTED, code="EBC0301"),
        DepartureStatus.CANCELLED,
        lambda obj, to: departure_states.transition(None, obj, to, NOW, event="x"),
        "EBC0301 is started and cannot become cancelled.",
    ),
    (
        "assignment",
        SimpleNamespace(status=AssignmentStatus.DECLINED, guide=SimpleNamespace(name="Rajesh")),
        AssignmentStatus.ACCEPTED,
        lambda obj, to: assignment_states.transition(
            None,
            obj,
            to,
            NOW,
            event="x",
            actor="guide:1",
            source="guide",
        ),
        "The offer to Rajesh is declined and cannot become accepted.",
    ),
    (
        "incident",
        SimpleNamespace(status=IncidentStatus.RESOLVED, number="INC-3"),
        IncidentStatus.OPEN,
        lambda obj, to: incident_states.transition(None, obj, to, NOW, actor="ops", source="admin"),
        "INC-3 is resolved and cannot become open.",
    ),
    (
        "message",
        SimpleNamespace(status=MessageStatus.READ, id=11),
        MessageStatus.QUEUED,
        lambda obj, to: message_states.transition(obj, to, NOW),
        "Message 11 is read and cannot become queued.",
    ),
    (
        "conversation",
        SimpleNamespace(status=ConversationStatus.RESOLVED),
        ConversationStatus.PENDING,
        lambda obj, to: conversation_states.transition(
            None,
            obj,
            to,
            NOW,
            actor="customer:+15550000001",
            source="sms",
        ),
        "This conversation is resolved and cannot become pending.",
    ),
]


def test_every_lifecycle_is_tried() -> None:
    assert {r[0] for r in REFUSALS} == set(LIFECYCLES)


@pytest.mark.parametrize(
    ("name", "obj", "to", "call", "message"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_transition_refuses_a_move_its_table_does_not_allow(
    name: str,
    obj: SimpleNamespace,
    to: StrEnum,
    call: Callable[[Any, StrEnum], object],
    message: str,
) -> None:
    lifecycle = LIFECYCLES[name]
    before = obj.status
    assert not lifecycle.allows(before, to)
    with pytest.raises(lifecycle.refused) as refused:
        call(obj, to)
    assert refused.value.message == message
    assert isinstance(refused.value, TransitionRefused) and refused.value.http_status == 409
    assert obj.status == before


@pytest.mark.parametrize("name", LIFECYCLES)
def test_each_table_has_a_row_for_every_status_and_its_own_error(name: str) -> None:
    lifecycle = LIFECYCLES[name]
    assert set(lifecycle.moves) == set(lifecycle.statuses)
    assert all(set(targets) <= set(lifecycle.statuses) for targets in lifecycle.moves.values())
    assert lifecycle.refused is not TransitionRefused
    others = [lc.refused for n, lc in LIFECYCLES.items() if n != name]
    assert lifecycle.refused not in others


def test_a_status_without_a_row_fails_at_import() -> None:
    class Door(StrEnum):
        OPEN = "open"
        SHUT = "shut"

    with pytest.raises(ValueError, match="no moves for"):
        Lifecycle(Door, {Door.OPEN: frozenset({Door.SHUT})}, TransitionRefused)


def test_a_lead_moved_to_the_status_it_has_is_left_alone() -> None:
    lead = SimpleNamespace(status=LeadStatus.WON, reference="LD-TEST1")
    leads.change_status(None, lead, LeadStatus.WON, NOW)
    assert lead.status == LeadStatus.WON


def test_delivery_reports_only_move_a_message_forward() -> None:
    row = SimpleNamespace(status=MessageStatus.READ, id=1, updated_at=None)
    assert not message_states.report(row, "sent", NOW)
    assert not message_states.report(row, "no-such-status", NOW)
    row.status = MessageStatus.SENT
    assert message_states.report(row, "DELIVERED", NOW)
    assert (row.status, row.updated_at) == (MessageStatus.DELIVERED, NOW)
    # Our own statuses are never taken from a report.
    row.status = MessageStatus.QUEUED
    assert not message_states.report(row, "retrying", NOW)
