"""WhatsApp templates per purpose and language, for the messages the bot sends first
(often outside the customer's 24-hour window): a waitlist offer, the pre-departure
reminder that asks for an answer, a balance reminder, a hold about to lapse, the owner's
approval or refusal, a departure cancelled; and, to guides, a trip offered (made in
English and in every language the organization's guides speak; each guide gets the first of
theirs that WhatsApp has approved, services.notify.guide_template).

Each is a Twilio content (the words fixed in the language, {{n}} for the booking's
details; buttons where the customer answers) submitted to WhatsApp for approval as a
UTILITY template by `flask whatsapp sync`, which also records the approval status
Twilio reports (received, pending, approved, rejected and why). Inside the window the
content goes whatever its status (no approval is needed there); outside it only once
approved; otherwise the organization's one generic template (settings.whatsapp_template),
or SMS to a customer who has written to us by SMS, or `needs_template` for staff
(services/outbox.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Guide, Organization, WhatsAppContent, utcnow
from services.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    Voice,
    guide_languages,
    organization_languages,
    voice_for,
)
from services.runtime import Runtime
from services.whatsapp_content import (
    QUICK_REPLY,
    ContentApi,
    Rendered,
    SyncReport,
    TwilioContentApi,
    contents,
    payload,
)

log = logging.getLogger(__name__)

TEXT = "twilio/text"
APPROVED = "approved"
CATEGORY = "UTILITY"
# Twilio's statuses of a review still going on (then approved, rejected, paused...).
UNDER_REVIEW = ("received", "pending")
# How often the sweep asks Twilio about a template under review, and how many at a time.
REVIEW_EVERY = timedelta(minutes=15)
REVIEWS_PER_RUN = 50


@dataclass(frozen=True)
class Purpose:
    body: str  # msgid with named placeholders, each a variable in the template
    fields: tuple[str, ...]  # the placeholders, in variable order ({{1}}, {{2}}...)
    samples: tuple[str, ...]  # WhatsApp's reviewers see these
    buttons: tuple[tuple[str, str], ...] = ()  # (title msgid, tap action) quick replies
    # To guides: made in their languages (guides_languages), not the customers'.
    guides: bool = False


PURPOSES: dict[str, Purpose] = {
    "waitlist_offer": Purpose(
        N_(
            "Good news, {name}: a spot opened up on {tour}, {when}. It is held for you "
            "until {expires}; the total is {total}."
        ),
        ("name", "tour", "when", "expires", "total"),
        ("Ada", "Sunset Tour", "Sat 12 Dec 17:30", "Sat 12 Dec 11:00", "$49"),
        ((N_("Confirm"), "confirm"), (N_("Decline"), "decline")),
    ),
    "pre_departure": Purpose(
        N_(
            "Hi {name}, your {tour} starts {when} ({reference}). Meeting point: {place}. "
            "Will you be there?"
        ),
        ("name", "tour", "when", "reference", "place"),
        ("Ada", "Sunset Tour", "Sat 12 Dec 17:30", "BK-7K3Q9", "Thamel Chowk"),
        (
            (N_("I'll be there"), "coming"),
            (N_("I need to change"), "change"),
            (N_("Cancel booking"), "cancelask"),
        ),
    ),
    "balance_due": Purpose(
        N_(
            "Hi {name}, the balance for {reference} ({tour}) is {amount}, due {due}. "
            "You can pay it here: {link} Thank you!"
        ),
        ("name", "reference", "tour", "amount", "due", "link"),
        ("Ada", "BK-7K3Q9", "Sunset Tour", "$68.60", "28 Nov", "https://example.com/pay"),
    ),
    "hold_expiring": Purpose(
        N_(
            "Hi {name}, your seats on {tour} ({reference}) are held until {expires}. "
            "To keep them, pay here: {link} Thank you!"
        ),
        ("name", "tour", "reference", "expires", "link"),
        ("Ada", "Sunset Tour", "BK-7K3Q9", "Sat 12 Dec 11:00", "https://example.com/pay"),
    ),
    "approval_confirmed": Purpose(
        N_(
            "Good news, {name}: {reference} is confirmed! {tour}, {when}. Pay the deposit "
            "({deposit}) here: {link} Thank you!"
        ),
        ("name", "reference", "tour", "when", "deposit", "link"),
        ("Ada", "BK-7K3Q9", "Sunset Tour", "Sat 12 Dec 17:30", "$29.40", "https://example.com/pay"),
    ),
    "approval_declined": Purpose(
        N_(
            "Hi {name}, we're sorry: we can't take {reference} ({tour}, {when}). Reply here "
            "and we'll find you another date."
        ),
        ("name", "reference", "tour", "when"),
        ("Ada", "BK-7K3Q9", "Sunset Tour", "Sat 12 Dec 17:30"),
    ),
    "departure_cancelled": Purpose(
        N_(
            "Hi {name}, we're sorry: {tour} on {when} is cancelled ({reason}). Your booking "
            "{reference} is cancelled; {refund}. Reply here to choose another date."
        ),
        ("name", "tour", "when", "reason", "reference", "refund"),
        (
            "Ada",
            "Sunset Tour",
            "Sat 12 Dec 17:30",
            "storm warning",
            "BK-7K3Q9",
            "$98 is being refunded in full",
        ),
    ),
    "day_of": Purpose(
        N_(
            "Hi {name}, today is the day: {tour} at {time} ({reference}). Meeting point: "
            "{place} (map: {map}). Your guide: {guide}. See you there!"
        ),
        ("name", "tour", "time", "reference", "place", "map", "guide"),
        (
            "Ada",
            "Sunset Tour",
            "17:30",
            "BK-7K3Q9",
            "Thamel Chowk",
            "https://www.google.com/maps/search/?api=1&query=27.7154,85.3123",
            "Maya Gurung",
        ),
    ),
    # To a guide, in their language; ACCEPT and DECLINE are understood in every language.
    # (The English words are those of the template approved before guides had languages:
    # changed, it would be made and reviewed again.)
    "guide_offer": Purpose(
        N_(
            "Trip offer: {tour} ({code}), {when}. Meeting point: {place}. Group: {group} "
            "guests, {role} guide, fee {fee}. Reply ACCEPT {accept} or DECLINE {decline}."
        ),
        ("tour", "code", "when", "place", "group", "role", "fee", "accept", "decline"),
        (
            "Sunset Tour",
            "SUN1212",
            "Sat 12 Dec 17:30",
            "Thamel Chowk",
            "8",
            "Lead",
            "$40",
            "SUN1212",
            "SUN1212",
        ),
        guides=True,
    ),
}


def guides_languages(session: Session, org: Organization) -> list[str]:
    """English (for a guide without a language the product speaks) and every language the
    organization's active guides speak."""
    spoken = session.scalars(
        select(Guide.languages).where(Guide.organization_id == org.id, Guide.active.is_(True))
    )
    found = {code for languages in spoken for code in guide_languages(languages)}
    return [DEFAULT_LANGUAGE, *sorted(found - {DEFAULT_LANGUAGE})]


