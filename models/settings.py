"""Per-organization booking settings, stored as JSON on the organization row."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class EarlyBird(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_before: int = Field(60, ge=0, le=730)
    percent: Decimal = Field(Decimal(5), ge=0, le=100)


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
