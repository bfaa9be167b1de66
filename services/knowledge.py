"""What customers ask, matched to what the catalog knows: the organization's FAQ, each
tour's FAQ and details (included, bring, accessibility, minimum age, pickup, weather,
description), and the topics the product answers from its own data (cancellation policy,
prices, duration, meeting point, next departures, discounts).

Matching is by meaning, not exact words: both the question and every phrasing are cut to
word stems (a light suffix stripper: "included"/"includes"/"include", "policies"/
"policy"), common words dropped, misspelt words mapped to the nearest known stem
(rapidfuzz), and each phrasing scored by how much of it (weighted by how rare each stem
is, TF-IDF style) the question covers. A phrasing is a keyword set as much as a sentence:
"gift voucher" is met by "do you sell gift vouchers??". An inverted index keeps a question
to the phrasings that share a stem with it, so a catalog of 50 tours with 20 questions
each answers in well under a millisecond (bench/knowledge.py).

Nothing here talks to the customer: bot/knowledge.py says the answers in their voice.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from services import knowledge_words

# The topics' names are knowledge_words' (one list for every language): from a tour's
# details (INCLUDED .. DESCRIPTION; INCLUDED answers included and not_included together),
# and from data the product already has (CANCELLATION .. DISCOUNT).
from services.knowledge_words import (
    ACCESSIBILITY,
    BRING,
    CANCELLATION,
    DEPARTURES,
    DESCRIPTION,
    DISCOUNT,
    DURATION,
    INCLUDED,
    MEETING_POINT,
    MIN_AGE,
    PICKUP,
    PRICES,
    WEATHER,
)

FAQ = "faq"

# Topics about one tour: without a tour in context or named, the customer is asked which.
TOUR_TOPICS = frozenset(
    {
        INCLUDED,
        BRING,
        ACCESSIBILITY,
        MIN_AGE,
        PICKUP,
        WEATHER,
        DESCRIPTION,
        PRICES,
        DURATION,
        MEETING_POINT,
        DEPARTURES,
    }
)
# Topics a booking request also touches ("how much for 2 on Saturday?", "what time on
# Sunday?"): answered as knowledge only when the message is not a request.
REQUEST_TOPICS = frozenset({PRICES, DEPARTURES})

# The phrasings of the built-in topics in English (the other languages' are in
# services/knowledge_words.py). Each is a keyword set: every stem of it should be in the
# question.
BUILTIN: dict[str, tuple[str, ...]] = {
    INCLUDED: (
        "included",
        "what's included",
        "inclusive",
        "lunch",
        "breakfast",
        "dinner",
        "meals",
        "food",
        "drinks",
        "water",
        "snacks",
        "entrance fee",
        "entry tickets",
        "permits",
        "accommodation",
        "price include",
        "cost include",
        "extra cost",
        "hidden costs",
        "not included",
        "tips",
    ),
    BRING: (
        "bring",
        "wear",
        "pack",
        "packing list",
        "clothes",
        "shoes",
        "boots",
        "carry",
        "dress code",
        "what do i need",
        "gear",
        "equipment",
        "sunscreen",
        "jacket",
        "hiking boots",
        "hiking shoes",
        "walking shoes",
        "backpack",
    ),
    ACCESSIBILITY: (
        "wheelchair",
        "stroller",
        "pram",
        "buggy",
        "pushchair",
        "accessible",
        "accessibility",
        "disabled",
        "disability",
        "mobility",
        "fitness",
        "fit enough",
        "difficult",
        "difficulty",
        "hard",
        "strenuous",
        "elderly",
        "seniors",
        "pregnant",
        "stairs",
        "steps",
        "how much walking",
        "walk far",
        "knees",
    ),
    MIN_AGE: (
        "age",
        "minimum age",
        "age limit",
        "kids",
        "children",
        "child",
        "year old",
        "years old",
        "yo",
        "baby",
        "toddler",
        "infant",
        "teenager",
        "family friendly",
        "suitable for kids",
        "son",
        "daughter",
        "grandson",
        "granddaughter",
        "my boy",
        "my girl",
    ),
    PICKUP: (
        "pickup",
        "hotel pickup",
        "hotel",
        "transfer",
        "transport",
        "collect us",
        "shuttle",
        "dropoff",
        "pick us up",
    ),
    WEATHER: (
        "rain",
        "weather",
        "snow",
        "storm",
        "monsoon",
        "bad weather",
        "cold",
        "wet",
        "cloudy",
    ),
    DESCRIPTION: (
        "tell me about",
        "more info",
        "information",
        "details",
        "itinerary",
        "highlights",
        "what will we see",
        "what do we do",
        "what is it like",
        "describe",
        "programme",
        "program",
    ),
    CANCELLATION: (
        "cancellation policy",
        "refund policy",
        "cancel policy",
        "free cancellation",
        "cancel for free",
        "cancellation fee",
        "cancellation terms",
        "refundable",
        "non refundable",
        "refund if cancel",
        "money back if cancel",
        "cancel free",
        # "do u do refunds?", "what about refunds if we can't make it?"
        "refund",
        "refunds",
        "money back",
    ),
    PRICES: (
        "price",
        "prices",
        "cost",
        "how much",
        "rates",
        "child price",
        "kids price",
        "price for children",
        "adult price",
        "fee",
    ),
    DURATION: (
        "how long",
        "duration",
        "how many hours",
        "how many days",
        "length",
        "what time finish",
        "when does it end",
        "end time",
        "finish",
    ),
    MEETING_POINT: (
        "meeting point",
        "where meet",
        "where do we meet",
        "where start",
        "starting point",
        "location",
        "address",
        "where is it",
        "how do i get there",
    ),
    DEPARTURES: (
        "next departure",
        "next one",
        "when next",  # "when does the trek go next?"
        "when run",
        "schedule",
        "what time",
        "departure times",
        "start time",
        "which days",
        "how often",
        "every day",
        "dates",
        "timetable",
    ),
    DISCOUNT: (
        "discount",
        "student",
        "student discount",
        "senior discount",
        "promo",
        "promo code",
        "coupon",
        "voucher code",
        "deal",
        "cheaper",
        "group discount",
        "group rate",
        "special offer",
    ),
}

# Detail keys stored in the catalog, and the topic each answers.
DETAIL_TOPICS = {
    "included": INCLUDED,
    "not_included": INCLUDED,
    "bring": BRING,
    "accessibility": ACCESSIBILITY,
    "min_age": MIN_AGE,
    "pickup": PICKUP,
    "weather": WEATHER,
}

# Words of the built-in topics too general to decide a question on their own.
GENERAL_WORDS = """
    bring wear pack carry need hard fit age old year yo kid kids child children son daughter
    family cost price prices much long time start finish end meet location address next one
    dates day days schedule often cold wet information info details more program see hotel
    transfer transport water food drinks tips extra fee rates deal walk walking steps
    length hours every
