"""Incidents on the trail: a guide's ISSUE opens one with a severity from its words, UPDATEs
add to it until words like "resolved" close it; ops updates reach the guide and, by choice,
the guests. Ops are alerted at once, the owner too when it is serious."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Departure, Guide, Incident, IncidentStatus, IncidentUpdate, Organization
from services import crew, incident_states, notify, timeline
from services.crew import OperationsError
from services.i18n import N_, Voice, customer_voice, guide_voice

# Severity from the guide's words; first match wins. Edit here to change the rules.
SEVERITY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "high",
        (
            "medical",
            "injur",
            "hurt",
            "bleed",
            "unconscious",
            "evacuat",
            "helicopter",
            "accident",
            "missing",
            "lost person",
            "altitude sickness",
            "ams",
            "hospital",
            "ambulance",
            "broken",
            "fracture",
            "emergency",
            "police",
            "heart",
            "breathing",
            # Hurt on the trail, in a guide's words rather than a doctor's.
            "ankle",
            "sprain",
            "twisted",
            "fell down",
            "fell off",
            "fell over",
            "fell from",
            "fell on",
            "has fallen",
            "a fall",
            "wound",
            "dislocat",
            "concuss",
            "collapse",
            "faint",
            "seizure",
            "allerg",
            "anaphyla",
            "hypotherm",
            "frostbite",
            "bitten",
            "snake",
            "chest pain",
            "stroke",
            # In Portuguese, Spanish, French and German (guides report in their language).
            *"""ferid magoad sangr inconscient evacua helicóptero helicoptero acidente
            desaparecid hospital ambulância ambulancia fratura emergência emergencia polícia
            policia tornozelo torceu caiu desmai alergi mordid serpente herid accidente
            fractura policía tobillo esguince caída desmay serpiente bless saign évacu evacu
            hélicoptère disparu hôpital urgence cheville entorse tombé chute évanoui mordu
            serpent verletz blut bewusstlos evakuier hubschrauber unfall vermisst höhenkrank
            krankenhaus krankenwagen gebrochen knochenbruch notfall polizei herzinfarkt atemnot
            knöchel verstaucht gestürzt sturz ohnmächtig gebissen schlange""".split(),  # noqa: SIM905
            "mal de altitude",
            "mal de altura",
            "mal des montagnes",
            "partiu o",
            "partiu a",
            "uma queda",
            "pierna rota",
            "brazo roto",
            "jambe cassée",
            "bras cassé",
            "respirar",
            "respirer",
            "ataque cardíaco",
            "crise cardiaque",
        ),
    ),
    (
        "medium",
        (
            "delay",
            "late",
            "breakdown",
            "broke down",
            "weather",
            "storm",
            "rain",
            "snow",
            "landslide",
            "road closed",
            "cancelled flight",
            "sick",
            "ill",
            "vomit",
            "knee",
            "blister",
            "unwell",
            *"""atras retras retard verspät verspaet avaria avería averi panne kaputt chuva
            lluvia pluie regen neve nieve neige schnee tempestade tormenta orage sturm
            unwetter deslizamento derrumbe erdrutsch doente enfermo malade krank vómit vomit
            erbrech joelho rodilla genou knie bolha ampolla ampoule blase indispost mareado
            übel""".split(),  # noqa: SIM905
            "mau tempo",
            "mal tiempo",
            "mauvais temps",
            "schlechtes wetter",
            "estrada cortada",
            "carretera cortada",
            "route coupée",
            "straße gesperrt",
        ),
    ),
)
RESOLVED = re.compile(
    r"\b(resolved|all good|back on track|sorted|fixed|solved|all clear|ok now|"
    r"everyone(?:'s| is) (?:fine|safe|ok)|under control|"
    # pt / es / fr / de
    r"resolvid[oa]|tudo bem|tudo ok|sob controlo|sob controle|resuelt[oa]|solucionad[oa]|"
    r"todo bien|bajo control|r[ée]solue?|r[ée]gl[ée]e?|tout va bien|sous contr[ôo]le|"
    r"gel[öo]st|erledigt|behoben|alles gut|alles in ordnung|unter kontrolle)\b",
    re.IGNORECASE,
)


# Each severity's word, as a guide reads it.
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}


def severity_of(text: str) -> str:
    lowered = text.lower()
    for severity, words in SEVERITY_RULES:
        if any(re.search(rf"\b{re.escape(w)}", lowered) for w in words):
            return severity
    return "low"


def open_incident(session: Session, departure: Departure) -> Incident | None:
    return session.scalar(
        select(Incident)
        .where(Incident.departure_id == departure.id, Incident.status == IncidentStatus.OPEN)
        .order_by(Incident.id.desc())
    )


def report_issue(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    crew.must_be_guide_of(guide, departure)
    if not text.strip():
        raise OperationsError(
            N_("Say what happened: ISSUE {code} <what happened>"), code=departure.code
        )
    severity = severity_of(text)
    incident = Incident(
        organization_id=org.id,
        departure_id=departure.id,
        guide_id=guide.id,
        severity=severity,
        text=text.strip()[:2000],
        opened_at=now,
    )
    session.add(incident)
    session.flush()
    timeline.record(
        session,
        departure,
        "incident.opened",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
        content={"incident": incident.number, "severity": severity, "text": incident.text},
    )
    crew.tell_ops(
        session,
        org,
        f"🚨 {severity.upper()} {incident.number} on {departure.code} from {guide.name} "
        f"({guide.phone}): {incident.text[:400]}",
        now,
        owner_too=severity == "high",
    )
    voice = guide_voice(org, guide)
    return voice._(
        "⚠️ Issue logged: {number}\nTrip: {code}\nSeverity: {severity}\nOps team alerted.\n"
        "Support: {phone}",
        number=incident.number,
        code=departure.code,
        severity=voice._(SEVERITY_LABELS.get(severity, severity.title())),
        phone=crew.support_line(org),
    )


def update_issue(
    session: Session,
    org: Organization,
    author: str,
    departure: Departure,
    text: str,
    now: datetime,
    voice: Voice | None = None,
) -> tuple[Incident, str]:
    """voice: whose words the reply is in (a guide's); English without one."""
    voice = voice or Voice()
    incident = open_incident(session, departure)
    if incident is None:
        raise OperationsError(
            N_("There is no open incident on {code}. To report one: ISSUE {code} <what happened>"),
            code=departure.code,
        )
    if not text.strip():  # an empty update would page ops with nothing to read
        raise OperationsError(N_("Say what changed: UPDATE {code} <news>"), code=departure.code)
    resolves = bool(RESOLVED.search(text))
    session.add(
        IncidentUpdate(
            incident_id=incident.id,
            author=author,
            text=text.strip()[:2000],
            resolves=resolves,
            created_at=now,
        )
    )
    source = "guide" if author.startswith("guide") else "admin"
    if resolves:
        incident_states.transition(
            session,
            incident,
            IncidentStatus.RESOLVED,
            now,
            actor=author,
            source=source,
            content={"text": text.strip()[:500]},
        )
    else:
        timeline.record(
            session,
            departure,
            "incident.updated",
            actor=author,
            source=source,
            at=now,
            content={"incident": incident.number, "text": text.strip()[:500]},
        )
    if resolves:
        return incident, voice._(
            "✓ Resolved: {number}\nResponse time: {minutes}\nThank you for the quick reporting!",
            number=incident.number,
            minutes=voice.n_("{n} minute", "{n} minutes", incident.response_minutes or 0),
        )
    return incident, voice._("Update added to {number}. Ops can see it.", number=incident.number)


def guide_update(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    crew.must_be_guide_of(guide, departure)
    incident, reply = update_issue(
        session, org, f"guide:{guide.id}", departure, text, now, guide_voice(org, guide)
    )
    state = "RESOLVED" if incident.status == IncidentStatus.RESOLVED else "update"
    crew.tell_ops(
        session, org, f"{incident.number} {state} from {guide.name}: {text.strip()[:400]}", now
    )
    return reply


def ops_update(
    session: Session,
    org: Organization,
    incident: Incident,
    text: str,
    now: datetime,
    *,
    staff_id: int | None = None,
    tell_customers: bool = False,
) -> None:
    """Ops writes on an incident: the guide is told, and the departure's customers if chosen."""
    departure = incident.departure
    update_issue(session, org, f"staff:{staff_id or 0}", departure, text, now)
    if departure.guide is not None:
        notify.to_staff(
            session,
            org,
            departure.guide.phone,
            guide_voice(org, departure.guide)._(
                "Update from ops on {number}:\n{text}", number=incident.number, text=text
            ),
            now,
        )
    if tell_customers:
        for booking in crew.confirmed_bookings(session, departure):
            voice = customer_voice(org, booking.customer)
            notify.to_customer(
                session,
                org,
                booking.customer,
                # Ops' own words, as they wrote them, under a heading in the customer's.
                voice._("Update on your {tour}:\n{text}", tour=departure.tour.name, text=text),
                now,
                reference=booking.reference,
            )


def resolve_by_ops(
    session: Session,
    org: Organization,
    incident: Incident,
    note: str,
    now: datetime,
    *,
    staff_id: int | None = None,
) -> None:
    """Ops closes the incident from the admin; the guide is told it is closed."""
    if incident.status == IncidentStatus.RESOLVED:
        return  # pressing the button twice changes nothing
    text = f"Resolved: {note.strip()}" if note.strip() else "Resolved by ops."
    ops_update(session, org, incident, text, now, staff_id=staff_id)
