"""The conversation journeys (docs/conversations.md) through the signed webhook in
Portuguese, Spanish, French and German, written as customers write them; every reply is
checked to be in the customer's language (tests/languages.py): none of the English
template sentences, and sentences of that language's catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import (
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Lead,
    Organization,
    WaitlistEntry,
    utcnow,
)
from services import bookings
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import hold
from tests.languages import english_in, spoken_in
from tests.test_conversations import KTM, day, live_catalog

MONTHS = {
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}


def written(d: date, language: str) -> str:
    """ "9 de março", "9 de marzo", "9 mars", "9. März"."""
    month = MONTHS[language].split()[d.month - 1]
    return {
        "pt": f"{d.day} de {month}",
        "es": f"el {d.day} de {month}",
        "fr": f"le {d.day} {month}",
        "de": f"am {d.day}. {month}",
    }[language]


@dataclass(frozen=True)
class Script:
    """What a customer of that language writes at each step of the journeys."""

    phone: str
    enquiry: str
    search: str  # "{when}": a written date
    yes: str
    status: str
    pay: str
    person: str
    cancel: str
    full: str  # "{when}", for one person
    thanks: str


SCRIPTS = {
    "pt": Script(
        phone="+351912345678",
        enquiry="Olá! Tenho muito interesse no Everest Base Camp Trek",
        search="olá, há lugar no sunset tour {when}? somos 2 adultos e 2 crianças",
        yes="sim",
        status="como está a minha reserva?",
        pay="como é que pago?",
        person="quero falar com uma pessoa, por favor",
        cancel="preciso de cancelar a minha reserva",
        full="tem vaga no city walk {when} para uma pessoa? só eu",
        thanks="muito obrigado!",
    ),
    "es": Script(
        phone="+34612345678",
        enquiry="¡Hola! Me interesa mucho el Everest Base Camp Trek",
        search="hola, hay sitio en el sunset tour {when}? somos dos adultos y dos niños",
        yes="sí",
        status="cómo está mi reserva?",
        pay="cómo pago?",
        person="quiero hablar con una persona, por favor",
        cancel="necesito cancelar mi reserva",
        full="hay plaza en el city walk {when} para una persona? solo yo",
        thanks="¡muchas gracias!",
    ),
    "fr": Script(
        phone="+33612345678",
        enquiry="Bonjour ! L'Everest Base Camp Trek m'intéresse beaucoup",
        search="bonsoir, de la place sur le sunset tour {when} ? deux adultes et deux enfants",
        yes="oui",
        status="où en est ma réservation ?",
        pay="comment je paie ?",
        person="je voudrais parler à quelqu'un, s'il vous plaît",
        cancel="je dois annuler ma réservation",
        full="il y a de la place au city walk {when} pour une personne ? juste moi",
        thanks="merci beaucoup !",
    ),
    "de": Script(
        phone="+4915112345678",
        enquiry="Hallo! Ich interessiere mich sehr für den Everest Base Camp Trek",
        search="hallo, ist bei der sunset tour {when} noch Platz? zwei Erwachsene und zwei Kinder",
        yes="ja",
        status="wie ist der Stand meiner Buchung?",
        pay="wie kann ich bezahlen?",
        person="ich möchte bitte mit einem Menschen sprechen",
        cancel="ich muss meine Buchung stornieren",
        full="ist beim city walk {when} noch Platz für eine Person? nur ich",
        thanks="vielen Dank!",
    ),
}


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["languages"] = ["en", "pt", "es", "fr", "de"]
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config)


class Speaker(Chat):
    language: str = "en"

    def say(self, text: str) -> str:
        reply = super().say(text)
        assert english_in(reply) == [], f"{text!r} was answered with English: {reply!r}"
        assert spoken_in(reply, self.language), f"{text!r} was answered {reply!r}"
        return reply


def speaker(client: FlaskClient, factory: sessionmaker[Session], language: str) -> Speaker:
    chat = Speaker(client, factory, phone=SCRIPTS[language].phone, name="Cliente")
    chat.language = language
    return chat


LANGUAGES = sorted(SCRIPTS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_enquiry_search_quote_hold_status_payment_and_handoff(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    enquiry = chat.say(script.enquiry)
    assert re.search(r"LD-[A-Z0-9]{5}", enquiry) and "Everest Base Camp Trek" in enquiry
    with factory() as s:
        assert s.scalar(select(Customer.language).where(Customer.phone == chat.phone)) == language
        assert s.scalar(select(Lead.tour_id)) is not None

    when = day(6)
    listed = chat.say(script.search.format(when=written(when, language)))
    assert "1) Sunset Tour" in listed, listed
    quote = chat.say("1")
    assert re.search(r"\b4\b", quote), quote
    held = chat.say(script.yes)
    ref = re.search(r"BK-[A-Z0-9]{5}", held).group(0)  # type: ignore[union-attr]
    assert f"{BASE_URL}/pay/{ref}" in held
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert booking is not None
        assert (booking.status, booking.party) == ("held", {"adult": 2, "child": 2})
        assert booking.departure.starts_at.astimezone(KTM).date() == when
    assert ref in chat.say(script.status)
    assert f"/pay/{ref}" in chat.say(script.pay)

    chat.say(script.person)
    with factory() as s:
        conv = s.scalar(select(Conversation))
        assert conv is not None and conv.handoff


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancel_asks_first_then_cancels(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    chat.say("1")
    ref = re.search(r"BK-[A-Z0-9]{5}", chat.say(script.yes)).group(0)  # type: ignore[union-attr]
    asked = chat.say(script.cancel)
    assert ref in asked
    chat.say(script.yes)
    with factory() as s:
        assert s.scalar(select(Booking.status).where(Booking.reference == ref)) == "cancelled"
    chat.say(script.thanks)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_full_departure_offers_the_waitlist(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        assert org is not None
        hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        s.commit()
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    offered = chat.say(script.full.format(when=written(day(3), language)))
    assert "2)" in offered
    chat.say("2")
    with factory() as s:
        entry = s.scalar(select(WaitlistEntry))
        assert entry is not None and (entry.seats, entry.departure.code) == (1, "CITY3")


CONFIRM = {"pt": "CONFIRMAR", "es": "confirmar", "fr": "Confirmer", "de": "BESTÄTIGEN"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_seat_frees_up_the_offer_is_in_the_language_and_its_word_takes_it(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    """Journey 5: the waitlist offer in the customer's language, taken with the word it
    asks for (CONFIRMAR, CONFIRMER, BESTÄTIGEN)."""
    with factory() as s:
        org = s.scalar(select(Organization))
        assert org is not None
        blocker = hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        bookings.confirm_booking(s, org, blocker, utcnow())
        s.commit()
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    chat.say(script.full.format(when=written(day(3), language)))
    chat.say("2")
    with factory() as s:
        org = s.scalar(select(Organization))
        assert org is not None
        bookings.cancel_and_free_seats(
            s, org, s.get(Booking, blocker.id), utcnow(), reason="changed plans"
        )
        s.commit()
    [offer] = [m.body for m in chat.outbox() if m.to_phone == chat.phone]
    assert english_in(offer) == [] and spoken_in(offer, language), offer
    assert CONFIRM[language].upper() in offer.upper(), offer
    held = chat.say(CONFIRM[language])
    assert "/pay/BK-" in held
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.customer.has(phone=chat.phone)))
        assert booking is not None and booking.status == BookingStatus.HELD


NONSENSE = {
    "pt": "hmm nao sei bem o que quero lol",
    "es": "jaja no sé, lo que sea",
    "fr": "bof je sais pas trop en fait",
    "de": "hmm keine ahnung eigentlich",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_anything_else_gets_the_menu_and_menu_starts_over(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    """Journey 8, in the customer's language."""
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    chat.say(NONSENSE[language])
    chat.say("MENU")
    with factory() as s:
        conv = s.scalar(select(Conversation))
        assert conv is not None and (conv.state, conv.slots) == ("idle", {})


