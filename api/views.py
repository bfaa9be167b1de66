"""GET-only endpoints for integrations and monitoring. Every query is filtered by the
organization of the bearer token, so one operator never sees another's data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from api import serializers
from extensions import db
from models import (
    ACTIVE_WAITLIST_STATUSES,
    Booking,
    Conversation,
    Customer,
    Departure,
    DepartureCancellation,
    Guide,
    Incident,
    Lead,
    Message,
    Organization,
    PayrollEntry,
    Tour,
    WaitlistEntry,
    utcnow,
)
from services import cancellations, waitlist
from services.api_tokens import authenticate
from services.availability import local_day_bounds
from services.errors import NotFound, ServiceError
from services.inventory import occupancy_many
from services.phones import InvalidPhone, normalize_phone
from services.timeline import events_for

api_bp = Blueprint("api", __name__)

MAX_LIMIT = 500


class BadParameter(ServiceError):
    pass


@api_bp.before_request
def require_token() -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("send Authorization: Bearer <token>")
    try:
        g.org = authenticate(db.session, token.strip(), utcnow())
    except ServiceError as exc:
        return _unauthorized(exc.message)
    if db.session.dirty:
        db.session.commit()  # last_used_at
    return None


def _unauthorized(message: str) -> Response:
    response = jsonify(error="Unauthorized", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api_bp.errorhandler(ServiceError)
def service_error(exc: ServiceError) -> ResponseReturnValue:
    return jsonify(error=type(exc).__name__, message=exc.message), exc.http_status


def _org() -> Organization:
    org: Organization = g.org
    return org


# Dates the API takes: wide enough for any real query, narrow enough that a day's bounds
# in any time zone stay inside what Python and PostgreSQL can hold (0001-01-01 and
# 9999-12-31 were 500s).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(9000, 12, 31)


def _date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a date like 2027-03-15") from None
    if not FIRST_DATE <= value <= LAST_DATE:
        raise BadParameter(f"{name} must be between {FIRST_DATE} and {LAST_DATE}")
    return value


def _int_param(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only: str.isdigit() also says yes to "²" (which int() refuses: a 500)
    # and to other scripts' digits, which no client means here.
    if not (raw.isascii() and raw.isdigit()):
        raise BadParameter(f"{name} must be a whole number written with 0-9")
    return min(int(raw), maximum) if len(raw) <= 12 else maximum


def _phone_param() -> str | None:
    raw = request.args.get("phone")
    if not raw:
        return None
    # An unencoded "+" in a query string arrives as a space.
    raw = raw.strip()
    if raw.isdigit():
        raw = "+" + raw
    try:
        return normalize_phone(raw)
    except InvalidPhone as exc:
        raise BadParameter(f"phone: {exc.message}") from None


def _page(stmt: Select[Any]) -> tuple[list[Any], dict[str, int]]:
    limit = _int_param("limit", 100, MAX_LIMIT)
    offset = _int_param("offset", 0, 10**9)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.scalars(stmt.limit(limit).offset(offset)))
    return rows, {"limit": limit, "offset": offset, "total": int(total or 0)}


def _departure_or_404(code: str) -> Departure:
    dep = db.session.scalar(
        select(Departure).where(
            Departure.organization_id == _org().id, Departure.code == code.upper()
        )
    )
    if dep is None:
        raise _not_found(f"no departure {code}")
    return dep


def _not_found(message: str) -> ServiceError:
    return NotFound(message)


def _waitlist_lengths(dep_ids: list[int]) -> dict[int, int]:
    if not dep_ids:
        return {}
    rows = db.session.execute(
        select(WaitlistEntry.departure_id, func.count(WaitlistEntry.id))
        .where(
            WaitlistEntry.departure_id.in_(dep_ids),
            WaitlistEntry.status.in_(ACTIVE_WAITLIST_STATUSES),
        )
        .group_by(WaitlistEntry.departure_id)
    )
    return {dep_id: int(n) for dep_id, n in rows}


def _departures_json(deps: list[Departure]) -> list[dict[str, Any]]:
    occ = occupancy_many(db.session, deps, utcnow())
    lengths = _waitlist_lengths([d.id for d in deps])
    return [serializers.departure(_org(), d, occ[d.id], lengths.get(d.id, 0)) for d in deps]


@api_bp.get("/departures")
def list_departures() -> ResponseReturnValue:
    org = _org()
    stmt = (
        select(Departure)
        .where(Departure.organization_id == org.id)
        .order_by(Departure.starts_at, Departure.id)
        .options(selectinload(Departure.tour), selectinload(Departure.guide))
    )
    if slug := request.args.get("tour"):
        stmt = stmt.join(Tour, Tour.id == Departure.tour_id).where(Tour.slug == slug)
    if status := request.args.get("status"):
        stmt = stmt.where(Departure.status == status.lower())
    first, last = _date_param("from"), _date_param("to")
    if first or last:
        if first and last and last < first:
            raise BadParameter("to is before from")
        start, end = local_day_bounds(org, first or date(1970, 1, 1), last or date(9998, 12, 31))
        stmt = stmt.where(Departure.starts_at >= start, Departure.starts_at < end)
    rows, page = _page(stmt)
    return jsonify(items=_departures_json(rows), **page)


@api_bp.get("/departures/<code>")
def get_departure(code: str) -> ResponseReturnValue:
    return jsonify(_departures_json([_departure_or_404(code)])[0])


@api_bp.get("/departures/<code>/waitlist")
def get_departure_waitlist(code: str) -> ResponseReturnValue:
    dep = _departure_or_404(code)
    entries = waitlist.queue(db.session, dep.id)
    items = [serializers.waitlist_entry(_org(), e, i + 1) for i, e in enumerate(entries)]
    return jsonify(departure=dep.code, items=items, total=len(items))


@api_bp.get("/bookings")
def list_bookings() -> ResponseReturnValue:
    org = _org()
    stmt = (
        select(Booking)
        .where(Booking.organization_id == org.id)
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .options(
            selectinload(Booking.departure).selectinload(Departure.tour),
            selectinload(Booking.customer),
            selectinload(Booking.lead),
        )
    )
    if phone := _phone_param():
        stmt = stmt.join(Customer, Customer.id == Booking.customer_id).where(
            Customer.phone == phone
        )
    if code := request.args.get("departure"):
        stmt = stmt.join(Departure, Departure.id == Booking.departure_id).where(
            Departure.code == code.upper()
        )
    if status := request.args.get("status"):
        stmt = stmt.where(Booking.status == status.lower())
    rows, page = _page(stmt)
    return jsonify(items=[serializers.booking(org, b) for b in rows], **page)


@api_bp.get("/bookings/<ref>")
def get_booking(ref: str) -> ResponseReturnValue:
    b = db.session.scalar(
        select(Booking).where(
            Booking.organization_id == _org().id, Booking.reference == ref.upper()
        )
    )
    if b is None:
        raise _not_found(f"no booking {ref}")
    return jsonify(serializers.booking(_org(), b))


@api_bp.get("/leads")
def list_leads() -> ResponseReturnValue:
    org = _org()
    stmt = (
        select(Lead)
        .where(Lead.organization_id == org.id)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .options(
            selectinload(Lead.customer),
            selectinload(Lead.assigned_to),
            selectinload(Lead.tour),
            selectinload(Lead.departure),
        )
    )
    if phone := _phone_param():
        stmt = stmt.join(Customer, Customer.id == Lead.customer_id).where(Customer.phone == phone)
    if status := request.args.get("status"):
        stmt = stmt.where(Lead.status == status.lower())
    if source := request.args.get("source"):
        stmt = stmt.where(Lead.source == source.lower())
    rows, page = _page(stmt)
    return jsonify(items=[serializers.lead(org, ld) for ld in rows], **page)


@api_bp.get("/leads/<ref>")
def get_lead(ref: str) -> ResponseReturnValue:
    ld = db.session.scalar(
        select(Lead).where(Lead.organization_id == _org().id, Lead.reference == ref.upper())
    )
    if ld is None:
        raise _not_found(f"no lead {ref}")
    return jsonify(serializers.lead(_org(), ld))


@api_bp.get("/timeline")
def get_timeline() -> ResponseReturnValue:
    ref = (request.args.get("object") or "").strip().upper()
    if not ref:
        raise BadParameter("object is required: a booking or lead reference or a departure code")
    events = events_for(db.session, _org().id, ref)
    return jsonify(object=ref, items=[serializers.timeline_event(_org(), e) for e in events])


@api_bp.get("/conversations")
def list_conversations() -> ResponseReturnValue:
    """Conversations (with their latest 50 messages), optionally for one phone."""
    org = _org()
    stmt = (
        select(Conversation)
        .where(Conversation.organization_id == org.id)
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        .options(selectinload(Conversation.customer), selectinload(Conversation.lead))
    )
    if phone := _phone_param():
        stmt = stmt.join(Customer, Customer.id == Conversation.customer_id).where(
            Customer.phone == phone
        )
    rows, page = _page(stmt)
    items = []
    for conv in rows:
        recent = list(
            db.session.scalars(
                select(Message)
                .where(Message.conversation_id == conv.id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(50)
            )
        )
        items.append(serializers.conversation(org, conv, list(reversed(recent))))
    return jsonify(items=items, **page)


@api_bp.get("/messages")
def list_messages() -> ResponseReturnValue:
    """The communications log, newest first; `to` is a phone, `since` an ISO 8601 time."""
    org = _org()
    stmt = (
        select(Message)
        .where(Message.organization_id == org.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    if raw_to := request.args.get("to"):
        raw_to = raw_to.strip()
        try:
            stmt = stmt.where(
                Message.to_phone == normalize_phone("+" + raw_to if raw_to.isdigit() else raw_to)
            )
        except InvalidPhone as exc:
            raise BadParameter(f"to: {exc.message}") from None
    if raw_since := request.args.get("since"):
        try:
            since = datetime.fromisoformat(raw_since.replace(" ", "+"))
            since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        except (ValueError, OverflowError):  # not a time, or beyond year 1..9999 in UTC
            raise BadParameter("since must be an ISO 8601 time like 2027-01-06T10:00:00Z") from None
        stmt = stmt.where(Message.created_at >= since)
    if status := request.args.get("status"):
        stmt = stmt.where(Message.status == status.lower())
    rows, page = _page(stmt)
    return jsonify(items=[serializers.message(org, m) for m in rows], **page)


@api_bp.get("/incidents")
def list_incidents() -> ResponseReturnValue:
    org = _org()
    stmt = (
        select(Incident)
        .where(Incident.organization_id == org.id)
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .options(
            selectinload(Incident.departure),
            selectinload(Incident.guide),
            selectinload(Incident.updates),
        )
    )
    if code := request.args.get("departure"):
        stmt = stmt.join(Departure, Departure.id == Incident.departure_id).where(
            Departure.code == code.upper()
        )
    if status := request.args.get("status"):
        stmt = stmt.where(Incident.status == status.lower())
    rows, page = _page(stmt)
    return jsonify(items=[serializers.incident(org, i) for i in rows], **page)


@api_bp.get("/payroll")
def list_payroll() -> ResponseReturnValue:
    """Payroll entries; `guide` is the guide's phone, `from`/`to` local dates."""
    org = _org()
    stmt = (
        select(PayrollEntry)
        .where(PayrollEntry.organization_id == org.id)
        .order_by(PayrollEntry.created_at.desc(), PayrollEntry.id.desc())
        .options(selectinload(PayrollEntry.guide), selectinload(PayrollEntry.departure))
    )
    if request.args.get("guide"):
        raw = request.args["guide"].strip()
        try:
            phone = normalize_phone("+" + raw if raw.isdigit() else raw)
        except InvalidPhone as exc:
            raise BadParameter(f"guide: {exc.message}") from None
        stmt = stmt.join(Guide, Guide.id == PayrollEntry.guide_id).where(Guide.phone == phone)
    first, last = _date_param("from"), _date_param("to")
    if first or last:
        start, end = local_day_bounds(org, first or date(1970, 1, 1), last or date(9998, 12, 31))
        stmt = stmt.where(PayrollEntry.created_at >= start, PayrollEntry.created_at < end)
    rows, page = _page(stmt)
    return jsonify(items=[serializers.payroll_entry(org, e) for e in rows], **page)


@api_bp.get("/departures/<code>/cancellation")
def get_departure_cancellation(code: str) -> ResponseReturnValue:
    """Progress of a departure's cancellation: notifications by status, and the call list."""
    dep = _departure_or_404(code)
    record = db.session.scalar(
        select(DepartureCancellation).where(DepartureCancellation.departure_id == dep.id)
    )
    if record is None:
        raise NotFound(f"{dep.code} has not been cancelled")
    progress = cancellations.cancellation_progress(db.session, record)
    return jsonify(
        departure=dep.code,
        reason=record.reason,
        cancelled_at=record.cancelled_at.isoformat().replace("+00:00", "Z"),
        bookings_cancelled=record.bookings_cancelled,
        people=record.people,
        refunded_minor=record.refunded_minor,
        messages=progress["messages"],
        call_list=progress["call_list"],
    )
