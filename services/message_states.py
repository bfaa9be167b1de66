"""The message lifecycle (the communications log) as one table. Every status change of a
message goes through transition(), which refuses anything not in the table.

Unlike the other lifecycles it writes no timeline event: the message row is itself the
record (its status, error and times are what staff see in the thread and the log), and a
timeline row per delivery report would double the writes of the busiest table for nothing.

Twilio's delivery reports arrive in any order and more than once; the table only lets them
move a message forward, so "sent" arriving after "read" changes nothing."""

from __future__ import annotations

from datetime import datetime

from models import Message
from models import MessageStatus as M
from services.lifecycle import Lifecycle, TransitionRefused

# What Twilio's status callbacks may report.
REPORTED = frozenset({M.ACCEPTED, M.SENDING, M.SENT, M.DELIVERED, M.READ, M.UNDELIVERED, M.FAILED})
_AFTER_SENT = frozenset({M.DELIVERED, M.READ, M.UNDELIVERED, M.FAILED})

ALLOWED: dict[M, frozenset[M]] = {
    M.RECEIVED: frozenset(),
    # The bot's answer, sent back in the webhook's TwiML: Twilio never reports on it to us.
    M.REPLY: frozenset(),
    # Ours to send: a retry after a failed attempt (again after another one), the customer
    # opted out meanwhile, we gave up, or Twilio took it (its reports can come before we
    # record the send, when that commit failed and is retried on a fresh connection).
    M.QUEUED: frozenset({M.RETRYING, M.SUPPRESSED, M.FAILED} | REPORTED),
    M.RETRYING: frozenset({M.RETRYING, M.SUPPRESSED, M.FAILED} | REPORTED),
    M.ACCEPTED: frozenset({M.SENDING, M.SENT} | _AFTER_SENT),
    M.SENDING: frozenset({M.SENT} | _AFTER_SENT),
    M.SENT: _AFTER_SENT,
    # Carriers report failures late and sometimes wrongly: a later delivery report wins.
    M.FAILED: frozenset({M.UNDELIVERED, M.DELIVERED, M.READ}),
    M.UNDELIVERED: frozenset({M.FAILED, M.DELIVERED, M.READ}),
    M.DELIVERED: frozenset({M.READ}),
    M.READ: frozenset(),
    # Held back for staff (no template) or for good (opted out): never sent as it is.
    M.NEEDS_TEMPLATE: frozenset(),
    M.SUPPRESSED: frozenset(),
}


class MessageTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(M, ALLOWED, MessageTransitionError)


def transition(row: Message, to: M, now: datetime) -> None:
    LIFECYCLE.move(row, f"Message {row.id}", to)
    row.updated_at = now


def report(row: Message, reported: str, now: datetime) -> bool:
    """A delivery report from Twilio. False (and nothing changed) for a status we do not
    know, or one that would not move the message forward."""
    try:
        to = M(reported.strip().lower())
    except ValueError:
        return False
    if to not in REPORTED or not LIFECYCLE.allows(row.status, to):
        return False
    transition(row, to, now)
    return True
