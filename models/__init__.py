"""SQLAlchemy 2.0 typed models. Importing this package registers every table on Base.metadata."""

from models.base import Base, utcnow
from models.booking import Booking, Quote, WaitlistEntry
from models.catalog import Departure, Guide, PriceTier, Tour, guide_tours
from models.crm import Customer, Lead
from models.enums import (
    BOOKED_STATUSES,
    HOLDING_STATUSES,
    BookingStatus,
    Channel,
    DepartureStatus,
    LeadSource,
    LeadStatus,
    ObjectType,
    Role,
    WaitlistStatus,
)
from models.messaging import Conversation, ConversationNote, Message
from models.operations import (
    DepartureCancellation,
    GuideAssignment,
    Incident,
    IncidentUpdate,
    PayrollEntry,
)
from models.organization import ApiToken, Organization, OrganizationNumber, StaffUser
from models.payments import Payment, ProviderEvent, Refund, ReminderSent
from models.settings import EarlyBird, OrganizationSettings
from models.timeline import TimelineEvent

__all__ = [
    "BOOKED_STATUSES",
    "HOLDING_STATUSES",
    "ApiToken",
    "Base",
    "Booking",
    "BookingStatus",
    "Channel",
    "Conversation",
    "ConversationNote",
    "Customer",
    "Departure",
    "DepartureCancellation",
    "DepartureStatus",
    "EarlyBird",
    "Guide",
    "GuideAssignment",
    "Incident",
    "IncidentUpdate",
    "Lead",
    "LeadSource",
    "LeadStatus",
    "Message",
    "ObjectType",
    "Organization",
    "OrganizationNumber",
    "OrganizationSettings",
    "Payment",
    "PayrollEntry",
    "PriceTier",
    "ProviderEvent",
    "Quote",
    "Refund",
    "ReminderSent",
    "Role",
    "StaffUser",
    "TimelineEvent",
    "Tour",
    "WaitlistEntry",
    "WaitlistStatus",
    "guide_tours",
    "utcnow",
]