"""
# Words that say nothing about what is asked (English and the product's other languages).
STOPWORDS = frozenset(
    """
    a about above after again all also am an and any anyone anything are as at be been
    before being both but by can could d did do does doing during each few for from further
    get got had has have having he her here hers him his how i if in into is it its itself
    just ll m me might more most must my myself need no nor not now of off on once only or
    other our ours out over own please pls plz re really s same shall she should so some
    such t than that the their them then there these they this those through to too u ur
    under until up us ve very was we were what whats which while who whom why will with
    would y you your yours hi hello hey thanks thank ok okay tour tours trip trips trek
    tur guys question quick wondering wonder know tell let like want wanna gonna also
    kind sort type thing things stuff go going come coming take use way possible able
    ask asking said say sure maybe still yet there's it's i'm we're wat wht shuld shud
    wats wot happen happens happened
    cud wud cn dat da der pl
    o os as um uma de do da dos das que é e em para por com se el la los las un una es
    en y del al le les des du et est pour avec der die das ein eine ist und für mit
    """.split()  # noqa: SIM905
)
# Irregular forms the suffix stripper cannot know.
IRREGULAR = {
    "children": "child",
    "kids": "kid",
    "kiddos": "kid",
    "people": "person",
    "women": "woman",
    "men": "man",
    "feet": "foot",
    "wheelchairs": "wheelchair",
    "y/o": "yo",
    "yrs": "year",
    "yr": "year",
}
_JOINED = (
    (re.compile(r"\bpick(?:ed|ing)?[\s-]+(?:\w+\s+)?up\b"), "pickup"),
    (re.compile(r"\bdrop(?:ped|ping)?[\s-]+off\b"), "dropoff"),
    (re.compile(r"\bwi[\s-]?fi\b"), "wifi"),
    (re.compile(r"\bcheck[\s-]+in\b"), "checkin"),
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_SUFFIXES = (
    "ations",
    "ation",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ed",
    "es",
    "ly",
    "s",
    "y",
    "e",
)
MIN_FUZZY_LEN = 4
MIN_PREFIX = 6  # a stem this long beginning another counts as the same word (not English)
# One slip (a letter wrong, missing, extra or two swapped) in a word of four or more.
FUZZY_CUTOFF = 0.8
# A phrasing counts as asked when the question covers this share of its weight.
MATCH_AT = 0.75
# The answers must explain this share of what the question asks (its stems' weight) when
# they rest on general words only ("bring", "price": "can I bring my dog?" is not answered
# by what to bring), and this share when a telling word is among them ("my father uses a
# wheelchair, could he join?").
QUESTION_COVER = 0.6
TELLING_COVER = 0.2
MAX_ANSWERS = 3


def stem(word: str) -> str:
    """A light suffix stripper: enough for a question and a phrasing to meet ("included" /
    "includes" / "include", "policies" / "policy", "raining" / "rain")."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # cancell -> cancel, stopp -> stop
    return word