def languages_of(session: Session, purpose: str, org: Organization) -> list[str]:
    """The languages a purpose's template is made in: the organization's, or for guides
    theirs."""
    if PURPOSES[purpose].guides:
        return guides_languages(session, org)
    return list(organization_languages(org.settings.languages))


def kind_of(purpose: str) -> str:
    return f"template_{purpose}"


def _var(n: int) -> str:
    return "{{" + str(n) + "}}"


def definition(purpose: str, language: str, voice: Voice) -> dict[str, Any]:
    spec = PURPOSES[purpose]
    body = voice._(spec.body, **{field: _var(n) for n, field in enumerate(spec.fields, 1)})
    variables = {str(n): sample for n, sample in enumerate(spec.samples, 1)}
    first = len(spec.fields) + 1
    types: dict[str, Any]
    if spec.buttons:
        actions = [
            {"type": "QUICK_REPLY", "title": voice._(title), "id": _var(n)}
            for n, (title, _) in enumerate(spec.buttons, first)
        ]
        variables.update(
            {str(n): payload(action, "SAMPLE") for n, (_, action) in enumerate(spec.buttons, first)}
        )
        types = {QUICK_REPLY: {"body": body, "actions": actions}}
    else:
        types = {TEXT: {"body": body}}
    return {
        "friendly_name": f"tourbot_{purpose}_{language}",
        "language": language,
        "variables": variables,
        "types": types,
    }


def sync(
    session: Session, org: Organization, api: ContentApi, now: datetime, report: SyncReport
) -> None:
    """Makes each purpose's template in each language, submits it for WhatsApp's approval
    and records the status; a made one has its status refreshed until approved."""
    kinds = [kind_of(p) for p in PURPOSES]
    wanted_in = {p: languages_of(session, p, org) for p in PURPOSES}
    for language in dict.fromkeys(code for codes in wanted_in.values() for code in codes):
        voice = voice_for(org.timezone, [language], language=language)
        existing = contents(session, org, language, kinds)
        for purpose in PURPOSES:
            if language not in wanted_in[purpose]:
                continue
            kind, label = kind_of(purpose), f"{kind_of(purpose)}/{language}"
            wanted = definition(purpose, language, voice)
            row = existing.get(kind)
            try:
                if row is None or row.definition != wanted:
                    sid = api.create(wanted)
                    if row is None:
                        row = WhatsAppContent(
                            organization_id=org.id, kind=kind, language=language, created_at=now
                        )
                        session.add(row)
                    row.content_sid, row.definition = sid, wanted
                    row.approval_status, row.approval_reason = None, None
                    report.created.append(label)
                else:
                    report.unchanged.append(label)
                if row.approval_status is None:
                    name = f"tourbot_{purpose}_{language}_{row.content_sid[-8:].lower()}"
                    api.submit(row.content_sid, name, CATEGORY)
                    row.approval_status = "received"
                if row.approval_status != APPROVED:
                    row.approval_status, row.approval_reason = api.approval(row.content_sid)
                    row.approval_checked_at = now
                row.updated_at = now
            except Exception as exc:  # one refusal must not stop the others
                report.failed.append(f"{label}: {exc}")
    session.flush()


