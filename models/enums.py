"""Status vocabularies. Stored as plain strings so adding a value needs no enum migration."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    OPS = "ops"
    SALES = "sales"


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class DepartureStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    STARTED = "started"
    COMPLETED = "completed"


class LeadStatus(StrEnum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    QUOTED = "QUOTED"
    WON = "WON"
    LOST = "LOST"


class LeadSource(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    ADMIN = "admin"
    API = "api"
    BOOKING_FAILED = "booking_failed"
    WAITLIST = "waitlist"


class BookingStatus(StrEnum):
    HELD = "HELD"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    CONFIRMED = "CONFIRMED"
    WAITLISTED = "WAITLISTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# Statuses whose seats stay taken until a hold deadline passes.
HOLDING_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.PENDING_APPROVAL,
    BookingStatus.PAYMENT_PENDING,
)
# Statuses whose seats are taken for good.
BOOKED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ObjectType(StrEnum):
    LEAD = "lead"
    BOOKING = "booking"
    DEPARTURE = "departure"
    WAITLIST = "waitlist"
    ORGANIZATION = "organization"
