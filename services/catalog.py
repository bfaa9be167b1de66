"""Catalog import from YAML: organization, staff, guides, tours, prices and departures.

All of the file is checked (shape, cross-references, and against what is already
stored) before anything is written, and the caller's single transaction does the writes,
so a bad file imports nothing. Every error names its field path, like
tours[2].departures[0].start. Re-importing updates rows matched by their natural keys
(slug, email, phone, departure code, or tour + start time for scheduled departures);
rows missing from the file are left alone, since they may carry bookings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models import (
    Departure,
    DepartureStatus,
    Guide,
    Organization,
    OrganizationNumber,
    PriceTier,
    StaffUser,
    Tour,
)
from services import timeline, waitlist
from services.catalog_schema import WEEKDAYS, CatalogIn, ScheduleIn, TourIn
from services.errors import ServiceError
from services.inventory import occupancy
from services.locking import lock_departures
from services.money import MoneyError, to_minor

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PER_SCHEDULE = 1000


class CatalogError(ServiceError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        lines = [f"{path}: {message}" for path, message in errors[:50]]
        if len(errors) > 50:
            lines.append(f"... and {len(errors) - 50} more")
        super().__init__("Catalog not imported, nothing was changed:\n" + "\n".join(lines))


@dataclass
class ImportSummary:
    organization: Organization
    created: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)  # found and brought up to date
    waitlist_offers: int = 0

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.matched
        bucket[kind] = bucket.get(kind, 0) + 1

    def describe(self) -> str:
        def fmt(d: dict[str, int]) -> str:
            return ", ".join(f"{v} {k}" for k, v in sorted(d.items())) or "nothing"

        return (
            f"{self.organization.slug}: created {fmt(self.created)}; "
            f"matched and updated {fmt(self.matched)}"
        )


def path_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out


def load_yaml(text: str) -> dict[str, Any]:
    if len(text.encode()) > MAX_FILE_BYTES:
        raise CatalogError([("(file)", f"larger than {MAX_FILE_BYTES // 1024 // 1024} MB")])
    try:
        data = yaml.safe_load(text)
    except RecursionError:  # "[[[[..." thousands deep: PyYAML's parser recurses per level
        raise CatalogError([("(file)", "nested too deeply to be a catalog")]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}" if where else "(file)"
        raise CatalogError([(at, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise CatalogError(
            [("(file)", "expected a mapping with organization, staff, guides, tours")]
        )
    return data


def read_catalog_file(path: str | Path) -> dict[str, Any]:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise CatalogError([("(file)", "larger than 5 MB")])
        return load_yaml(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([("(file)", f"cannot read {file}: {exc}")]) from None


def parse_catalog(data: dict[str, Any]) -> CatalogIn:
    try:
        return CatalogIn.model_validate(data)
    except RecursionError:  # a structure that contains itself (a YAML alias to its parent)
        raise CatalogError([("(file)", "nested too deeply to be a catalog")]) from None
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            errors.append((path_of(err["loc"]) or "(file)", message))
        raise CatalogError(errors) from None


# --- planning: everything the import will write, checked before writing -------------


@dataclass
class PlannedDeparture:
    path: str
    tour_index: int
    code: str | None  # None: generated when written
    starts_at: datetime
    capacity: int
    guide_phone: str | None
    existing: Departure | None = None


@dataclass
class Plan:
    catalog: CatalogIn
    org: Organization | None
    prices: dict[int, dict[str, int]] = field(default_factory=dict)
    trip_fees: dict[int, int] = field(default_factory=dict)
    departures: list[PlannedDeparture] = field(default_factory=list)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time where the tour runs, as an aware time. Refuses times that do not
    exist there (the hour skipped when clocks go forward)."""
    if naive.tzinfo is not None:
        return naive
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        raise ValueError(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks change)")
    return aware


def expand_schedule(rule: ScheduleIn, tz: ZoneInfo) -> Iterator[datetime]:
    hours, minutes = (int(p) for p in rule.time.split(":"))
    wanted = {WEEKDAYS.index(d) for d in rule.days}
    day = rule.from_
    while day <= rule.until:
        if day.weekday() in wanted:
            yield localize(datetime.combine(day, time(hours, minutes)), tz)
        day += timedelta(days=1)