@dataclass(frozen=True)
class Claimed:
    """A template under review, as it was when a refresh claimed it."""

    id: int
    content_sid: str
    label: str  # "template_day_of/pt"
    review: tuple[str | None, str | None]


def claim_reviews(session: Session, now: datetime) -> list[Claimed]:
    """The templates still under WhatsApp's review and not asked about for REVIEW_EVERY
    (at most REVIEWS_PER_RUN), claimed: asked at `now`, so a run overlapping this one
    leaves them alone once the caller commits (and skips them while it has not)."""
    rows = session.scalars(
        select(WhatsAppContent)
        .where(
            WhatsAppContent.approval_status.in_(UNDER_REVIEW),
            or_(
                WhatsAppContent.approval_checked_at.is_(None),
                WhatsAppContent.approval_checked_at <= now - REVIEW_EVERY,
            ),
        )
        .order_by(WhatsAppContent.approval_checked_at.nulls_first(), WhatsAppContent.id)
        .limit(REVIEWS_PER_RUN)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.approval_checked_at = now
    session.flush()
    return [
        Claimed(
            row.id,
            row.content_sid,
            f"{row.kind}/{row.language}",
            (row.approval_status, row.approval_reason),
        )
        for row in rows
    ]


def record_review(
    session: Session, claimed: Claimed, review: tuple[str, str | None], now: datetime
) -> bool:
    """Writes what Twilio said of a claimed template, unless it changed meanwhile (made
    again, or its review recorded by `flask whatsapp sync`)."""
    status, reason = claimed.review
    written = session.execute(
        update(WhatsAppContent)
        .where(
            WhatsAppContent.id == claimed.id,
            WhatsAppContent.content_sid == claimed.content_sid,
            WhatsAppContent.approval_status.is_not_distinct_from(status),
            WhatsAppContent.approval_reason.is_not_distinct_from(reason),
        )
        .values(approval_status=review[0], approval_reason=review[1], updated_at=now)
    )
    return bool(written.rowcount)  # type: ignore[attr-defined]


def refresh_reviews(runtime: Runtime, api: ContentApi, now: datetime) -> list[str]:
    """Asks Twilio again about each template still under WhatsApp's review and not asked
    for REVIEW_EVERY, and records what it says (the sweep does this, so a template is used
    soon after its approval without anyone running `flask whatsapp sync`). Returns the
    reviews that changed ("template_day_of/pt: approved").

    No transaction stays open while Twilio is asked (up to REVIEWS_PER_RUN requests of up
    to 10 s): the templates are claimed in one short transaction, each answer written in
    another."""
    with runtime.sessions() as session:
        claimed = claim_reviews(session, now)
        session.commit()
    changed = []
    for template in claimed:
        try:
            review = api.approval(template.content_sid)
        except Exception as exc:  # Twilio unreachable: asked again next time
            log.warning("review of %s not refreshed: %s", template.label, exc)
            continue
        if review == template.review:
            continue
        with runtime.sessions() as session:
            if record_review(session, template, review, now):
                changed.append(f"{template.label}: {review[0]}")
            session.commit()
    return changed


def refresh_reviews_job(runtime: Runtime) -> list[str]:
    """The sweep's refresh of the reviews (a job of its own, so a slow Content API never
    holds up the sweep). Without Twilio's credentials there is nothing to ask."""
    config = runtime.config
    if not (config.TWILIO_ACCOUNT_SID and config.TWILIO_AUTH_TOKEN):
        return []
    api = TwilioContentApi(
        config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, config.TWILIO_API_BASE
    )
    changed = refresh_reviews(runtime, api, utcnow())
    if changed:
        log.info("WhatsApp template reviews: %s", "; ".join(changed))
    return changed


def render(
    session: Session,
    org: Organization,
    language: str,
    purpose: str,
    values: dict[str, str],
    *,
    tap_arg: str | int = "",
) -> tuple[Rendered, bool] | None:
    """The purpose's content filled for one message, and whether WhatsApp approved it
    (needed outside the 24-hour window); None when it was never made."""
    spec = PURPOSES[purpose]
    row = contents(session, org, language, [kind_of(purpose)]).get(kind_of(purpose))
    if row is None or any(not values.get(field) for field in spec.fields):
        return None
    variables = {str(n): values[field][:200] for n, field in enumerate(spec.fields, 1)}
    first = len(spec.fields) + 1
    variables.update(
        {str(n): payload(action, tap_arg) for n, (_, action) in enumerate(spec.buttons, first)}
    )
    return Rendered(row.content_sid, variables), row.approval_status == APPROVED


def templates_of(session: Session, org: Organization) -> list[WhatsAppContent]:
    return list(
        session.scalars(
            select(WhatsAppContent)
            .where(
                WhatsAppContent.organization_id == org.id,
                WhatsAppContent.kind.in_([kind_of(p) for p in PURPOSES]),
            )
            .order_by(WhatsAppContent.kind, WhatsAppContent.language)
        )
    )
