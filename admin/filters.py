"""Template filters and globals: times in the organization's zone, money in its currency,
the stylesheet's address, role checks, and the cells of card tables labelled."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from flask import Flask, url_for
from markupsafe import Markup, escape

from admin.auth import current_org, staff
from extensions import db
from models import TimelineEvent
from services import phrases, timeline
from services import staff as staff_service
from services.i18n import Voice
from services.money import format_money, plain_amount

STATIC = Path(__file__).resolve().parent.parent / "static"


def local_time(moment: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    if moment is None:
        return "–"
    return current_org().local(moment).strftime(fmt)


def money(amount_minor: int | None, currency: str | None = None) -> str:
    return format_money(amount_minor or 0, currency or current_org().currency)


def message_cost(micros: int, currency: str | None = None) -> str:
    """What messages cost, to four decimals: "$0.0083"."""
    from services.message_costs import format_cost

    return format_cost(micros, currency or current_org().currency)


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


@cache
def _digest(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]


def asset_url(path: str) -> str:
    """A static file's address with its content's hash: a new version is fetched at once,
    an unchanged one comes from the browser's cache."""
    return url_for("static", filename=path, v=_digest(path))


def can(action: str) -> bool:
    """May the logged-in person do this (services.staff.ROLE_CAN)? For showing buttons;
    the views check again."""
    return staff_service.can(staff(), action)


_ROW = re.compile(r"<tr\b.*?</tr>", re.S)
_CELL = re.compile(r"<td\b([^>]*)>")


def label_cells(rows_html: str, head: list[str | tuple[str, str]]) -> Markup:
    """Each <td> gets its column's heading as data-label (unless it has one), for tables
    that become cards on a phone: the stylesheet shows the label beside the value. head
    is the table macro's: "Label" or ("Label", "class") per column."""
    labels = [h if isinstance(h, str) else h[0] for h in head]

    def label_row(row: re.Match[str]) -> str:
        column = iter(labels)

        def label(cell: re.Match[str]) -> str:
            attrs = cell.group(1)
            name = next(column, "")
            if "data-label=" in attrs or "colspan" in attrs:
                return cell.group(0)
            return f'<td data-label="{escape(name)}"{attrs}>'

        return _CELL.sub(label, row.group(0))

    return Markup(_ROW.sub(label_row, str(rows_html)))


def tel(phone: str | None) -> Markup:
    """A phone number staff can tap to call."""
    if not phone:
        return Markup("—")
    return Markup(f'<a href="tel:{escape(phone)}" class="nowrap">{escape(phone)}</a>')


def readable_timeline(events: list[TimelineEvent]) -> list[timeline.TimelineLine]:
    org = current_org()
    return timeline.readable(db.session, org.id, list(events), org.currency)


def language_name(code: str | None) -> str:
    """A customer's language for staff, in English ("Portuguese"); "not known yet"."""
    if not code:
        return "not known yet"
    return str(Locale("en").languages.get(code, code))


def register_filters(app: Flask) -> None:
    from admin.nav import nav_items

    app.add_template_filter(party, "party")
    app.add_template_filter(local_time, "local")
    app.add_template_filter(money, "money")
    app.add_template_filter(message_cost, "message_cost")
    app.add_template_filter(label_cells, "label_cells")
    app.add_template_filter(tel, "tel")
    app.add_template_filter(plain_amount, "plain_amount")
    app.add_template_filter(language_name, "language_name")
    app.add_template_global(age, "age")
    app.add_template_global(asset_url, "asset_url")
    app.add_template_global(can, "can")
    app.add_template_global(nav_items, "nav_items")
    app.add_template_global(readable_timeline, "readable_timeline")
    app.add_template_global(lambda: current_org().name, "current_org_name")