# The languages read with a Snowball stemmer (English keeps the light stripper above, which
# its phrasings and thresholds were tuned with).
SNOWBALL = {"pt": "portuguese", "es": "spanish", "fr": "french", "de": "german"}
_STEMMER_LOCK = threading.Lock()  # a Snowball stemmer keeps its word while it works
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def language_of(language: str | None) -> str:
    """The language a text is read in here: one with a stemmer, else English."""
    return language if language in SNOWBALL else "en"


@cache
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(SNOWBALL[language])


def plain(word: str) -> str:
    """The word without accents: customers on phones often leave them out."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=50_000)
def foreign_stem(word: str, language: str) -> str | None:
    """The Snowball stem of a word without its accents; None for a word that says nothing
    ("o", "est-ce", "kann")."""
    word = plain(word.lower())
    if len(word) < 2 or word in knowledge_words.STOPWORDS[language]:
        return None
    return snowball_stem(word, language)


@lru_cache(maxsize=50_000)
def snowball_stem(word: str, language: str) -> str:
    """The Snowball stem of a lower-case word without accents, whatever the word: the
    booking requests need the words a question can do without ("mais", "menos", "statt")."""
    with _STEMMER_LOCK:
        return str(_stemmer(language).stemWord(word))


def stems(text: str, language: str = "en") -> list[str]:
    """The stems of a text's content words, in order."""
    if language in SNOWBALL:
        found = [foreign_stem(w, language) for w in _LETTERS.findall(text)]
        out = [w for w in found if w]
        if knowledge_words.AGE.search(text):
            out.append("yo")  # "criança de 5 anos": an age is asked
        return out
    text = text.lower().replace("\u2019", "'")
    for pattern, joined in _JOINED:
        text = pattern.sub(joined, text)
    out = []
    for word in _WORD.findall(text):
        word = word.removesuffix("'s").removesuffix("'re").removesuffix("'m")
        if word in STOPWORDS or len(word) < 2:
            continue
        if word in IRREGULAR:
            out.append(IRREGULAR[word])
            continue
        out.append(stem(word))
    # "5-year-old", "5yo": an age is asked (the digits are dropped above).
    if re.search(r"\b\d{1,2}\s*(?:-?\s*years?[\s-]*old|yo|y/o|yrs?)\b", text):
        out.append("yo")
    return out