WHATS_ON = {
    "pt": "olá! o que vocês têm {when}? somos 2",
    "es": "hola q tours tienen {when}? somos dos",
    "fr": "bonjour, vous proposez quoi {when} ? on est deux",
    "de": "hallo, was habt ihr {when}? wir sind zu zweit",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_day_with_no_tour_in_mind_lists_every_tours_departures(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    """tests/test_chat_whats_on.py, in each language."""
    chat = speaker(client, factory, language)
    listed = chat.say(WHATS_ON[language].format(when=written(day(3), language)))
    assert "Old City Walk" in listed and "Sunset Tour" in listed, listed
    assert "98" in listed  # the sunset tour priced for two
    with factory() as s:
        conv = s.scalars(
            select(Conversation).join(Customer).where(Customer.phone == chat.phone)
        ).one()
        assert conv.state == "choosing"


# A quote open (2 adults + 2 children), the party changed in the customer's words.
QUOTE_PARTY = {
    "pt": ("dá pra mudar para 2 adultos e 1 criança?", "1 criança"),
    "es": ("se puede cambiar a 2 adultos y 1 niño?", "1 niño"),
    "fr": ("on peut changer pour 2 adultes et 1 enfant ?", "1 enfant"),
    "de": ("können wir auf 2 Erwachsene und 1 Kind ändern?", "1 Kind"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_party_changed_while_a_price_is_open_is_priced_again(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    """Found chatting: "se puede cambiar a 2 adultos y 1 niño?" read as moving a booking
    ("I can't find an active booking"), in French too; in German only the prices per
    person came back and the old party was asked to be held."""
    script, chat = SCRIPTS[language], speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    assert re.search(r"\b4\b", chat.say("1"))  # the quote, for 4
    words, party = QUOTE_PARTY[language]
    reply = chat.say(words)
    assert party in reply and "× 1" in reply, reply
    with factory() as s:
        conv = s.scalars(select(Conversation)).one()
        assert conv.state in ("confirming", "choosing"), conv.state
        assert (conv.slots or {}).get("party") == {"adult": 2, "child": 1}


SOONEST = {
    "pt": "pode ser a próxima data",
    "es": "vale, la próxima fecha",
    "fr": "on prend la prochaine date",
    "de": "ok dann nehmen wir den nächsten Termin",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_next_date_takes_the_soonest_departure_listed(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    chat = speaker(client, factory, language)
    listed = chat.say(SCRIPTS[language].search.format(when=written(day(3), language)))
    assert "1)" in listed, listed
    quote = chat.say(SOONEST[language])
    assert "156" in quote, quote  # 2 adults and 2 children on the first date listed
    with factory() as s:
        conv = s.scalars(
            select(Conversation).join(Customer).where(Customer.phone == chat.phone)
        ).one()
        assert conv.state == "confirming", (conv.state, quote)


def test_a_greeting_with_a_request_in_it_is_the_request(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """ "bonjour, …" read as a greeting used to answer the menu and drop the tour and party."""
    chat = speaker(client, factory, "fr")
    listed = chat.say("bonjour, sunset tour pour 2 adultes")
    assert "1) Sunset Tour" in listed and "98" in listed, listed


MOTHER_TOO = {
    "pt": "super. o sunset tour {when}, somos 2 adultos e a minha mãe, então 3. quanto custa?",
    "es": "genial. el sunset tour {when}, seremos 2 adultos y mi madre, entonces 3. cuánto es?",
    "fr": "super. le sunset tour {when}, on serait 2 adultes et ma mère, donc 3. c'est combien ?",
    "de": "super. die sunset tour {when}, wir sind 2 Erwachsene und meine Mutter, also 3. was "
    "kostet das?",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_relative_after_the_adults_and_the_total_said_are_counted(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    """Found chatting in French: '2 adultes et ma mère, donc 3' was priced for 2."""
    chat = speaker(client, factory, language)
    reply = chat.say(MOTHER_TOO[language].format(when=written(day(6), language)))
    assert "× 3" in reply and "147" in reply, reply
