"""Which language a customer writes in.

Each inbound message is read by lingua (a detector made for short texts, offline) over the
languages the product speaks; the customer's stored language changes only when a message
clearly says so:

* they ask for a language ("can we speak English?", "em português por favor", "quelqu'un
  parle français ?"): that language, whatever the message is written in;
* a message of three words or more that lingua is sure of, and for a customer whose language
  is known, with a word of that language too or of six words or more: lingua's trigrams take
  accent-less Spanish for Portuguese ("si, ahi estaremos": pt 0.85), and a stored language
  is not to flip on that;
* a short message made only of words that belong to one language ("obrigado", "gracias",
  "d'accord", "danke schön"), except English ones: "yes", "thanks" and "hi" are everyone's.

Anything else ("ok", "2", "👍", "BK-7K3Q9", "sunset tour sat", a name) keeps what is stored.
A customer with nothing stored yet takes what lingua says of a shorter message too.

The detector is built once per process over the five supported languages (never lingua's
seventy-five): a Spanish message to an organization that offers only English and Portuguese
is recognised as Spanish and answered in the fallback, not mistaken for Portuguese. It is
built lazily: an organization with one language never loads it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from intents.entities.foreign import WORDS
from services.i18n import SUPPORTED_LANGUAGES, organization_languages

if TYPE_CHECKING:
    from lingua import LanguageDetector

# Low accuracy mode (trigrams only) needs a tenth of the memory and reads messages of
# three words or more as well as the full models (docs/nlu.md has the figures); the
# shorter messages it misreads are the ones the word lists below decide.
LOW_ACCURACY = True
SURE = 0.7  # lingua's confidence for a message of three words or more to count
SURE_FIRST = 0.5  # for a customer whose language is not known yet
AGREED = 0.4  # when a word of the same language agrees
MIN_WORDS = 3
LONG = 6  # words for lingua alone to change a known customer's language

_ISO = {"en": "ENGLISH", "pt": "PORTUGUESE", "es": "SPANISH", "fr": "FRENCH", "de": "GERMAN"}


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that belong to one language and say so even alone. Words two languages share
# ("no", "ok", "super", "claro", "hola"/"ola" without the accent) are left out on purpose.
_OWN_WORDS: dict[str, frozenset[str]] = {
    "en": _listed(
        "hi hello hey thanks thank thx ty yes yeah yep yup please pls plz bye cheers great "
        "awesome sure cool people tomorrow today tonight morning evening how what when "
        "where much many can could would the and you we our is are book booking "
        "want need price cost cancel cancellation refund agent human confirm decline status "
        "available availability this that these those whats what's there have with "
        "from your my i'm it's anything something"
    ),
    "pt": _listed(
        "olá oi obrigado obrigada obg brigado brigada valeu sim não nao tchau beleza "
        "pessoas pessoa amanhã amanha hoje queria quero quanto custa vocês vcs você "
        "voce bom boa dia tarde noite tudo bem fixe pode certo combinado "
        "crianças criancas criança adultos reserva reservar passeio vaga vagas lugares "
        "obrigadão também tambem então entao muito é levar chover chove chuva preciso pra "
        "vamos "
        # words of the sentence itself, Portuguese only
        "quais qual uma umas uns com isso isto essa esse dinheiro meu minha nossa nosso "
        "são estão fazer depois ainda agora onde posso devolvem"
    ),
    "es": _listed(
        "hola gracias sí vale buenas necesito tenéis teneis hay quedan buenos días dias "
        "adiós adios chao personas persona "
        "mañana hoy quiero quería queria cuánto cuanto cuesta ustedes usted tienen "
        "perfecto genial niños ninos niño adultos reserva reservar plazas plaza "
        "también tambien entonces muchas muchísimas vamos señor mi tardes noches porfa "
        "tarde "
        # words of the sentence itself, Spanish only
        "el los las con pero muy dinero devuelven devolución puedo cuál cuáles dónde "
        "cuándo ahora donde cuando tiene hacer del eso esto nosotros"
    ),
    "fr": _listed(
        "bonjour bonsoir salut merci oui non d'accord daccord ouais parfait génial "
        "personnes personne demain aujourd'hui aujourdhui ce soir combien voudrais "
        "vous nous enfants enfant adultes réserver reserver réservation reservation "
        "places s'il plaît plait svp bisous cordialement beaucoup aussi alors "
        "est-ce je j'ai c'est qu'on peux pouvez comment "
        # words of the sentence itself, French only
        "le les des une est avec pour dans quel quels quelle quelles quand où sont ont "
        "mes notre votre vos il elle ils sur"
    ),
    "de": _listed(
        "hallo moin servus danke dankeschön nein bitte tschüss tschüs tschuss genau "
        "gerne gern personen morgen heute abend wie viel kostet wir ich möchte moechte "
        "kinder kind erwachsene buchen buchung plätze plaetze platz auch dann vielen "
        "guten tag schön schoen alles klar "
        # words of the sentence itself, German only
        "und ist gibt welche welcher welches wann nicht für fuer kann können koennen ein "
        "eine einen zum zur noch oder aber sind haben habt ihr euch uns wo bei von mein "
        "meine"
    ),
}
# Each language's month and weekday names say so too ("décembre", "sonntag"), but not the
# abbreviations ("set", "out", "mar" are words elsewhere).
for _code, _calendar in WORDS.items():
    _OWN_WORDS[_code] |= {
        w.lower() for w in (*_calendar.months, *_calendar.weekdays) if len(w) >= 5 and "-" not in w
    }
_WORD_LANGUAGE: dict[str, str | None] = {}
for _code, _words in _OWN_WORDS.items():
    for _word in _words:
        # A word in two lists belongs to neither.
        _WORD_LANGUAGE[_word] = None if _word in _WORD_LANGUAGE else _code

# Asking for a language: its name in any of the five, with a word for speaking, writing or
# "in", or alone with a question mark.
_NAMES = {
    "en": r"english|ingl[eêé]s|anglais|englisch|inglese",
    "pt": r"portugu[eêé]se?|portugu[eê]s|portugais|portugiesisch",
    "es": r"spanish|espanhol|espa[nñ]ol|castellano|espagnol|spanisch",
    "fr": r"french|franc[eêé]s|fran[cç]ais|franz[oö]e?sisch",
    "de": r"german|alem[aã]o|alem[aá]n|allemand|deutsch",
}
_ASKING = (
    r"speak|talk|write|in|please|pls|"
    r"fala[mrs]?|falar|fale|em|escrever|por favor|"
    r"habla[ns]?|hablar|hable|en|escribir|"
    r"parle[rsz]?|parlez-vous|[eé]crire|s'il|"
    r"sprechen|sprichst|spricht|sprecht|auf|schreiben|bitte"
)
_ASK_RE = {
    code: re.compile(
        rf"(?:\b(?:{_ASKING})\b.{{0,30}}\b(?:{name})\b|\b(?:{name})\b.{{0,20}}\b(?:{_ASKING})\b"
        rf"|^\W*(?:{name})\W*\?\W*$)",
        re.IGNORECASE,
    )
    for code, name in _NAMES.items()
}
_MAX_ASK_WORDS = 9

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# What says nothing about a language: references, links, e-mail addresses, amounts.
_NOISE_RE = re.compile(
    r"https?://\S+|\S+@\S+|\b(?:bk|ld|qt)[\s\-#]?[2-9a-z]{5}\b|\b\d+[\w:./-]*", re.IGNORECASE
)


def words(text: str) -> list[str]:
    """The message's words, lower case, without references, links, numbers and emoji."""
    return _WORD_RE.findall(_NOISE_RE.sub(" ", text).lower().replace("’", "'"))