@dataclass(frozen=True)
class Entry:
    """Something that can be answered: a built-in topic, or one FAQ entry."""

    topic: str
    tour: str | None = None  # the tour slug of a tour's FAQ entry
    answer: Any = None  # a FAQ's answer: a text, or a map language -> text
    follow_up: str | None = None  # what a person must then do (a task for the rep)
    question: str = ""  # its first phrasing, for staff


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float  # the share of the best phrasing the question covers, 0..1
    weight: float  # how much of the question's meaning it took
    telling: bool = False  # decided by a telling word ("wheelchair"), not a general one


@dataclass
class KnowledgeIndex:
    entries: list[Entry] = field(default_factory=list)
    # per phrasing: its entry, its total weight
    _phrasings: list[tuple[int, float]] = field(default_factory=list)
    _postings: dict[str, list[int]] = field(default_factory=dict)
    _idf: dict[str, float] = field(default_factory=dict)
    _entry_words: list[frozenset[str]] = field(default_factory=list)
    _vocabulary: list[str] = field(default_factory=list)
    _unknown_weight: float = 1.0
    _general: frozenset[str] = frozenset()
    language: str = "en"  # what the questions and the phrasings are read in

    @classmethod
    def build(
        cls, items: Iterable[tuple[Entry, Sequence[str]]], language: str = "en"
    ) -> KnowledgeIndex:
        index = cls(language=language_of(language))
        raw: list[tuple[int, frozenset[str]]] = []
        for entry, phrasings in items:
            number = len(index.entries)
            index.entries.append(entry)
            words: set[str] = set()
            for phrasing in phrasings:
                found = frozenset(stems(phrasing, index.language))
                if found:
                    raw.append((number, found))
                    words |= found
            index._entry_words.append(frozenset(words))
        # Rarer stems say more: "voucher" more than "price" (in how many entries a stem is).
        in_entries: dict[str, set[int]] = {}
        for number, found in raw:
            for word in found:
                in_entries.setdefault(word, set()).add(number)
        total = max(len(index.entries), 1)
        index._idf = {w: 1.0 + math.log(total / len(e)) for w, e in in_entries.items()}
        for number, found in raw:
            position = len(index._phrasings)
            index._phrasings.append((number, sum(index._idf[w] for w in found)))
            for word in found:
                index._postings.setdefault(word, []).append(position)
        index._vocabulary = sorted(index._idf)
        general = knowledge_words.GENERAL.get(index.language, GENERAL_WORDS)
        index._general = frozenset(stems(general, index.language))
        if index._idf:
            index._unknown_weight = sum(index._idf.values()) / len(index._idf)
        return index

    def _known(self, word: str) -> str | None:
        """The stem as the index knows it; a misspelt one ("wheelchiar", "pikcup") as its
        nearest known stem; None for a word nothing mentions."""
        if word in self._idf:
            return word
        if len(word) >= MIN_FUZZY_LEN and self._vocabulary:
            hit = process.extractOne(
                word,
                self._vocabulary,
                scorer=DamerauLevenshtein.normalized_similarity,
                score_cutoff=FUZZY_CUTOFF,
            )
            if hit is not None:
                return str(hit[0])
        if self.language != "en" and len(word) >= MIN_PREFIX:
            # A word the catalog has in another language ("vegetarisch" asked, "vegetarian"
            # written): one stem begins the other.
            for known in self._vocabulary:
                if len(known) >= MIN_PREFIX and (known.startswith(word) or word.startswith(known)):
                    return known
        return None

    def search(
        self, text: str, *, tour: str | None = None, topics: frozenset[str] | None = None
    ) -> list[Match]:
        """The entries the question asks about, best first: the organization's, the
        built-in topics, and the FAQ of `tour` (every tour's FAQ when no tour is known).
        `topics`: only these built-in topics (FAQ entries are always considered).

        An entry is asked when one of its phrasings is covered (MATCH_AT); the answers
        together must explain most of the question (QUESTION_COVER): "can I bring my dog?"
        is not answered by what to bring."""
        asked_words = list(dict.fromkeys(stems(text, self.language)))
        if not asked_words:
            return []
        known = {w: self._known(w) for w in asked_words}
        asked = sum(self._idf[k] if k else self._unknown_weight for k in known.values())
        words = {k for k in known.values() if k}
        covered: dict[int, float] = {}
        for word in words:
            weight = self._idf[word]
            for position in self._postings.get(word, ()):
                covered[position] = covered.get(position, 0.0) + weight
        candidates: dict[int, float] = {}
        for position, weight in covered.items():
            number, total = self._phrasings[position]
            entry = self.entries[number]
            if entry.tour is not None and tour is not None and entry.tour != tour:
                continue
            if entry.topic != FAQ and topics is not None and entry.topic not in topics:
                continue
            score = weight / total
            if score >= MATCH_AT:
                candidates[number] = max(candidates.get(number, 0.0), score)
        if not candidates:
            return []
        ranked = []
        for number, score in candidates.items():
            explained = words & self._entry_words[number]
            weight = sum(self._idf[w] for w in explained) / asked
            # A tour's or the organization's own answer outranks a built-in topic.
            bonus = 0.15 if self.entries[number].topic == FAQ else 0.0
            ranked.append((weight + bonus, score, number, explained))
        ranked.sort(key=lambda r: (-r[0], -r[1]))
        out: list[Match] = []
        explained_so_far: set[str] = set()
        for rank, score, number, explained in ranked:
            # Another answer only for what the ones before did not explain.
            if not explained - explained_so_far:
                continue
            explained_so_far |= explained
            out.append(Match(self.entries[number], score, rank, bool(explained - self._general)))
            if len(out) == MAX_ANSWERS:
                break
        telling = bool(explained_so_far - self._general)
        cover = TELLING_COVER if telling else QUESTION_COVER
        if sum(self._idf[w] for w in explained_so_far) / asked < cover:
            return []
        return out


