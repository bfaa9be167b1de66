"""Tenants and the people and credentials that belong to them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.settings import OrganizationSettings


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    owner_phone: Mapped[str | None] = mapped_column(String(20))
    ops_phones: Mapped[list[str]] = mapped_column(default=list)
    settings_json: Mapped[dict[str, Any]] = mapped_column("settings", default=dict)
    # Questions about the organization as a whole (vouchers, payment methods), answered in
    # chat: [{"q": [...] or {lang: [...]}, "a": text or {lang: text}, "follow_up": ...}].
    faq: Mapped[list[dict[str, Any]]] = mapped_column(default=list)

    numbers: Mapped[list[OrganizationNumber]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )

    @property
    def settings(self) -> OrganizationSettings:
        # Read a dozen times a message (every price checks the deposit and early bird):
        # validated again only when the stored settings differ from those last validated.
        raw = self.settings_json or {}
        cached = self.__dict__.get("_settings_cache")
        if cached is not None and cached[0] == raw:
            return cast(OrganizationSettings, cached[1])
        settings = OrganizationSettings.model_validate(raw)
        self.__dict__["_settings_cache"] = (copy.deepcopy(raw), settings)
        return settings

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A stored UTC time as the organization's wall-clock time."""
        return moment.astimezone(self.tz)


class OrganizationNumber(Base):
    """A Twilio number customers write to; inbound messages are routed by it."""

    __tablename__ = "organization_numbers"
    __table_args__ = (UniqueConstraint("channel", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(20))

    organization: Mapped[Organization] = relationship(back_populates="numbers")


class StaffUser(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Every admin session carries the generation it was made in; raising it (logout,
    # deactivation) ends all of this person's sessions at once, copied cookies included.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class ApiToken(OrgScopedMixin, TimestampMixin, Base):
    """Only the SHA-256 of the token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked
