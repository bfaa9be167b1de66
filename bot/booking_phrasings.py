"""What a customer asks of a booking they already have, in Portuguese, Spanish, French and
German: one table per language of the phrasings of each request (bot/booking_words.py
names the requests and reads English), and the reading of a message in any language.

Words are compared without accents and cut to their Snowball stem, as the knowledge words
are (services/knowledge_words.py), so "adicionar"/"adiciona", "añadir"/"anadir" and
"décaler"/"decaler" meet. A phrasing is a run of words: each of its words in the message,
in that order, at most two words apart ("pagar resto" is in "como pago o resto?"). "#"
stands for a count, in digits or words ("mais # pessoa": "mais 2 pessoas", "mais uma
pessoa"; "zu dritt" is 3), and has no word between it and its neighbours ("somos #" is
not "somos menos um")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from bot import booking_words
from bot.booking_words import ADD, BALANCE, INVOICE, MOVE, PARTY, RECEIPT, REMOVE
from intents.entities.foreign import WORDS
from services.knowledge import plain, snowball_stem

NUMBER = "#"


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("|") if p.strip())


# Each language's phrasings of each request. Read in this order: an invoice or a receipt
# first (named outright), then fewer and more people, a new count, another date, the
# balance. ADD and REMOVE also need someone named (WHO) unless the phrasing counts ("# menos").
REQUESTS: dict[str, dict[str, tuple[str, ...]]] = {
    "pt": {
        INVOICE: _split("fatura|factura|nif|numero de contribuinte|nipc"),
        RECEIPT: _split("recibo|comprovativo|comprovante"),
        REMOVE: _split(
            "# a menos|# menos|menos #|# pessoa a menos|tirar|retirar|remover|ja nao vem|"
            "nao vem|nao pode vir|nao vai poder|nao vai vir|desistiu|"
            "cancelar # pessoa|cancelar # lugar"
        ),
        ADD: _split(
            "adicionar|acrescentar|juntar|mais # pessoa|mais # adulto|mais # crianca|"
            "mais # lugar|# pessoa a mais|# pessoa extra|pessoa extra|lugar extra|"
            "vem tambem|tambem vem|pode vir tambem|vir connosco|trazer mais|levar mais"
        ),
        PARTY: _split(
            "# em vez de|# em vez dos|# em vez das|somos # agora|agora somos #|vamos ser #|"
            "seremos #|passamos a ser #|afinal somos #|so vamos ser #|mudar para # pessoa|"
            "alterar para # pessoa|somos #|na verdade somos #|afinal vamos ser #"
        ),
        MOVE: _split(
            "mudar data|alterar data|trocar data|mudar dia|alterar dia|trocar dia|"
            "mudar reserva|alterar reserva|mudar para|passar para|outro dia|outra data|"
            "adiar|remarcar|reagendar|antecipar"
        ),
        BALANCE: _split(
            "pagar resto|pagar restante|pagar o que falta|falta pagar|quanto falta|"
            "quanto devo|saldo|valor em falta|valor em divida|resto do pagamento|"
            "resto do valor"
        ),
    },
    "es": {
        INVOICE: _split("factura|fra|cif|nif|a nombre de la empresa"),
        RECEIPT: _split("recibo|comprobante|justificante|ticket de pago"),
        REMOVE: _split(
            "# menos|menos #|# persona menos|quitar|eliminar|sacar|no puede venir|"
            "no podra venir|no viene|no va a venir|ya no viene|cancelar # persona|"
            "cancelar # plaza"
        ),
        ADD: _split(
            "anadir|agregar|sumar|# persona mas|# adulto mas|# nino mas|mas # persona|"
            "# mas|persona extra|plaza extra|tambien viene|puede venir tambien|"
            "venir con nosotros|traer a"
        ),
        PARTY: _split(
            "# en vez de|# en lugar de|seremos #|somos # ahora|ahora somos #|vamos a ser #|"
            "al final somos #|cambiar a # persona|solo seremos #|somos #|en realidad somos #|"
            "al final seremos #"
        ),
        MOVE: _split(
            "cambiar fecha|cambiar dia|cambiar reserva|mover reserva|cambiar a|cambiar al|"
            "pasar al|pasarla al|otro dia|otra fecha|aplazar|posponer|adelantar|retrasar|"
            "reprogramar"
        ),
        BALANCE: _split(
            "pagar resto|pagar lo que falta|lo que falta por pagar|falta por pagar|"
            "pagar lo que queda|lo que queda por pagar|cuanto debo|cuanto falta|saldo|"
            "importe pendiente|pago pendiente|pagar la diferencia"
        ),
    },
    "fr": {
        INVOICE: _split("facture|facturation|siret|tva intracommunautaire"),
        RECEIPT: _split(
            "# recu|le recu|mon recu|recu de paiement|justificatif|preuve de paiement|"
            "attestation de paiement|quittance"
        ),
        REMOVE: _split(
            "# de moins|# personne de moins|personne de moins|moins #|enlever|retirer|"
            "ne peut pas venir|ne peut plus venir|peut pas venir|peut plus venir|"
            "ne vient plus|vient plus|viendra pas|annuler # personne|annuler # place|"
            "supprimer # personne"
        ),
        ADD: _split(
            "ajouter|rajouter|# personne de plus|# de plus|# adulte de plus|"
            "# enfant de plus|# personne en plus|# en plus|personne supplementaire|"
            "place supplementaire|vient aussi|venir avec nous|amener"
        ),
        PARTY: _split(
            "# au lieu de|# au lieu des|on sera #|nous serons #|on est # maintenant|"
            "maintenant on est #|on ne sera que #|nous ne serons que #|finalement on sera #|"
            "on est #|nous sommes #|en fait on est #|on sera finalement #"
        ),
        MOVE: _split(
            "changer date|changer jour|changer de jour|changer reservation|changer resa|"
            "modifier date|decaler|reporter|deplacer|avancer|autre jour|autre date|passer au"
        ),
        BALANCE: _split(
            "payer reste|regler reste|regler solde|payer solde|le solde|reste a payer|"
            "ce que je dois|combien je dois|combien reste|montant restant|reliquat"
        ),
    },
    "de": {
        INVOICE: _split("rechnung|rechnungen|ust id|umsatzsteuer|firmenrechnung"),
        RECEIPT: _split(
            "quittung|beleg|zahlungsbeleg|zahlungsbestatigung|zahlungsnachweis|kassenbon"
        ),
        REMOVE: _split(
            "# weniger|# person weniger|weniger #|kann nicht|kann doch nicht|kommt nicht|"
            "kommt doch nicht|nicht mitkommen|nicht dabei|streichen|entfernen|abmelden|"
            "absagen # person|stornieren # person"
        ),
        ADD: _split(
            "dazunehmen|hinzufugen|dazubuchen|nachbuchen|# person mehr|# mehr|"
            "noch # person|noch # erwachsene|noch # kind|weitere person|zusatzliche person|"
            "kommt auch mit|kommt mit|mitnehmen|mitbringen"
        ),
        PARTY: _split(
            "# statt|# anstatt|wir sind jetzt #|jetzt sind wir #|wir sind nur noch #|"
            "nur noch #|wir werden # sein|wir kommen zu #|doch zu #|wir sind jetzt zu #|"
            "jetzt sind wir zu #|wir sind zu #|wir sind #|wir sind doch #|sind doch #|"
            "wir sind eigentlich #|wir sind also #"
        ),
        MOVE: _split(
            "verschieben|umbuchen|datum andern|termin andern|tag andern|anderen tag|"
            "anderes datum|anderen termin|vorverlegen|verlegen|umlegen"
        ),
        BALANCE: _split(
            "rest zahlen|zahle rest|zahlen rest|rest bezahlen|rest uberweisen|restbetrag|"
            "restzahlung|restsumme|offenen betrag|offener betrag|schulde|noch zu zahlen|"
            "noch offen|saldo"
        ),
    },
}

# Cancelling: "we have to cancel, my wife can't come" is the whole booking, unless a count
# says otherwise ("cancelar 1 pessoa").
CANCEL: dict[str, str] = {
    "pt": "cancelar cancelamento anular desmarcar",
    "es": "cancelar cancelacion anular",
    "fr": "annuler annulation annulez",
    "de": "stornieren storniere storno stornierung absagen",
}

# Who may be added or removed: people, companions, places.
WHO: dict[str, str] = {
    "pt": """pessoa pessoas adulto adultos crianca criancas filho filha amigo amiga marido
        mulher esposa namorado namorada mae pai irmao irma primo prima sogra sogro avo tio
        tia colega bebe lugar lugares bilhete""",
    "es": """persona personas adulto adultos nino nina ninos hijo hija amigo amiga marido
        mujer esposa esposo novio novia madre padre mama papa hermano hermana primo prima
        suegra suegro abuela abuelo tio tia companero companera bebe plaza plazas sitio""",
    "fr": """personne personnes adulte adultes enfant enfants fils fille ami amie copain
        copine mari femme epouse mere pere frere soeur cousin cousine oncle tante collegue
        bebe place places billet""",
    "de": """person personen erwachsene erwachsener kind kinder sohn tochter freund freundin
        mann frau ehemann partner partnerin mutter vater mama papa bruder schwester cousin
        cousine oma opa onkel tante kollege kollegin baby platz platze ticket""",
}

# Counts the number words of the entity extractors leave out: "zu dritt" (three of us).
_MORE_NUMBERS = {"de": {"zweit": 2, "dritt": 3, "viert": 4, "funft": 5, "fuenft": 5, "sechst": 6}}
_WORD = re.compile(rf"[^\W_]+|{NUMBER}")
_MAX_GAP = 2


@dataclass(frozen=True)
class Token:
    text: str  # a stem, or NUMBER
    count: int | None = None


@cache
def _numbers(language: str) -> dict[str, int]:
    words = {plain(w.lower()): n for w, n in WORDS[language].numbers.items()}
    return {**words, **_MORE_NUMBERS.get(language, {})}


def tokens(text: str, language: str) -> list[Token]:
    """The message's words as stems, its counts as NUMBER with their value."""
    numbers = _numbers(language)
    out = []
    for word in _WORD.findall(plain(text.lower())):
        if word == NUMBER:  # in a phrasing: any count
            out.append(Token(NUMBER))
        elif word.isdigit():
            out.append(Token(NUMBER, int(word)) if len(word) <= 3 else Token(word))
        elif word in numbers:
            out.append(Token(NUMBER, numbers[word]))
        else:
            out.append(Token(snowball_stem(word, language)))
    return out


