"""Template filters: times in the organization's zone, money in its currency."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from admin.auth import current_org
from services import phrases
from services.i18n import Voice
from services.money import format_money


def local_time(moment: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    if moment is None:
        return "–"
    return current_org().local(moment).strftime(fmt)


def money(amount_minor: int | None, currency: str | None = None) -> str:
    return format_money(amount_minor or 0, currency or current_org().currency)


def age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "–"
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def party(counts: dict[str, int] | None) -> str:
    """{"adult": 2, "child": 1} -> "2 adults + 1 child", as the bot says it (in English)."""
    return phrases.party(Voice(), {k: v for k, v in (counts or {}).items() if v}) or "—"


def register_filters(app: Flask) -> None:
    app.add_template_filter(party, "party")
    app.add_template_filter(local_time, "local")
    app.add_template_filter(money, "money")
    app.add_template_global(age, "age")
    app.add_template_global(lambda: current_org().name, "current_org_name")
