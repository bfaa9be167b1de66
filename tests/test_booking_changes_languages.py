"""Changes to a booking the customer already has, asked in Portuguese, Spanish, French and
German the way customers type on phones (no accents, no capitals, slips): one more person,
one fewer, "three instead of four", another date, the balance, a receipt, an invoice and
cancelling; through the signed webhook, every reply in the customer's language
(tests/languages.py), and each change made only on their yes."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot import booking_phrasings
from models import Booking, Organization, Task
from services import bookings, language
from tests.test_conversations import KTM, day
from tests.test_language_journeys import SCRIPTS, app, speaker, written  # noqa: F401 (fixture)


@dataclass(frozen=True)
class Changes:
    """What a customer of that language writes to change their booking ({ref}, {when})."""

    add: str
    remove: str
    instead: str  # three instead of four
    move: str
    cancel: str
    balance: str
    receipt: str
    invoice: str


CHANGES = {
    "pt": Changes(
        add="da pra acrescentar mais 1 pessoa na reserva {ref}?",
        remove="afinal somos menos um, o meu primo ja nao vem",
        instead="vamos ser 3 em vez de 4",
        move="da para mudar a data para {when}?",
        cancel="quero cancelar a reserva pf",
        balance="ola como pago o resto??",
        receipt="pode mandar o recibo do pagamento",
        invoice="preciso de fatura com nif",
    ),
    "es": Changes(
        add="se puede anadir una persona mas a mi reserva {ref}",
        remove="al final somos uno menos, mi primo no puede venir",
        instead="seremos 3 en vez de 4",
        move="podemos cambiar la fecha al {when}?",
        cancel="kiero cancelar la reserva",
        balance="como pago lo que falta",
        receipt="me mandas el recibo porfa",
        invoice="necesito factura a nombre de la empresa",
    ),
    "fr": Changes(
        add="est ce qu on peut rajouter une personne a la resa {ref}",
        remove="finalement on sera une personne de moins",
        instead="on sera trois au lieu de quatre",
        move="c possible de decaler {when} ?",
        cancel="annulez ma resa svp",
        balance="comment je regle le solde",
        receipt="je peux avoir un recu svp",
        invoice="il me faut une facture pour ma boite",
    ),
    "de": Changes(
        add="koennen wir noch eine person zur buchung {ref} dazunehmen?",
        remove="wir sind doch einer weniger, mein cousin kann nicht",
        instead="wir kommen zu dritt statt zu viert",
        move="koennen wir auf {when} verschieben?",
        cancel="bitte stornieren",
        balance="wie zahle ich den rest",
        receipt="kann ich eine quittung bekommen",
        invoice="ich brauche eine rechnung fuer die firma",
    ),
}
YES = {"pt": "sim pode ser", "es": "si vale", "fr": "oui d'accord", "de": "ja passt"}


def _booking(factory: sessionmaker[Session], ref: str) -> Booking:
    with factory() as s:
        booking = s.scalar(
            select(Booking).where(Booking.reference == ref).options(joinedload(Booking.departure))
        )
        assert booking is not None
        s.expunge_all()
        return booking


@pytest.mark.parametrize("language", sorted(CHANGES))
def test_more_fewer_instead_another_date_and_cancel(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    script, words = SCRIPTS[language], CHANGES[language]
    chat = speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    chat.say("1")
    ref = re.search(r"BK-[A-Z0-9]{5}", chat.say(script.yes)).group(0)  # type: ignore[union-attr]
    assert _booking(factory, ref).party == {"adult": 2, "child": 2}

    asked = chat.say(words.add.format(ref=ref))
    assert ref in asked, asked
    assert _booking(factory, ref).party == {"adult": 2, "child": 2}  # not before the yes
    chat.say(YES[language])
    assert _booking(factory, ref).party == {"adult": 3, "child": 2}

    assert ref in chat.say(words.remove)
    chat.say(YES[language])
    assert _booking(factory, ref).party == {"adult": 2, "child": 2}

    assert ref in chat.say(words.instead)
    chat.say(YES[language])
    assert _booking(factory, ref).seats == 3

    when = day(9)
    assert ref in chat.say(words.move.format(when=written(when, language)))
    chat.say(YES[language])
    booking = _booking(factory, ref)
    assert booking.departure.starts_at.astimezone(KTM).date() == when

    assert ref in chat.say(words.cancel)
    chat.say(YES[language])
    assert _booking(factory, ref).status == "cancelled"


@pytest.mark.parametrize("language", sorted(CHANGES))
def test_the_balance_a_receipt_and_an_invoice(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    script, words = SCRIPTS[language], CHANGES[language]
    chat = speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    chat.say("1")
    ref = re.search(r"BK-[A-Z0-9]{5}", chat.say(script.yes)).group(0)  # type: ignore[union-attr]
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert org is not None and booking is not None
        booking.paid_minor = booking.deposit_minor
        bookings.confirm_booking(s, org, booking, booking.created_at)
        s.commit()
        deposit, total = booking.deposit_minor, booking.total_minor
    assert 0 < deposit < total

    balance = chat.say(words.balance)
    assert ref in balance and f"/pay/{ref}" in balance, balance
    receipt = chat.say(words.receipt)
    assert ref in receipt and f"/pay/{ref}" in receipt, receipt
    chat.say(words.invoice)
    with factory() as s:
        task = s.scalar(select(Task).where(Task.kind == "invoice"))
        assert task is not None and ref in task.title


# The new total said plainly beside who comes ("wir sind doch 5 Personen, meine Schwester
# kommt mit"): found chatting in German, where the 5 was added to the booking's party.
TOTAL_AND_WHO = {
    "pt": "na verdade somos 5, a minha irma vem tambem",
    "es": "en realidad somos 5, mi hermana viene tambien",
    "fr": "en fait on est 5, ma soeur vient aussi",
    "de": "ach, wir sind doch 5 Personen, meine Schwester kommt mit",
}


@pytest.mark.parametrize("language", sorted(TOTAL_AND_WHO))
def test_a_new_total_said_with_who_comes_is_the_total_not_added(
    client: FlaskClient, factory: sessionmaker[Session], language: str
) -> None:
    script = SCRIPTS[language]
    chat = speaker(client, factory, language)
    chat.say(script.search.format(when=written(day(6), language)))
    chat.say("1")
    ref = re.search(r"BK-[A-Z0-9]{5}", chat.say(script.yes)).group(0)  # type: ignore[union-attr]
    assert _booking(factory, ref).party == {"adult": 2, "child": 2}
    asked = chat.say(TOTAL_AND_WHO[language])
    assert ref in asked, asked
    chat.say(YES[language])
    assert _booking(factory, ref).party == {"adult": 3, "child": 2}


@pytest.mark.parametrize(
    ("language", "text", "kind", "count"),
    [
        ("pt", "conseguem por mais duas pessoas na minha reserva", "add", 2),
        ("pt", "a minha sogra ja nao vem", "remove", 1),
        ("pt", "tirar 2 criancas da reserva", "remove", 2),
        ("pt", "afinal seremos 5", "party", 5),
        ("pt", "quanto falta pagar?", "balance", None),
        ("pt", "mais uma pergunta: ha casas de banho?", None, None),
        ("pt", "da para tirar fotos no barco?", None, None),
        ("es", "mi novia tambien viene, se puede?", "add", 1),
        ("es", "somos dos menos", "remove", 2),
        ("es", "cambiamos al domingo?", "move", None),
        ("es", "podemos pasarla al domingo", "move", None),
        ("es", "el almuerzo esta incluido?", None, None),
        ("fr", "2 enfants de plus svp", "add", 2),
        ("fr", "ma copine ne peut plus venir", "remove", 1),
        ("fr", "nous serons 4", "party", 4),
        ("fr", "j'ai bien recu le lien merci", None, None),
        ("fr", "ca fait combien en plus?", None, None),
        ("de", "meine frau kommt auch mit", "add", 1),
        ("de", "wir kommen zu zweit statt zu dritt", "party", 2),
        ("de", "koennen wir den termin aendern", "move", None),
        ("de", "was schulde ich noch", "balance", None),
        ("de", "ist das essen inklusive?", None, None),
        ("de", "wir muessen stornieren, mein mann kann nicht", None, None),  # all of it
        ("pt", "temos de cancelar 1 pessoa, a minha mulher nao pode vir", "remove", 1),
        # A new total beside who comes: the total (the count is not added to the party).
        ("fr", "en fait on sera 4, mon frere vient aussi", "party", 4),
        ("pt", "afinal vamos ser 4, o meu irmao tambem vem", "party", 4),
        ("es", "al final seremos 4, viene mi hermano tambien", "party", 4),
        ("de", "wir sind jetzt zu viert, mein bruder kommt auch mit", "party", 4),
        ("pt", "somos 3 agora, o meu primo vem tambem", "party", 3),
        ("es", "somos 3, viene mi primo tambien", "party", 3),
        ("fr", "nous sommes 3, mon cousin vient aussi", "party", 3),
        ("de", "wir sind 3, mein Cousin kommt auch mit", "party", 3),
    ],
)
def test_each_languages_phrasings(
    language: str, text: str, kind: str | None, count: int | None
) -> None:
    assert booking_phrasings.request_kind(text, language) == kind
    if kind in ("add", "remove"):
        assert booking_phrasings.how_many(text, kind, language)[1] == count
    elif kind == "party":
        assert booking_phrasings.new_count(text, language) == count


@pytest.mark.parametrize(
    ("text", "known", "unknown"),
    [
        # lingua alone said English (0.93), German (0.75), Spanish ("vamos" was Spanish only);
        # "le" and "décembre" are two words of French only: French, by its words
        ("c possible de decaler le 15 décembre ?", "fr", "fr"),
        ("comment je regle le solde", "fr", "fr"),
        ("vamos ser 3 em vez de 4", None, "pt"),
        ("can we speak english", "en", "en"),
        ("obrigado! how much for the sunset tour?", "en", "en"),
    ],
)
def test_a_customers_language_is_not_switched_on_lingua_alone(
    text: str, known: str | None, unknown: str | None
) -> None:
    assert language.detect(text, known=True) == known
    assert language.detect(text, known=False) == unknown
