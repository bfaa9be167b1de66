"""Every word a translated reply tells the customer to type ("responda MUDAR DATA",
"répondez CONSEILLER", "antworte STORNIEREN {reference}") is understood as the English one
it stands for. The words are found by scanning each language's catalog for words in
capitals and pairing them with the English sentence's, so a translator's new word that the
bot does not read fails here."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest

from bot import booking_words, guides, keywords
from intents import NLU, build_nlu
from intents.evaluate import eval_context
from tests.languages import LANGUAGES, catalog

CAPS = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{2,}(?:\s+[A-ZÀ-ÖØ-Þ]{2,})*\b")
# Not something to type: the name of a tax number in "your company's VAT number".
NOT_KEYWORDS = {"VAT", "NIF", "CIF", "TVA"}


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> NLU:
    return build_nlu(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


def offered(language: str) -> tuple[set[tuple[str, str]], set[str]]:
    """(English word, translated word) pairs, and every translated word in capitals."""
    pairs: set[tuple[str, str]] = set()
    every: set[str] = set()
    for msgid, msgstr in catalog(language).items():
        english = CAPS.findall(msgid if isinstance(msgid, str) else msgid[0])
        for text in (msgstr,) if isinstance(msgstr, str) else msgstr:
            translated = CAPS.findall(text)
            every |= set(translated)
            if len(english) == len(translated):
                pairs |= set(zip(english, translated, strict=True))
    return pairs, every


def meanings(nlu: NLU, language: str) -> dict[str, Callable[[str], bool]]:
    ctx = dataclasses.replace(eval_context(), language=language)

    def intent(name: str, suffix: str = "") -> Callable[[str], bool]:
        return lambda word: nlu.parse(f"{word}{suffix}", ctx).intent == name

    def kind(name: str) -> Callable[[str], bool]:
        return lambda word: booking_words.request_kind(word) == name

    return {
        "AGENT": lambda w: keywords.keyword(w) in keywords.AGENT,
        "MENU": lambda w: keywords.keyword(w) in keywords.RESET,
        "YES": lambda w: keywords.keyword(w) in keywords.CLEAR_YES & keywords.OFFER_YES,
        "NO": lambda w: keywords.keyword(w) in keywords.CLEAR_NO & keywords.OFFER_NO,
        "OK": lambda w: keywords.keyword(w) in keywords.CLEAR_YES,
        "CONFIRM": lambda w: keywords.keyword(w) in keywords.OFFER_YES,
        "DECLINE": lambda w: keywords.keyword(w) in keywords.OFFER_NO,
        "START": lambda w: keywords.keyword(w) in keywords.OPT_IN,
        "STOP": lambda w: keywords.keyword(w) in keywords.OPT_OUT,
        "CANCEL": intent("cancel_booking", " BK-7K3Q9"),
        "CHANGE DATE": lambda w: intent("reschedule")(w) or kind(booking_words.MOVE)(w),
        "PAY": lambda w: intent("pay")(w) or kind(booking_words.BALANCE)(w),
        "INVOICE": kind(booking_words.INVOICE),
        # The guides' commands, in their replies (bot/guides.py).
        **{verb: guide_command(verb) for verb in ("CHECKIN", "CHECKOUT", "ISSUE", "UPDATE")},
        **{verb: guide_command(verb) for verb in ("MANIFEST", "ACCEPT")},
        "TODAY": lambda w: w.upper() in guides.TODAY,
    }


def guide_command(verb: str) -> Callable[[str], bool]:
    def understood(word: str) -> bool:
        command = guides.parse(word, lambda code: False)
        return command is not None and command.verb == verb

    return understood


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_a_reply_offers_is_understood(nlu: NLU, language: str) -> None:
    pairs, every = offered(language)
    understood = meanings(nlu, language)
    assert {english for english, _ in pairs} - NOT_KEYWORDS <= set(understood), pairs
    missed = [
        (english, word)
        for english, word in sorted(pairs)
        if english not in NOT_KEYWORDS and not understood[english](word)
    ]
    assert missed == [], f"offered in {language} but not understood: {missed}"
    # A word in capitals that pairs with no English one is still one the bot knows.
    known = {word for _, word in pairs} | NOT_KEYWORDS
    assert every - known == set(), every - known
