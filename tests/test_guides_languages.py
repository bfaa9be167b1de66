"""Guides keep their commands in any language, and each command has its Portuguese,
Spanish, French and German words (bot/guides.SYNONYMS), through the signed webhook from a
guide's phone: a whole trip in each language, the incident's severity and its resolution
read from the guide's own words; and a guide with languages is answered in the first
(services.i18n.guide_voice), English otherwise, and so are the messages the guide gets
unasked: a trip offered, released, cancelled, ops' updates."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Departure, Guide, Incident, Organization, utcnow
from services import assignments, cancellations, incidents
from services.catalog_schema import GuideIn
from services.i18n import guide_voice
from services.payments import StripeAccount
from tests.chat import Chat
from tests.conftest import import_org
from tests.factories import catalog_data, departure
from tests.languages import english_in, spoken_in
from tests.test_guides import OPS, app, last_id, rajesh, sent_to  # noqa: F401 (fixtures)

TRIPS = {
    "pt": (
        "chegada EBCSOON",
        "PROBLEMA um cliente caiu e torceu o tornozelo",
        "atualização cliente com gelo no pé, tudo resolvido",
        "Lista hoje",
        "FIM todos bem, grande dia",
    ),
    "es": (
        "Llegada EBCSOON",
        "incidencia un cliente se cayó y le sangra la rodilla",
        "actualizacion ya está resuelto, seguimos",
        "lista hoy",
        "fin del tour EBCSOON todos bien",
    ),
    "fr": (
        "ARRIVÉE EBCSOON",
        "Problème : un client a fait une chute, il saigne",
        "mise à jour tout va bien, c'est réglé",
        "liste aujourd'hui",
        "terminé EBCSOON tout le monde est rentré",
    ),
    "de": (
        "Ankunft EBCSOON",
        "Vorfall: ein Gast ist gestürzt, Knöchel verstaucht",
        "Nachtrag alles gut, gelöst",
        "Teilnehmerliste heute",
        "Ende EBCSOON alle wohlauf",
    ),
}


@pytest.mark.parametrize("language", sorted(TRIPS))
def test_a_whole_trip_with_the_commands_in_the_guides_language(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
    language: str,
) -> None:
    checkin, issue, update, manifest, checkout = TRIPS[language]
    assert "Checked in" in rajesh.say(checkin)
    with factory() as s:
        assert s.scalar(select(Departure.status).where(Departure.code == "EBCSOON")) == "started"
    reported = rajesh.say(issue)
    number = re.search(r"INC-\d+", reported).group(0)  # type: ignore[union-attr]
    assert "Severity: High" in reported
    assert any(number in b and "HIGH" in b for b in sent_to(rajesh, OPS))
    assert "Resolved" in rajesh.say(update)
    assert rajesh.say(manifest).startswith("MANIFEST EBCSOON")
    assert "Payroll" in rajesh.say(checkout)
    with factory() as s:
        incident = s.scalars(select(Incident)).one()
        assert (incident.status, incident.severity) == ("resolved", "high")
        assert {b.status for b in s.scalars(select(Booking))} == {"completed"}


@pytest.mark.parametrize("words", ["ajuda", "AYUDA", "aide", "Hilfe", "olá, bom dia"])
def test_anything_else_from_a_guide_gets_the_commands(
    rajesh: Chat,  # noqa: F811
    words: str,
) -> None:
    assert "CHECKIN" in rajesh.say(words)


def test_a_customer_typing_a_guides_word_gets_nothing_from_it(
    client,  # type: ignore[no-untyped-def]
    factory: sessionmaker[Session],
) -> None:
    customer = Chat(client, factory, phone="+351912345600", name="Rui")
    customer.say("chegada EBCSOON")
    with factory() as s:
        assert s.scalar(select(Departure.status).where(Departure.code == "EBCSOON")) != "started"


HELP_WORD = {"pt": "ajuda", "es": "ayuda", "fr": "aide", "de": "Hilfe"}


def _speaks(factory: sessionmaker[Session], phone: str, languages: list[str]) -> None:
    with factory() as s:
        s.execute(update(Guide).where(Guide.phone == phone).values(languages=languages))
        s.commit()


@pytest.mark.parametrize("language", sorted(TRIPS))
def test_a_guide_is_answered_in_their_first_language(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
    language: str,
) -> None:
    """Confirmations and refusals alike, through gettext in the guide's language."""
    _speaks(factory, rajesh.phone, [language, "en"])
    checkin, issue, update_, manifest, checkout = TRIPS[language]
    replies = [
        rajesh.say(HELP_WORD[language]),
        rajesh.say(checkin),
        rajesh.say(checkin),  # again: already checked in
        rajesh.say(issue),
        rajesh.say(update_),
        rajesh.say(checkout),
        rajesh.say("CHECKIN EBCLATER"),  # not theirs
        rajesh.say("CHECKIN XYZ999"),  # no such departure
        rajesh.say(checkin),  # the trip is over
    ]
    for reply in replies:
        assert english_in(reply) == [] and spoken_in(reply, language), reply
    assert "completed" not in replies[8] and "EBCSOON" in replies[8], replies[8]
    assert "CHECKIN" in replies[0] and "EBCLATER" in replies[6] and "XYZ999" in replies[7]
    listed = rajesh.say(manifest)  # after the trip: nobody left on it
    assert listed.startswith("MANIFEST EBCSOON") and english_in(listed) == [], listed
    assert "No guests booked" not in listed
    with factory() as s:
        assert s.scalar(select(Departure.status).where(Departure.code == "EBCSOON")) == "completed"


