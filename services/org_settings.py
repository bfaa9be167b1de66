"""The organization's settings changed from the admin (the catalog file sets them too: a
later catalog import replaces them). All or nothing; every refused value is named."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from models import ObjectType, Organization, OrganizationSettings, TimelineEvent
from services.errors import ServiceError
from services.phones import normalize_phone


class SettingsError(ServiceError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(
            "Some settings were refused: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        )
        self.errors = errors


def _phone(raw: str | None, field: str, errors: dict[str, str]) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return normalize_phone(raw)
    except ServiceError as exc:
        errors[field] = exc.message
        return None


def update_settings(
    session: Session,
    org: Organization,
    changes: dict[str, Any],
    now: datetime,
    *,
    owner_phone: str | None,
    ops_phones: list[str],
    actor: str,
) -> list[str]:
    """Checks the changed settings with the rest, and the staff phones; saves them all or
    raises SettingsError with a message per field. Returns what changed."""
    errors: dict[str, str] = {}
    if changes.get("support_phone"):
        changes = {
            **changes,
            "support_phone": _phone(changes["support_phone"], "support_phone", errors),
        }
    owner = _phone(owner_phone, "owner_phone", errors)
    ops = [p for p in (_phone(x, "ops_phones", errors) for x in ops_phones) if p]
    before = org.settings.model_dump(mode="json")
    try:
        checked = OrganizationSettings.model_validate({**before, **changes})
    except ValidationError as exc:
        for e in exc.errors():
            errors.setdefault(str(e["loc"][0]) if e["loc"] else "settings", e["msg"])
        checked = None
    if errors or checked is None:
        raise SettingsError(errors)
    after = checked.model_dump(mode="json")
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    if owner != org.owner_phone:
        changed.append("owner_phone")
    if ops != list(org.ops_phones or []):
        changed.append("ops_phones")
    org.settings_json = after
    org.owner_phone = owner
    org.ops_phones = ops
    if changed:
        session.add(
            TimelineEvent(
                organization_id=org.id,
                object_type=ObjectType.ORGANIZATION,
                object_id=org.id,
                object_ref=org.slug[:24],
                event_type="organization.settings_changed",
                actor=actor,
                source="admin",
                content={"changed": changed},
                created_at=now,
            )
        )
    return changed