def _plan(session: Session, catalog: CatalogIn, now: datetime) -> Plan:
    errors: list[tuple[str, str]] = []
    org_in = catalog.organization
    org = session.scalar(select(Organization).where(Organization.slug == org_in.slug))
    plan = Plan(catalog, org)
    tz = ZoneInfo(org_in.timezone)
    org_id = org.id if org else None

    for i, number in enumerate(org_in.numbers):
        channel, phone = number.split(":", 1)
        owner = session.scalar(
            select(OrganizationNumber).where(
                OrganizationNumber.channel == channel, OrganizationNumber.phone == phone
            )
        )
        if owner is not None and owner.organization_id != org_id:
            errors.append((f"organization.numbers[{i}]", "belongs to another organization"))

    seen_emails: set[str] = set()
    for i, staff in enumerate(catalog.staff):
        email = staff.email.lower()
        if email in seen_emails:
            errors.append((f"staff[{i}].email", f"{email} is listed twice"))
        seen_emails.add(email)
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is not None and user.organization_id != org_id:
            errors.append((f"staff[{i}].email", "is a user of another organization"))

    slugs = [t.slug for t in catalog.tours]
    known_slugs = set(slugs)
    if org is not None:
        known_slugs |= set(session.scalars(select(Tour.slug).where(Tour.organization_id == org.id)))
    for i, slug in enumerate(slugs):
        if slugs.index(slug) != i:
            errors.append((f"tours[{i}].slug", f"{slug} is listed twice"))

    guide_phones = {g.phone for g in catalog.guides}
    if org is not None:
        guide_phones |= set(
            session.scalars(select(Guide.phone).where(Guide.organization_id == org.id))
        )
    for i, guide in enumerate(catalog.guides):
        if [g.phone for g in catalog.guides].index(guide.phone) != i:
            errors.append((f"guides[{i}].phone", f"{guide.phone} is listed twice"))
        for j, slug in enumerate(guide.tours):
            if slug not in known_slugs:
                errors.append((f"guides[{i}].tours[{j}]", f"no tour with slug {slug}"))
        try:
            plan.trip_fees[i] = to_minor(guide.trip_fee, org_in.currency)
        except MoneyError as exc:
            errors.append((f"guides[{i}].trip_fee", exc.message))

    for i, tour in enumerate(catalog.tours):
        plan.prices[i] = {}
        for tier, amount in tour.prices.items():
            try:
                plan.prices[i][tier] = to_minor(amount, org_in.currency)
            except MoneyError as exc:
                errors.append((f"tours[{i}].prices.{tier}", exc.message))
        errors += _plan_departures(session, plan, i, tour, tz, guide_phones, now)

    errors += _check_capacity_cuts(session, plan, now)

    codes: dict[str, str] = {}
    starts: dict[tuple[int, datetime], str] = {}
    for dep in plan.departures:
        if dep.code is not None:
            if dep.code in codes:
                errors.append((f"{dep.path}.code", f"{dep.code} is also used at {codes[dep.code]}"))
            codes[dep.code] = dep.path
        key = (dep.tour_index, dep.starts_at)
        if key in starts and dep.code is not None:
            errors.append((f"{dep.path}.start", f"same tour and time as {starts[key]}"))
        starts.setdefault(key, dep.path)

    if errors:
        raise CatalogError(errors)
    return plan