@cache
def _phrasings(language: str, kind: str) -> tuple[tuple[str, ...], ...]:
    return tuple(
        tuple(t.text for t in tokens(phrase, language)) for phrase in REQUESTS[language][kind]
    )


@cache
def _cancel(language: str) -> frozenset[str]:
    return frozenset(t.text for t in tokens(CANCEL[language], language))


@cache
def _who(language: str) -> frozenset[str]:
    return frozenset(t.text for t in tokens(WHO[language], language))


def _find(phrase: tuple[str, ...], words: list[Token]) -> list[int] | None:
    """The positions of the phrase's words in the message, in order (the gaps allowed:
    the module's docstring)."""
    for start in range(len(words)):
        found = _found_at(phrase, words, start)
        if found is not None:
            return found
    return None


def _found_at(phrase: tuple[str, ...], words: list[Token], at: int) -> list[int] | None:
    if at >= len(words) or words[at].text != phrase[0]:
        return None
    if len(phrase) == 1:
        return [at]
    gap = 0 if NUMBER in phrase[:2] else _MAX_GAP
    for following in range(at + 1, min(at + 2 + gap, len(words))):
        rest = _found_at(phrase[1:], words, following)
        if rest is not None:
            return [at, *rest]
    return None


@dataclass(frozen=True)
class Request:
    kind: str
    count: int | None  # the count the phrasing holds ("mais 2 pessoas", "3 em vez de 4")