def asked_for(text: str) -> str | None:
    """The language a message asks to be spoken to in, if it asks for one."""
    if len(text.split()) > _MAX_ASK_WORDS:
        return None
    hits = [code for code, pattern in _ASK_RE.items() if pattern.search(text)]
    return hits[0] if len(hits) == 1 else None


def _by_words(found: list[str]) -> str | None:
    """The one language every known word of a short message belongs to."""
    languages = {_WORD_LANGUAGE.get(w, "?") for w in found} | {
        _WORD_LANGUAGE.get(_plain(w), "?") for w in found
    }
    languages.discard("?")
    if len(languages) == 1 and None not in languages:
        return next(iter(languages))
    return None


@cache
def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


@cache
def detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(
        *(getattr(Language, _ISO[code]) for code in SUPPORTED_LANGUAGES)
    )
    if LOW_ACCURACY:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


def lingua_says(text: str) -> tuple[str, float] | None:
    """lingua's best language for the text and its confidence."""
    values = detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), best.value


def detect(text: str, *, known: bool = True) -> str | None:
    """The language the message is clearly written in, or None when it does not say.
    known: whether the customer already has a language (then a short message must be made
    of words of one language to change it)."""
    found = words(text)
    if not found:
        return None
    if len(found) < MIN_WORDS:
        by_words = _by_words(found)
        # "yes", "thanks", "ok please" are everyone's English: they set a language, never
        # change one.
        if known and by_words == "en":
            return None
        if by_words or known:
            return by_words
    votes = Counter(_WORD_LANGUAGE.get(w) or _WORD_LANGUAGE.get(_plain(w)) for w in found)
    votes.pop(None, None)
    if votes:
        voted, count = votes.most_common(1)[0]
        if count >= 2 and count > sum(votes.values()) - count:
            return voted  # several words of one language, more than of all others
    said = lingua_says(" ".join(found))
    if said is None:
        return None
    code, confidence = said
    if votes and code not in votes:
        # "c possible de décaler le 15 décembre ?" (lingua: English): words of one
        # language and none of lingua's: lingua is not to be believed on this one.
        return None if known else (next(iter(votes)) if len(votes) == 1 else None)
    if known and not votes.get(code) and len(found) < LONG:
        return None  # lingua alone on a short message: not enough to switch a language
    if confidence >= (SURE if known else SURE_FIRST):
        return code
    # Less sure, but a word of that language agrees.
    if votes.get(code) and confidence >= AGREED:
        return code
    # lingua is unsure and the only words that belong to one language say which ("e se
    # chover no ...?": "chover" is Portuguese only).
    if len(votes) == 1 and confidence < (SURE if known else SURE_FIRST):
        return next(iter(votes))
    return None


def choose(text: str, offered: Iterable[str], current: str | None) -> str | None:
    """The customer's language after this message: what they asked for, what the message
    is clearly written in, or what was stored (None when still unknown). An organization
    with one language answers in it whatever is written: nothing is detected."""
    languages = organization_languages(offered)
    if len(languages) == 1:
        return current
    asked = asked_for(text)
    if asked is not None:
        return asked
    return detect(text, known=current is not None) or current