def _plan_departures(
    session: Session,
    plan: Plan,
    i: int,
    tour: TourIn,
    tz: ZoneInfo,
    guide_phones: set[str],
    now: datetime,
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    org = plan.org
    existing_tour = None
    if org is not None:
        existing_tour = session.scalar(
            select(Tour).where(Tour.organization_id == org.id, Tour.slug == tour.slug)
        )

    explicit_starts: set[datetime] = set()
    for j, dep in enumerate(tour.departures):
        path = f"tours[{i}].departures[{j}]"
        if dep.guide and dep.guide not in guide_phones:
            errors.append((f"{path}.guide", f"{dep.guide} is not one of the guides"))
        try:
            starts_at = localize(dep.start, tz)
        except ValueError as exc:
            errors.append((f"{path}.start", str(exc)))
            continue
        existing = None
        if org is not None:
            existing = session.scalar(
                select(Departure).where(
                    Departure.organization_id == org.id, Departure.code == dep.code
                )
            )
            if existing is not None and (
                existing_tour is None or existing.tour_id != existing_tour.id
            ):
                errors.append((f"{path}.code", f"{dep.code} is a departure of another tour"))
                continue
        explicit_starts.add(starts_at)
        plan.departures.append(
            PlannedDeparture(path, i, dep.code, starts_at, dep.capacity, dep.guide, existing)
        )

    for j, rule in enumerate(tour.schedule):
        path = f"tours[{i}].schedule[{j}]"
        if rule.guide and rule.guide not in guide_phones:
            errors.append((f"{path}.guide", f"{rule.guide} is not one of the guides"))
        if rule.until < rule.from_:
            errors.append((f"{path}.until", "is before from"))
            continue
        try:
            slots = list(expand_schedule(rule, tz))
        except ValueError as exc:
            errors.append((f"{path}.time", str(exc)))
            continue
        if len(slots) > MAX_PER_SCHEDULE:
            errors.append(
                (path, f"makes {len(slots)} departures; split it (at most {MAX_PER_SCHEDULE})")
            )
            continue
        for starts_at in slots:
            if starts_at in explicit_starts:
                continue  # a listed departure at the same time wins
            existing = None
            if existing_tour is not None:
                existing = session.scalar(
                    select(Departure).where(
                        Departure.tour_id == existing_tour.id, Departure.starts_at == starts_at
                    )
                )
            plan.departures.append(
                PlannedDeparture(
                    path,
                    i,
                    existing.code if existing else None,
                    starts_at,
                    rule.capacity,
                    rule.guide,
                    existing,
                )
            )

    return errors


def _check_capacity_cuts(session: Session, plan: Plan, now: datetime) -> list[tuple[str, str]]:
    """Lowering capacity below the seats already taken would oversell the departure.
    All existing departures are locked at once, in id order, like every other locker."""
    existing = [d.existing for d in plan.departures if d.existing is not None]
    lock_departures(session, (d.id for d in existing))
    errors = []
    for planned in plan.departures:
        if planned.existing is None or planned.capacity >= planned.existing.capacity:
            continue
        taken = occupancy(session, planned.existing, now).taken
        if planned.capacity < taken:
            errors.append(
                (
                    f"{planned.path}.capacity",
                    f"{planned.existing.code} already has {taken} seats taken; "
                    f"capacity cannot go below that",
                )
            )
    return errors


# --- writing --------------------------------------------------------------------------


def code_prefix(tour: TourIn) -> str:
    if tour.code_prefix:
        return tour.code_prefix
    for alias in tour.aliases:
        if re.fullmatch(r"[A-Za-z]{2,5}", alias) and alias.isupper():
            return alias
    words = [w for w in tour.slug.split("-") if w]
    if len(words) >= 3:
        return "".join(w[0] for w in words[:4]).upper()
    return re.sub(r"[^A-Za-z]", "", words[0])[:3].upper() or "DEP"


def _new_code(prefix: str, starts_local: datetime, taken: set[str]) -> str:
    base = f"{prefix}{starts_local:%m%d}"
    candidates = [base, f"{base}{starts_local:%H%M}"]
    candidates += [f"{base}{starts_local:%y}{chr(c)}" for c in range(ord("A"), ord("Z") + 1)]
    for code in candidates:
        if code not in taken:
            taken.add(code)
            return code
    raise CatalogError([("(departures)", f"cannot make a unique code for {base}")])


def import_catalog(session: Session, data: dict[str, Any], now: datetime) -> ImportSummary:
    catalog = parse_catalog(data)
    plan = _plan(session, catalog, now)
    org_in = catalog.organization
    tz = ZoneInfo(org_in.timezone)

    org = plan.org
    created = org is None
    if org is None:
        org = Organization(
            slug=org_in.slug, name=org_in.name, timezone=org_in.timezone, currency=org_in.currency
        )
        session.add(org)
    org.name = org_in.name
    org.timezone = org_in.timezone
    org.currency = org_in.currency
    org.owner_phone = org_in.owner_phone
    org.ops_phones = list(org_in.ops_phones)
    org.settings_json = org_in.settings.model_dump(mode="json")
    org.faq = [entry.model_dump(mode="json", exclude_none=True) for entry in org_in.faq]
    session.flush()
    summary = ImportSummary(org)
    summary.count("organization", created)

    wanted_numbers = {tuple(n.split(":", 1)) for n in org_in.numbers}
    for number in list(org.numbers):
        if (number.channel, number.phone) not in wanted_numbers:
            org.numbers.remove(number)
    have = {(n.channel, n.phone) for n in org.numbers}
    for channel, phone in sorted(wanted_numbers - have):
        org.numbers.append(OrganizationNumber(channel=channel, phone=phone))

    for staff in catalog.staff:
        email = staff.email.lower()
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        summary.count("staff", user is None)
        if user is None:
            user = StaffUser(organization_id=org.id, email=email, name=staff.name, role=staff.role)
            # Set only on creation: a password changed since must not be reset by a re-import.
            if staff.password:
                user.password_hash = generate_password_hash(staff.password)
            session.add(user)
        user.name, user.role, user.phone = staff.name, staff.role, staff.phone

    tours: dict[int, Tour] = {}
    for i, tour_in in enumerate(catalog.tours):
        tours[i] = _write_tour(session, org, tour_in, plan.prices[i], summary)
    session.flush()

    by_slug = {
        t.slug: t for t in session.scalars(select(Tour).where(Tour.organization_id == org.id))
    }
    guides: dict[str, Guide] = {
        g.phone: g for g in session.scalars(select(Guide).where(Guide.organization_id == org.id))
    }
    for i, guide_in in enumerate(catalog.guides):
        guide = guides.get(guide_in.phone)
        summary.count("guides", guide is None)
        if guide is None:
            guide = Guide(organization_id=org.id, phone=guide_in.phone, name=guide_in.name)
            session.add(guide)
            guides[guide.phone] = guide
        guide.name = guide_in.name
        guide.trip_fee_minor = plan.trip_fees[i]
        guide.tours = [by_slug[s] for s in guide_in.tours]
        if "languages" in guide_in.model_fields_set:
            # A catalog without them keeps the languages staff set on the guide's page.
            guide.languages = list(guide_in.languages)
    session.flush()

    taken_codes = set(
        session.scalars(select(Departure.code).where(Departure.organization_id == org.id))
    )
    taken_codes |= {d.code for d in plan.departures if d.code}
    raised: list[Departure] = []
    for planned in plan.departures:
        tour = tours[planned.tour_index]
        guide_id = guides[planned.guide_phone].id if planned.guide_phone else None
        dep = planned.existing
        summary.count("departures", dep is None)
        if dep is None:
            code = planned.code or _new_code(
                tour.code_prefix, planned.starts_at.astimezone(tz), taken_codes
            )
            dep = Departure(
                organization_id=org.id,
                tour_id=tour.id,
                code=code,
                status=DepartureStatus.OPEN,
                starts_at=planned.starts_at,
                ends_at=planned.starts_at,
                capacity=planned.capacity,
            )
            session.add(dep)
            session.flush()
            timeline.record(
                session,
                dep,
                "departure.created",
                source="catalog",
                at=now,
                content={"capacity": planned.capacity},
            )
        elif planned.capacity != dep.capacity or planned.starts_at != dep.starts_at:
            timeline.record(
                session,
                dep,
                "departure.updated",
                source="catalog",
                at=now,
                content={
                    "capacity": [dep.capacity, planned.capacity],
                    "starts_at": [dep.starts_at.isoformat(), planned.starts_at.isoformat()],
                },
            )
            if planned.capacity > dep.capacity:
                raised.append(dep)
        dep.starts_at = planned.starts_at
        dep.ends_at = planned.starts_at + timedelta(minutes=tour.duration_minutes)
        dep.capacity = planned.capacity
        if planned.guide_phone or dep.guide_id is None:
            dep.guide_id = guide_id
    session.flush()

    # More capacity is seats freed up: the waitlist gets first call on them.
    for dep in raised:
        summary.waitlist_offers += len(waitlist.offer_free_seats(session, org, dep, now))
    return summary


def _write_tour(
    session: Session,
    org: Organization,
    tour_in: TourIn,
    prices: dict[str, int],
    summary: ImportSummary,
) -> Tour:
    tour = session.scalar(
        select(Tour).where(Tour.organization_id == org.id, Tour.slug == tour_in.slug)
    )
    summary.count("tours", tour is None)
    if tour is None:
        tour = Tour(organization_id=org.id, slug=tour_in.slug, code_prefix=code_prefix(tour_in))
        session.add(tour)
    tour.name = tour_in.name
    tour.aliases = list(tour_in.aliases)
    tour.duration_minutes = tour_in.duration
    tour.meeting_point = tour_in.meeting_point
    tour.latitude, tour.longitude = tour_in.coordinates or (None, None)
    tour.description = tour_in.description
    tour.details = tour_in.details.model_dump(mode="json", exclude_none=True)
    tour.faq = [entry.model_dump(mode="json", exclude_none=True) for entry in tour_in.faq]
    tour.cancellation_policy = (
        [rule.model_dump(mode="json") for rule in tour_in.cancellation_policy]
        if tour_in.cancellation_policy is not None
        else None
    )
    if tour_in.code_prefix:
        tour.code_prefix = tour_in.code_prefix
    tiers = {t.code: t for t in tour.price_tiers}
    tour.price_tiers = []
    for position, (code, minor) in enumerate(prices.items()):
        tier = tiers.get(code) or PriceTier(code=code)
        tier.label, tier.price_minor, tier.position = (
            code.replace("_", " ").title(),
            minor,
            position,
        )
        tour.price_tiers.append(tier)
    return tour


def import_catalog_file(session: Session, path: str | Path, now: datetime) -> ImportSummary:
    return import_catalog(session, read_catalog_file(path), now)