def _phrasings(q: Any, language: str | None = None) -> list[str]:
    """A FAQ's q: a phrasing, a list of them, or a map language -> list. With a language:
    that language's phrasings when the map has them, else all of them (words such as
    "voucher" or "vegan" are shared)."""
    if isinstance(q, str):
        return [q]
    if isinstance(q, dict):
        if language is not None and q.get(language):
            return _phrasings(q[language])
        return [p for items in q.values() for p in _phrasings(items)]
    return [str(p) for p in q or []]


def faq_items(
    faq: Iterable[dict[str, Any]], tour: str | None, language: str | None = None
) -> list[tuple[Entry, list[str]]]:
    items = []
    for item in faq:
        phrasings = _phrasings(item.get("q"), language)
        if not phrasings:
            continue
        items.append(
            (
                Entry(FAQ, tour, item.get("a"), item.get("follow_up"), phrasings[0]),
                phrasings,
            )
        )
    return items


def build_index(
    org_faq: Iterable[dict[str, Any]],
    tours: Iterable[tuple[str, Iterable[dict[str, Any]]]],
    language: str = "en",
) -> KnowledgeIndex:
    """The index of an organization for questions in one language: its FAQ, each tour's
    FAQ (slug, faq), and the built-in topics, in that language's phrasings."""
    language = language_of(language)
    builtin = knowledge_words.TOPICS.get(language, BUILTIN)
    items: list[tuple[Entry, Sequence[str]]] = [
        (Entry(topic), builtin.get(topic, ())) for topic in BUILTIN
    ]
    items += faq_items(org_faq, None, language)
    for slug, faq in tours:
        items += faq_items(faq, slug, language)
    return KnowledgeIndex.build(items, language)


def mentions_children(text: str, language: str = "en") -> bool:
    """ "a kids discount?", "desconto para crianças?": children are asked about."""
    language = language_of(language)
    if language == "en":
        return bool(set(stems(text)) & {"kid", "child"})
    words = set(stems(knowledge_words.CHILDREN[language], language))
    return bool(set(stems(text, language)) & words)


