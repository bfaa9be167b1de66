"""The owner's report: any period, every figure with its definition, each table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.actions import query_date
from admin.auth import current_org, requires
from extensions import db
from models import utcnow
from services import message_costs, owner_report
from services.errors import ServiceError


def presets(today: date) -> list[tuple[str, date, date]]:
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    return [
        ("This month", month, today),
        ("Last month", last_month_end.replace(day=1), last_month_end),
        ("Last 7 days", today - timedelta(days=6), today),
        ("Last 30 days", today - timedelta(days=29), today),
        ("This year", today.replace(month=1, day=1), today),
    ]


def _period() -> owner_report.Period:
    today = current_org().local(utcnow()).date()
    first = query_date("from", today.replace(day=1))
    last = query_date("to", today if first <= today else first)
    try:
        return owner_report.period(first, last)
    except ServiceError as exc:
        abort(400, exc.message)


def _cell(value: object) -> object:
    """A text starting with = + - @ is a formula to a spreadsheet (names come from chat):
    quoted, unless it is a number (a negative net, a phone number)."""
    formula = isinstance(value, str) and value[:1] in ("=", "+", "-", "@")
    if formula and not str(value).lstrip("+-").replace(".", "", 1).isdigit():
        return "'" + str(value)
    return value


@admin_bp.get("/reports")
@requires("reports")
def reports_page() -> ResponseReturnValue:
    org = current_org()
    when = _period()
    report = owner_report.owner_report(
        db.session, org, when, messaging=when.days <= owner_report.MESSAGING_PAGE_DAYS
    )
    today = org.local(utcnow()).date()
    return render_template(
        "admin/reports.html",
        r=report,
        presets=presets(today),
        change=owner_report.change,
        page_rows=owner_report.PAGE_ROWS,
        categories=message_costs.CATEGORIES,
        messaging_days=owner_report.MESSAGING_PAGE_DAYS,
        args={"from": when.first.isoformat(), "to": when.last.isoformat()},
    )


@admin_bp.get("/reports/<table>.csv")
@requires("reports")
def reports_csv(table: str) -> ResponseReturnValue:
    if table not in owner_report.TABLES:
        abort(404)
    org = current_org()
    when = _period()
    report = owner_report.owner_report(
        db.session, org, when, messaging=table in ("messages", "summary"), only=table
    )
    out = io.StringIO()
    writer = csv.writer(out)
    for row in owner_report.rows(report, table, org):
        writer.writerow([_cell(c) for c in row])
    name = f"{org.slug}-{table}-{when.first.isoformat()}-{when.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
