"""Per-organization booking settings, stored as JSON on the organization row."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EarlyBird(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_before: int = Field(60, ge=0, le=730)
    percent: Decimal = Field(Decimal(5), ge=0, le=100)


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template for messages outside the 24-hour window. Variables map
    the template's numbered placeholders to fields: customer_name, summary, reference."""

    model_config = ConfigDict(extra="forbid")

    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$")
    variables: dict[str, str] = Field(
        default_factory=lambda: {"1": "customer_name", "2": "summary"}
    )


class RefundRule(BaseModel):
    """Cancelled at least days_before the start: refund_percent of what was paid."""

    model_config = ConfigDict(extra="forbid")

    days_before: int = Field(ge=0, le=3650)
    refund_percent: Decimal = Field(ge=0, le=100)


def default_policy() -> list[RefundRule]:
    # 100% up to 7 days before, 50% up to 3 days, nothing after.
    return [
        RefundRule(days_before=7, refund_percent=Decimal(100)),
        RefundRule(days_before=3, refund_percent=Decimal(50)),
    ]


class CannedReply(BaseModel):
    """A reply staff insert with one tap in the inbox, then edit before sending."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=60)
    body: str = Field(min_length=1, max_length=1600)


PriceTable = dict[str, Decimal]


def _prices(**by_country: str) -> PriceTable:
    return {country: Decimal(price) for country, price in by_country.items()}


class MessagePrices(BaseModel):
    """What one outbound message costs, in the organization's currency, by what it is
    billed as and the recipient's country (ISO 3166 code, e.g. "US"; "default" for every
    other). The defaults are examples in US dollars, Meta's late-2025 WhatsApp rates plus
    Twilio's $0.005 per WhatsApp message, and Twilio's SMS rates per segment: set your own
    from your Twilio invoice. Service messages (answers inside the 24-hour window) are
    free from Meta; Twilio's fee stays."""

    model_config = ConfigDict(extra="forbid")

    service: PriceTable = Field(default_factory=lambda: _prices(default="0.005"))
    utility: PriceTable = Field(
        default_factory=lambda: _prices(
            default="0.013", US="0.009", GB="0.027", IN="0.0064", BR="0.013", DE="0.0818"
        )
    )
    marketing: PriceTable = Field(
        default_factory=lambda: _prices(
            default="0.060", US="0.030", GB="0.0579", IN="0.0157", BR="0.0675", DE="0.1415"
        )
    )
    sms: PriceTable = Field(
        default_factory=lambda: _prices(default="0.0800", US="0.0083", CA="0.0083", GB="0.0463")
    )

    @field_validator("service", "utility", "marketing", "sms")
    @classmethod
    def _countries(cls, value: PriceTable) -> PriceTable:
        out: PriceTable = {}
        for country, price in value.items():
            code = str(country).strip()
            code = code if code == "default" else code.upper()
            if code != "default" and not (len(code) == 2 and code.isalpha()):
                raise ValueError(f"{country!r}: a two-letter country code or 'default'")
            if not Decimal(0) <= price <= Decimal(10):
                raise ValueError(f"{country}: a price from 0 to 10 per message")
            out[code] = price
        if "default" not in out:
            raise ValueError("a 'default' price is needed for the other countries")
        return out

    def price(self, category: str, country: str | None) -> Decimal:
        table: PriceTable = getattr(self, category, None) or self.service
        return table.get(country or "default", table["default"])


class OrganizationSettings(BaseModel):
    """Defaults are the ones documented for the catalog file."""

    model_config = ConfigDict(extra="forbid")

    hold_hours: int = Field(24, ge=1, le=24 * 14)
    deposit_percent: Decimal = Field(Decimal(30), ge=0, le=100)
    balance_due_days: int = Field(14, ge=0, le=365)
    waitlist_offer_hours: int = Field(2, ge=1, le=24 * 7)
    approval_required: bool = False
    approval_timeout_hours: int = Field(4, ge=1, le=24 * 7)
    early_bird: EarlyBird | None = Field(default_factory=EarlyBird)
    quote_valid_days: int = Field(7, ge=1, le=90)
    whatsapp_template: WhatsAppTemplate | None = None
    cancellation_policy: list[RefundRule] = Field(default_factory=default_policy)
    # Reminders: days before the start; days ahead of the balance due date; hours before a
    # hold lapses.
    reminder_days_before: list[int] = Field(default_factory=lambda: [7, 1])
    balance_reminder_days: int = Field(3, ge=0, le=60)
    hold_nudge_hours: int = Field(2, ge=1, le=48)
    # Seat spinning (one number holding whole departures without paying): what one customer
    # may hold unpaid at once, over all departures (a first hold of any size is allowed:
    # capacity governs it); the share of a departure's capacity that
    # customers' unpaid holds may take together (100: no share kept back); and shorter holds
    # close to the start, when a seat held and not paid is a seat nobody else can sell.
    unpaid_holds_per_customer: int = Field(3, ge=1, le=50)
    unpaid_seats_per_customer: int = Field(10, ge=1, le=999)
    unpaid_share_per_departure: int = Field(100, ge=10, le=100)
    short_hold_within_hours: int = Field(48, ge=0, le=24 * 14)
    short_hold_hours: int = Field(4, ge=1, le=24 * 14)
    support_phone: str | None = None
    # A complaint, a guide who did not come, someone hurt: the customer is promised a
    # person's reply within this many minutes (bot/complaints.py).
    urgent_reply_minutes: int = Field(15, ge=1, le=24 * 60)
    # The languages customers are answered in; the first is the fallback for any other.
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1, max_length=5)
    # A guide offer nobody accepts within this many minutes is escalated to ops (the sweep).
    guide_offer_escalation_minutes: int = Field(60, ge=5, le=24 * 60)
    canned_replies: list[CannedReply] = Field(default_factory=list, max_length=50)
    # What messaging costs (services/message_costs.py): per message, by category and country.
    message_prices: MessagePrices = Field(default_factory=MessagePrices)

    @field_validator("languages")
    @classmethod
    def _languages_spoken(cls, value: list[str]) -> list[str]:
        from services.i18n import SUPPORTED_LANGUAGES

        codes = [str(code).strip().lower() for code in value]
        unknown = [code for code in codes if code not in SUPPORTED_LANGUAGES]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))}: not a language this product speaks "
                f"({', '.join(SUPPORTED_LANGUAGES)})"
            )
        if len(set(codes)) != len(codes):
            raise ValueError("each language once")
        return codes