def local_text(text: Any, languages: Sequence[str]) -> str | None:
    """A catalog text in the first of `languages` it has, else its first language."""
    if text is None:
        return None
    if isinstance(text, dict):
        for language in languages:
            if text.get(language):
                return str(text[language])
        return next((str(v) for v in text.values() if v), None)
    return str(text)


def asked_age(text: str) -> int | None:
    """The age in "is it OK for a 5-year-old?", "my son is 7", "kids aged 4 and 9" (the
    youngest)."""
    found = [
        int(n)
        for n in re.findall(
            r"\b(\d{1,2})\s*(?:-?\s*(?:years?|yrs?)[\s-]*old|yo\b|y/o|-?years?\b)",
            text.lower(),
        )
    ]
    found += [int(n) for n in re.findall(r"\b(?:aged?|is|are|turns?)\s+(\d{1,2})\b", text.lower())]
    # "criança de 5 anos", "mi hijo tiene 7 años", "un enfant de 5 ans", "5-jährige Tochter".
    found += [int(m.group(1)) for m in knowledge_words.AGE.finditer(text)]
    return min(found) if found else None


# --- question and request, apart -----------------------------------------------------

_CLAUSE_END = re.compile(
    r"(?<=[?!.;\n])\s*|\s+(?:also|btw|plus|oh and|and also)\s+"
    # "3 of us, and how long does it take?": a question joined to a statement.
    r"|,?\s+(?:and|but)\s+(?=(?:how|what|whats|what's|when|where|which|is|are|do|does|can|"
    r"could|will|would)\b)",
    re.I,
)
_QUESTION_START = re.compile(
    r"^\s*(?:and\s+|also\s+|so\s+|oh\s+|btw\s+|ok\s+|okay\s+)?(what|what's|whats|wat|wats|"
    r"wot|when|where|which|who|why|"
    r"how|is|isn't|are|aren't|do|does|did|can|could|will|would|should|may|any|anything|"
    r"o que|qual|quando|onde|como|tem|posso|pode|qué|que|cuándo|dónde|cómo|hay|puedo|"
    r"est-ce|quand|où|comment|peut|gibt|wann|wo|wie|kann|ist)\b",
    re.IGNORECASE,
)


# A question word opening a part of the sentence ("sunset tour, whats included").
_QUESTION_INSIDE = re.compile(
    r"(?:[,:;]|\b(?:and|but|also|so|ok|okay|btw))\s*(?:what|what's|whats|when|where|which|"
    r"how)\b"
    # "she needs a chair at every stop, is that possible": a yes/no question after a comma.
    r"|[,:;]\s*(?:is|isn't|are|can|could|would|will|do|does)\s+(?:that|this|it|there|he|"
    r"she|they|we|i|you)\b",
    re.IGNORECASE,
)


def clauses(text: str) -> list[str]:
    """The message in its sentences ("Is lunch included? Book 2 for Saturday."): each one
    may be a different act."""
    parts = [p.strip() for p in _CLAUSE_END.split(text) if p and p.strip()]
    return [p for p in parts if any(ch.isalnum() for ch in p)]


def is_question(text: str) -> bool:
    return (
        text.rstrip().endswith("?")
        or _QUESTION_START.match(text) is not None
        or _QUESTION_INSIDE.search(text) is not None
    )


# --- the organization's index, cached a minute per process -------------------------------

TTL_SECONDS = 60
_indexes: dict[tuple[int, str], tuple[float, KnowledgeIndex]] = {}


def cached_index(key: tuple[int, str], build: Any) -> KnowledgeIndex:
    """build() at most once a minute per key (an organization and its last change): every
    question needs the index, and a catalog change may take a minute to be answered."""
    hit = _indexes.get(key)
    if hit is not None and time.monotonic() - hit[0] < TTL_SECONDS:
        return hit[1]
    index: KnowledgeIndex = build()
    if len(_indexes) > 256:
        _indexes.clear()
    _indexes[key] = (time.monotonic(), index)
    return index
