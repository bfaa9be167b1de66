"""Tour names matched against the organization's tours and aliases, forgiving typos
("sunset tur", "evrest base camp") with rapidfuzz, in any of the product's languages:
words are compared in lower case without accents ("por do sol" is the alias "pôr do sol",
"Sonnenuntergangstur" is "Sonnenuntergangstour"), and the little words of Portuguese,
Spanish, French and German never begin or end a name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise

from rapidfuzz import fuzz, process

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Words that never make a tour mention on their own.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "for",
        "of",
        "on",
        "in",
        "at",
        "and",
        "or",
        "is",
        "it",
        "we",
        "i",
        "me",
        "my",
        "you",
        "your",
        "do",
        "does",
        "can",
        "pls",
        "please",
        "hi",
        "hey",
        "this",
        "that",
        "there",
        "how",
        "what",
        "when",
        "much",
        "any",
        "some",
    }
    # pt / es / fr / de (without accents)
    | set(
        """o os as um uma de do da dos das no na nos nas em ao aos para pra com e el la los
        las un una del al en y le les l du des au aux et a der die das den dem ein eine
        einer einen und zu zum zur im am mit fur von vom bei""".split()  # noqa: SIM905
    )
)
# Words that name a kind of thing, not a tour: never a match alone.
GENERIC = frozenset(
    """tour tours trip trips trek treks walk walks passeio passeios excursao excursoes
    excursion excursiones visita visitas visite visites paseo paseos balade ausflug
    ausfluge fuhrung tur""".split()  # noqa: SIM905
)

# Kinds English puts after the name only ("walk city" is no name).
ENGLISH_KINDS = frozenset({"trip", "trips", "walk", "walks"})

# Words for a particular kind of outing, and the kind each says. "tour" and "trip" are
# left out: people call any outing that, whatever its name.
KIND_OF = {
    "trek": "trek",
    "treks": "trek",
    "trekking": "trek",
    "walk": "walk",
    "walks": "walk",
    "hike": "hike",
    "hikes": "hike",
    "hiking": "hike",
}
# "the trek", "o trek", "le trek", "der Trek": one thing the customer has in mind.
DETERMINERS = frozenset(
    """the this that your o este esse esta essa vosso el ese le ce cette votre der die das
    den dem diesen diese diesem euren eure""".split()  # noqa: SIM905
)


@cache
def plain(word: str) -> str:
    """Lower case without accents: customers on phones drop them."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("’", "'"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


MAX_WORDS = 150
WORD_BONUS = 6


@dataclass(frozen=True)
class TourVocabulary:
    """(phrase, slug) pairs: each tour's name, slug words and aliases, lower-cased."""

    phrases: tuple[tuple[str, str], ...]

    @classmethod
    def from_tours(cls, tours: Iterable[tuple[str, str, Iterable[str]]]) -> TourVocabulary:
        """tours: (slug, name, aliases)."""
        pairs: dict[str, str] = {}
        for slug, name, aliases in tours:
            for phrase in (name, slug.replace("-", " "), *aliases):
                key = " ".join(plain(w) for w in WORD.findall(phrase))
                if key and key not in STOPWORDS | GENERIC:
                    pairs.setdefault(key, slug)
        return cls(tuple(pairs.items()))

    @property
    def keys(self) -> list[str]:
        return [p for p, _ in self.phrases]

    def slug_for(self, phrase: str) -> str:
        return dict(self.phrases)[phrase]

    @cached_property
    def distinctive_words(self) -> dict[str, str]:
        """Words that belong to one tour only ("city" of "Old City Heritage Walk"), so
        "city tour" can name it although no phrase is close enough."""
        slugs: dict[str, set[str]] = {}
        for phrase, slug in self.phrases:
            for word in phrase.split():
                if len(word) >= 3 and word not in STOPWORDS | GENERIC:
                    slugs.setdefault(word, set()).add(slug)
        return {word: next(iter(s)) for word, s in slugs.items() if len(s) == 1}

    @cached_property
    def only_of_kind(self) -> dict[str, str]:
        """Kinds only one tour is of ("trek" when Everest Base Camp Trek is the only trek)."""
        slugs: dict[str, set[str]] = {}
        for phrase, slug in self.phrases:
            for word in phrase.split():
                if word in KIND_OF:
                    slugs.setdefault(KIND_OF[word], set()).add(slug)
        return {kind: next(iter(s)) for kind, s in slugs.items() if len(s) == 1}


def _names_alike(said: list[str], key: str) -> bool:
    """Word by word, the words that tell tours apart are alike too, not only "tour":
    "sunrise tour" is not the "sunset tour" (87 as a whole; "sunrise"/"sunset" 77)."""
    theirs = key.split()
    if len(said) != len(theirs) or len(said) == 1:
        return True
    return all(
        # "l'ebc trek", "d'everest": the word after the elision
        fuzz.ratio(re.split(r"['’]", own)[-1], their) >= WORD_ALIKE
        for own, their in zip(said, theirs, strict=True)
        if their not in GENERIC
    )


WORD_ALIKE = 80  # "citty"/"city" 89, "sunst"/"sunset" 91; "sunrise"/"sunset" 77