def read(text: str, language: str) -> Request | None:
    """The request the message makes in the language's words, if any."""
    if language not in REQUESTS:
        return None
    words = tokens(text, language)
    said = {w.text for w in words}
    named = bool(_who(language) & said)
    cancels = bool(_cancel(language) & said)
    first: Request | None = None
    for kind in REQUESTS[language]:
        for phrase in _phrasings(language, kind):
            found = _find(phrase, words)
            if found is None:
                continue
            counts = [words[i].count for i in found if words[i].count is not None]
            if kind in (ADD, REMOVE) and not counts and not named:
                continue  # "tirar uma foto?": nobody is added or removed
            if kind == REMOVE and not counts and cancels:
                continue  # "temos de cancelar, a minha mulher nao pode vir": all of it
            if kind == PARTY and not counts:
                continue
            found_request = Request(kind, counts[0] if counts else None)
            if kind not in (ADD, REMOVE) or found_request.count is not None:
                return found_request
            # "on sera 4, mon frère vient aussi": someone comes, and the new total is said;
            # the total is what they want (a count of their own, "1 de plus", wins).
            first = first or found_request
            break
    return first


# --- the reading of a message in any language (English: bot/booking_words.py) -------------


def request_kind(text: str, language: str | None = None) -> str | None:
    """What the message asks of an existing booking: the language's phrasings first, then
    the English words (customers mix them: "receipt pls")."""
    found = read(text, language or "en")
    return found.kind if found else booking_words.request_kind(text)


def new_count(text: str, language: str | None = None) -> int | None:
    """For PARTY: the number of people the booking should be for."""
    found = read(text, language or "en")
    if found is not None and found.kind == PARTY:
        return found.count
    return booking_words.new_count(text)


def how_many(text: str, kind: str, language: str | None = None) -> tuple[str, int]:
    """For ADD or REMOVE: the tier and the number of people; one adult unless said."""
    found = read(text, language or "en")
    if found is None or found.kind != kind:
        return booking_words.how_many(text, kind)
    children = re.search(rf"\b(?:{WORDS[language or 'en'].children})\b", plain(text), re.I)
    return ("child" if children else "adult"), found.count or _count_of_who(text, language)


def _count_of_who(text: str, language: str | None) -> int:
    """ "retirar 2 pessoas": the count before the people named; else one."""
    words = tokens(text, language or "en")
    who = _who(language or "en")
    for before, word in pairwise(words):
        if before.text == NUMBER and word.text in who and before.count:
            return before.count
    return 1
