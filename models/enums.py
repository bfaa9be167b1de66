"""Status vocabularies: every lifecycle staff or customers see, with its named groups.

Stored as plain lowercase strings (a StrEnum member equals its value), so adding a value
needs no enum migration. Which moves each lifecycle allows is in its transition module
(services/*_states.py, leads in services/leads.py); nothing else writes a status.
"""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    OPS = "ops"
    SALES = "sales"


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ObjectType(StrEnum):
    LEAD = "lead"
    BOOKING = "booking"
    DEPARTURE = "departure"
    WAITLIST = "waitlist"
    ORGANIZATION = "organization"


def status_label(status: str) -> str:
    """A status as people read it: "pending_approval" -> "pending approval"."""
    return str(status).replace("_", " ").lower()


# --- bookings (services/booking_states.py) ----------------------------------------------


class BookingStatus(StrEnum):
    HELD = "held"
    PENDING_APPROVAL = "pending_approval"
    PAYMENT_PENDING = "payment_pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


# Seats stay taken until a hold deadline passes.
HOLDING_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.PENDING_APPROVAL,
    BookingStatus.PAYMENT_PENDING,
)
# Seats taken for good.
BOOKED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
# Holds the customer may pay to confirm. Not PENDING_APPROVAL: the owner decides first.
AWAITING_PAYMENT_STATUSES = (BookingStatus.HELD, BookingStatus.PAYMENT_PENDING)
# Guests expected on the departure (the manifests): confirmed, or holding seats that may
# still be confirmed (listed, flagged as not confirmed).
EXPECTED_STATUSES = (BookingStatus.CONFIRMED, *HOLDING_STATUSES)
# Not over yet: the customer can ask about these and cancel them (a place in line too).
CANCELLABLE_STATUSES = (*EXPECTED_STATUSES, BookingStatus.WAITLISTED)


# --- leads (services/leads.py) -----------------------------------------------------------


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"


# Still being worked by a rep.
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUOTED)


class LeadSource(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    ADMIN = "admin"
    API = "api"
    BOOKING_FAILED = "booking_failed"
    WAITLIST = "waitlist"


# --- waitlist entries (services/waitlist_states.py) -----------------------------------------


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# In line: waiting, or holding an offer.
ACTIVE_WAITLIST_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


# --- payments (services/payment_states.py) ----------------------------------------------


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"  # all of it; a partial refund stays PAID (refunded_minor says)


# Money arrived (some may have gone back since).
RECEIVED_PAYMENT_STATUSES = (PaymentStatus.PAID, PaymentStatus.REFUNDED)


# --- departures (services/departure_states.py) ------------------------------------------


class DepartureStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    STARTED = "started"
    COMPLETED = "completed"


# Not run yet: a guide may check in, ops may cancel.
NOT_STARTED_DEPARTURE_STATUSES = (DepartureStatus.OPEN, DepartureStatus.CLOSED)


# --- guide assignments (services/assignment_states.py) ------------------------------------


class AssignmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # ops released the guide


# The guide has the departure, or has it on offer.
LIVE_ASSIGNMENT_STATUSES = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)


# --- incidents (services/incident_states.py) --------------------------------------------


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


# --- tasks: what a person must do for a customer (services/task_states.py) ---------------


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class TaskPriority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # a complaint, a guide who did not come, someone hurt: ops too


# --- messages: the communications log (services/message_states.py) ------------------------


class MediaStatus(StrEnum):
    """A file a customer sent (services/media.py, services/media_states.py)."""

    PENDING = "pending"  # to be fetched from Twilio (again, after a failed try)
    STORED = "stored"  # kept with its message
    REFUSED = "refused"  # a type not kept, never fetched
    FAILED = "failed"  # could not be fetched (too large, gone, tried enough): not again


class MessageStatus(StrEnum):
    RECEIVED = "received"  # inbound
    REPLY = "reply"  # the bot's answer, sent back in the webhook's TwiML
    # Outbound, ours: not yet handed to Twilio, or held back for a reason.
    QUEUED = "queued"
    RETRYING = "retrying"
    NEEDS_TEMPLATE = "needs_template"  # WhatsApp window closed and no template set
    SUPPRESSED = "suppressed"  # the customer opted out
    # Outbound, as Twilio reports it.
    ACCEPTED = "accepted"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


# Ours to send (the job, or the sweep when the job was lost).
DUE_MESSAGE_STATUSES = (MessageStatus.QUEUED, MessageStatus.RETRYING)
# Not yet handed over to Twilio, or handed over and not yet confirmed sent.
UNSENT_MESSAGE_STATUSES = (*DUE_MESSAGE_STATUSES, MessageStatus.SENDING)
# On its way or arrived: the person is (about to be) reached.
REACHING_MESSAGE_STATUSES = (
    *UNSENT_MESSAGE_STATUSES,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
)
# Twilio gave up on it.
UNDELIVERED_MESSAGE_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
# Outbound rows nothing more will happen to unless Twilio reports.
SETTLED_MESSAGE_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    *UNDELIVERED_MESSAGE_STATUSES,
    MessageStatus.SUPPRESSED,
    MessageStatus.NEEDS_TEMPLATE,
)


# --- conversations (services/conversation_states.py) ------------------------------------


class ConversationStatus(StrEnum):
    OPEN = "open"  # the bot or a rep is on it
    PENDING = "pending"  # the customer is waiting for a person
    RESOLVED = "resolved"  # done; the bot answers again


# What the inbox shows by default.
ACTIVE_CONVERSATION_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)
