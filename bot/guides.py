"""Guides' commands over WhatsApp/SMS. A message from a guide's phone is a command;
anyone else typing CHECKIN is a customer and gets no privilege from it.

    ACCEPT [code]             DECLINE [code] [reason]
    CHECKIN [code]            CHECKOUT [code] [note]
    ISSUE [code] <text>       UPDATE [code] <text>
    MANIFEST [code|TODAY]     HELP

Case and spacing are forgiven ("check in", "Checkin ebc0315"). The code may be left out
when the guide has exactly one departure under way, or else a next one.

Guides keep these commands whatever language they speak, and each has its Portuguese,
Spanish, French and German words too (SYNONYMS: "PROBLEMA", "INCIDENCIA", "CHEGADA",
"FIN", "ANKUNFT"...), with or without accents; TODAY is also HOJE, HOY, AUJOURD'HUI,
HEUTE."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import Departure, Guide, Organization
from services import assignments, crew, incidents, operations
from services.errors import ServiceError
from services.i18n import N_, Voice, guide_voice

# Each command's words in Portuguese, Spanish, French and German (the English word works in
# every language). Several words long ones first; accents optional.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "CHECKIN": (
        "chegada",
        "chegamos",
        "inicio",
        "início",
        "llegada",
        "hemos llegado",
        "comienzo",
        "arrivée",
        "arrivee",
        "début",
        "debut",
        "ankunft",
        "angekommen",
        "beginn",
    ),
    "CHECKOUT": (
        "fim do passeio",
        "fim",
        "terminado",
        "concluído",
        "concluido",
        "fin del tour",
        "fin",
        "terminé",
        "termine",
        "ende",
        "fertig",
        "abschluss",
    ),
    "ISSUE": (
        "problema",
        "ocorrência",
        "ocorrencia",
        "incidente",
        "incidencia",
        "incidência",
        "problème",
        "probleme",
        "incident",
        "problem",
        "vorfall",
        "störung",
        "stoerung",
    ),
    "UPDATE": (
        "atualização",
        "atualizacao",
        "atualizar",
        "actualización",
        "actualizacion",
        "actualizar",
        "mise à jour",
        "mise a jour",
        "suivi",
        "nachtrag",
        "aktualisierung",
    ),
    "MANIFEST": (
        "manifesto",
        "manifiesto",
        "manifeste",
        "lista",
        "liste",
        "teilnehmerliste",
        "teilnehmer",
    ),
    "ACCEPT": (
        "aceito",
        "aceitar",
        "acepto",
        "aceptar",
        "j'accepte",
        "accepte",
        "accepter",
        "annehmen",
        "zusagen",
        "akzeptieren",
    ),
    "DECLINE": (
        "recuso",
        "recusar",
        "rechazo",
        "rechazar",
        "refuse",
        "refuser",
        "ablehnen",
        "absagen",
    ),
    "HELP": ("ajuda", "ayuda", "aide", "hilfe"),
}
TODAY = ("TODAY", "HOJE", "HOY", "AUJOURD'HUI", "AUJOURDHUI", "HEUTE")
_WORDS = {word: verb for verb, words in SYNONYMS.items() for word in words}
_VERB = "|".join(
    [r"check\s*-?\s*in", r"check\s*-?\s*out", "issue", "update", "manifest", "accept", "decline"]
    + ["help"]
    + [re.escape(w).replace(r"\ ", r"\s+") for w in sorted(_WORDS, key=len, reverse=True)]
)
COMMAND = re.compile(rf"^\s*({_VERB})(?![\w'])[\s:,-]*(.*)$", re.IGNORECASE | re.DOTALL)
HELP = N_(
    "Guide commands:\n"
    "ACCEPT <code> – take an offered trip\n"
    "DECLINE <code> <reason> – turn it down\n"
    "CHECKIN <code> – the trip has started\n"
    "ISSUE <code> <what happened> – report a problem\n"
    'UPDATE <code> <news> – add to it ("resolved" closes it)\n'
    "CHECKOUT <code> <note> – the trip is over\n"
    "MANIFEST <code|TODAY> – who is coming\n"
    "The code can be left out when you have one trip on."
)


# What a departure code looks like (EBC0315, SUN0116-2): refused by name if unknown,
# rather than read as the first word of a note.
CODE_SHAPE = re.compile(r"^[A-Za-z]{2,}[A-Za-z0-9-]*\d[A-Za-z0-9-]*$")


@dataclass(frozen=True)
class Command:
    verb: str
    code: str | None
    rest: str
    unknown_code: str | None = None


def parse(text: str, known_code: Callable[[str], bool]) -> Command | None:
    match = COMMAND.match(text or "")
    if not match:
        return None
    said = re.sub(r"\s+", " ", match.group(1)).lower()
    verb = _WORDS.get(said) or re.sub(r"[\s-]+", "", said).upper()
    rest = match.group(2).strip()
    first, _, remainder = rest.partition(" ")
    if first and first.upper() in TODAY:
        return Command(verb, "TODAY", remainder.strip())
    if first and known_code(first):
        return Command(verb, first.upper(), remainder.strip())
    if first and CODE_SHAPE.match(first):
        return Command(verb, None, remainder.strip(), unknown_code=first.upper())
    return Command(verb, None, rest)


def handle(
    session: Session, org: Organization, guide: Guide, text: str, now: datetime
) -> list[str]:
    """The replies to a guide's message, in the guide's language (services.i18n.guide_voice;
    English when they have none), refusals included."""
    voice = guide_voice(org, guide)
    command = parse(text, lambda code: crew.departure_by_code(session, org, code) is not None)
    if command is None or command.verb == "HELP":
        return [voice._(HELP)]
    if command.unknown_code:
        return [
            voice._(
                "There is no departure {code}. Check the code, or leave it out to use your "
                "current trip.",
                code=command.unknown_code,
            )
        ]
    try:
        departure = _departure(session, org, guide, command, now)
        if departure is None:
            return [voice._("Which trip? Add its code, e.g. {verb} EBC0315.", verb=command.verb)]
        if command.verb == "MANIFEST":
            return operations.manifest_messages(session, org, departure, voice)
        with session.begin_nested():
            return [_run(session, org, guide, departure, command, now, voice)]
    except ServiceError as exc:
        return [exc.said_by(voice)]


def _departure(
    session: Session, org: Organization, guide: Guide, command: Command, now: datetime
) -> Departure | None:
    if command.code == "TODAY":
        return crew.todays_departure(session, org, guide, now)
    if command.code:
        return crew.departure_by_code(session, org, command.code)
    return crew.current_or_next(session, guide, now)


def _run(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    command: Command,
    now: datetime,
    voice: Voice,
) -> str:
    verb = command.verb
    if verb == "ACCEPT":
        return assignments.accept_assignment(session, org, guide, departure, now)
    if verb == "DECLINE":
        return assignments.decline_assignment(session, org, guide, departure, command.rest, now)
    if verb == "CHECKIN":
        return operations.check_in(session, org, guide, departure, now)
    if verb == "ISSUE":
        return incidents.report_issue(session, org, guide, departure, command.rest, now)
    if verb == "UPDATE":
        return incidents.guide_update(session, org, guide, departure, command.rest, now)
    if verb == "CHECKOUT":
        return operations.check_out(session, org, guide, departure, command.rest, now)
    return voice._(HELP)