def _threshold(phrase: str) -> float:
    # Short aliases ("EBC") must match exactly; longer names forgive a typo or two.
    if len(phrase) <= 4:
        return 100
    if len(phrase) <= 7:
        return 88
    return 84


def match_tour(text: str, vocab: TourVocabulary) -> tuple[str, int, int] | None:
    """(slug, start, end) of the best tour mention, or None."""
    if not vocab.phrases:
        return None
    words = list(WORD.finditer(text))[:MAX_WORDS]
    keys = vocab.keys
    best: tuple[float, int, str, int, int] | None = None
    per_tour: dict[str, tuple[float, int, str, int, int]] = {}  # each tour's best mention
    for size in range(min(4, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            window = words[i : i + size]
            said = [plain(w.group(0)) for w in window]
            phrase = " ".join(said)
            edges = (said[0], said[-1])
            if len(phrase) < 3 or (size > 1 and (edges[0] in STOPWORDS or edges[1] in STOPWORDS)):
                continue
            if all(w in STOPWORDS | GENERIC for w in said):
                continue
            hit = process.extractOne(phrase, keys, scorer=fuzz.ratio, score_cutoff=80)
            if hit is None or hit[1] < _threshold(hit[0]) or not _names_alike(said, hit[0]):
                continue
            # Similarity plus a bonus per word: "sunset tur" (95) beats the exact alias
            # "sunset" (100), while "sunset tour sat" (85) loses to "sunset tour" (100).
            rank = hit[1] + WORD_BONUS * size
            candidate = (rank, size, vocab.slug_for(hit[0]), window[0].start(), window[-1].end())
            if best is None or candidate[:2] > best[:2]:
                best = candidate
            slug = candidate[2]
            if slug not in per_tour or candidate[:2] > per_tour[slug][:2]:
                per_tour[slug] = candidate
    if best is None:
        return _word_and_kind(words, vocab)
    if len(per_tour) > 1 and _declined(text, best[3]):
        # "forget the food tour, whats the city walk like?": the other one
        others = [c for c in per_tour.values() if c[2] != best[2] and not _declined(text, c[3])]
        if others:
            best = max(others, key=lambda c: c[:2])
    return best[2:]


# Just before a tour's name: the customer does not want that one ("not the", "forget
# about the", "instead of the", "em vez do", "en lugar del", "au lieu du", "statt der").
DECLINED = re.compile(
    r"\b(?:not|forget(?: about)?|instead of|rather than|nevermind|never mind|n[aã]o|"
    r"em vez d[oae]s?|esque[cç]a|no|en vez de(?:l)?|en lugar de(?:l)?|olvida|pas|"
    r"au lieu d[ue]s?|oubliez?|plut[oô]t que|nicht|kein(?:e|en)?|statt|anstatt|vergiss)"
    r"\s+(?:[^\W\d_]+\s+){0,2}$",
    re.IGNORECASE,
)


def _declined(text: str, start: int) -> bool:
    return DECLINED.search(text[:start]) is not None


def _word_and_kind(
    words: list[re.Match[str]], vocab: TourVocabulary
) -> tuple[str, int, int] | None:
    """ "city tour", "momo trip": a word only one tour has, then a kind of thing; or the
    kind first, as Portuguese, Spanish and French put it ("passeio gastronómico")."""
    for first, second in pairwise(words):
        one, two = plain(first.group(0)), plain(second.group(0))
        if two in GENERIC:
            slug = vocab.distinctive_words.get(one)
            if slug is not None:
                return slug, first.start(), second.end()
        if one in GENERIC and one not in ENGLISH_KINDS:
            slug = vocab.distinctive_words.get(two)
            if slug is not None:
                return slug, first.start(), second.end()
    return None


def match_kind(text: str, vocab: TourVocabulary) -> tuple[str, int, int] | None:
    """(slug, start, end) of "the trek" when only one tour is a trek, or None. Not a name,
    so the NLU's extractors leave it alone (its intent data says "how difficult is the
    trek" of any trek); the conversation reads it (bot/turn.py)."""
    if not vocab.only_of_kind:
        return None
    words = list(WORD.finditer(text))[:MAX_WORDS]
    for before, word in pairwise(words):
        kind = KIND_OF.get(plain(word.group(0)))
        if kind is not None and plain(before.group(0)) in DETERMINERS:
            slug = vocab.only_of_kind.get(kind)
            if slug is not None:
                return slug, before.start(), word.end()
    return None


MIN_DISTINCTIVE = 4  # "old" of Old City Heritage Walk is too common a word alone


def match_word(text: str, vocab: TourVocabulary) -> tuple[str, int, int] | None:
    """(slug, start, end) of a word only one tour's names have ("the food one", "el de
    comida"), or None. Only an answer to "which tour?" is read this way: elsewhere "is food
    included?" is not about the food tour."""
    for word in list(WORD.finditer(text))[:MAX_WORDS]:
        said = plain(word.group(0))
        slug = vocab.distinctive_words.get(said) if len(said) >= MIN_DISTINCTIVE else None
        if slug is not None:
            return slug, word.start(), word.end()
    return None