def test_a_guide_without_a_language_the_product_speaks_is_answered_in_english(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
) -> None:
    _speaks(factory, rajesh.phone, ["ne", "hi"])
    assert "Checked in" in rajesh.say("chegada EBCSOON")
    assert "is not assigned to you" in rajesh.say("CHECKIN EBCLATER")


def test_the_catalog_gives_a_guide_languages_it_knows() -> None:
    guide = GuideIn(name="Ana", phone="+351912345699", languages=["PT", "en"])
    assert guide.languages == ["pt", "en"]
    with pytest.raises(ValidationError):
        GuideIn(name="Ana", phone="+351912345699", languages=["klingon"])
    with pytest.raises(ValidationError, match="pt is listed twice"):
        GuideIn(name="Ana", phone="+351912345699", languages=["pt", "en", "PT"])


@pytest.mark.parametrize("language", sorted(TRIPS))
def test_what_ops_send_a_guide_is_in_their_language(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
    language: str,
) -> None:
    """An incident's update from ops and being released from a trip, in the guide's words
    (ops' own words kept as written)."""
    _speaks(factory, rajesh.phone, [language])
    rajesh.say(TRIPS[language][1])  # an issue reported
    mark = last_id(factory)
    with factory() as s:
        org = s.scalar(select(Organization))
        incident = s.scalars(select(Incident)).one()
        assert org is not None
        incidents.ops_update(s, org, incident, "Ambulance on its way", utcnow())
        released = assignments.release_guide(
            s, org, departure(s, org, "EBCSOON"), utcnow(), reason="weather"
        )
        assert released is not None
        s.commit()
    told = sent_to(rajesh, rajesh.phone, mark)
    assert len(told) == 2 and "Ambulance on its way" in told[0] and "weather" in told[1], told
    for body in told:
        assert english_in(body) == [] and spoken_in(body, language), body


OFFERED = {
    "pt": "Proposta de passeio",
    "es": "Oferta de tour",
    "fr": "Proposition de sortie",
    "de": "Tourangebot",
}
ACCEPT_WORD = {"pt": "aceito", "es": "acepto", "fr": "accepte", "de": "annehmen"}


@pytest.mark.parametrize("language", sorted(TRIPS))
def test_a_trip_offered_to_a_guide_is_in_their_language_and_taken_in_it(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
    language: str,
) -> None:
    """Ops offer a trip: the guide reads it in their language, the start and the fee in
    its words (Babel, the organization's zone), and takes it with their word for ACCEPT
    through the webhook, answered in that language."""
    _speaks(factory, rajesh.phone, [language, "en"])
    mark = last_id(factory)
    with factory() as s:
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide).where(Guide.phone == rajesh.phone))
        assert org is not None and guide is not None
        dep = departure(s, org, "EBCNEXT")
        assignments.offer_assignment(s, org, dep, guide, utcnow())
        voice = guide_voice(org, guide)
        when, fee = voice.when(dep.starts_at), voice.money(guide.trip_fee_minor, org.currency)
        english = guide_voice(org, guide, "en").when(dep.starts_at)
        s.commit()
    (offer,) = sent_to(rajesh, rajesh.phone, mark)
    assert english_in(offer) == [] and spoken_in(offer, language), offer
    assert offer.startswith(f"📋 {OFFERED[language]}\nEverest Base Camp Trek (EBCNEXT)"), offer
    assert when in offer and english not in offer and fee in offer, offer
    assert "ACCEPT EBCNEXT" in offer and "DECLINE EBCNEXT" in offer
    taken = rajesh.say(f"{ACCEPT_WORD[language]} EBCNEXT")
    assert english_in(taken) == [] and spoken_in(taken, language) and when in taken, taken
    with factory() as s:
        assert s.scalar(select(Departure.guide_id).where(Departure.code == "EBCNEXT")) == guide.id


@pytest.mark.parametrize("language", sorted(TRIPS))
def test_a_guide_is_told_their_trip_is_cancelled_in_their_language(
    rajesh: Chat,  # noqa: F811
    factory: sessionmaker[Session],
    language: str,
) -> None:
    _speaks(factory, rajesh.phone, [language])
    mark = last_id(factory)
    with factory() as s:
        org = s.scalar(select(Organization))
        assert org is not None
        cancellations.cancel_departure(
            s, org, departure(s, org, "EBCSOON"), "landslide", utcnow(), stripe=StripeAccount(None)
        )
        s.commit()
    (told,) = sent_to(rajesh, rajesh.phone, mark)
    assert english_in(told) == [] and spoken_in(told, language), told
    assert "EBCSOON" in told and "landslide" in told


def test_a_catalog_without_a_guides_languages_keeps_those_set_in_the_admin(
    session: Session,
) -> None:
    data = catalog_data()
    import_org(session, **data)
    phone = data["guides"][0]["phone"]
    session.execute(update(Guide).where(Guide.phone == phone).values(languages=["pt", "en"]))
    session.commit()
    import_org(session, **data)  # the same file again: no `languages` for the guide
    assert session.scalar(select(Guide.languages).where(Guide.phone == phone)) == ["pt", "en"]
    data["guides"][0]["languages"] = ["de"]  # the file says: the file wins
    import_org(session, **data)
    assert session.scalar(select(Guide.languages).where(Guide.phone == phone)) == ["de"]
