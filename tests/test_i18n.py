"""Customers' words: catalogs read from .po files, money and times in their locale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services import i18n
from services.i18n import Voice, abroad, reply_language, voice_for

LISBON = ZoneInfo("Europe/Lisbon")
START = datetime(2027, 3, 13, 17, 30, tzinfo=UTC)  # 17:30 in Lisbon (WET, no summer time yet)

PO = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

msgid "Hold expires: {when}"
msgstr "A reserva expira: {when}"

msgid "{n} seat"
msgid_plural "{n} seats"
msgstr[0] "{n} lugar"
msgstr[1] "{n} lugares"

#, fuzzy
msgid "Reply YES to hold."
msgstr "Responda SIM."
"""


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pt" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    i18n.translations.cache_clear()
    yield tmp_path
    i18n.translations.cache_clear()


def test_sentences_come_from_the_language_catalog(catalogs: Path) -> None:
    pt = Voice("pt", LISBON)
    assert pt._("Hold expires: {when}", when="amanhã") == "A reserva expira: amanhã"
    # French plural rules are not Portuguese ones; the catalog's own header decides.
    assert pt.n_("{n} seat", "{n} seats", 1) == "1 lugar"
    assert pt.n_("{n} seat", "{n} seats", 3) == "3 lugares"
    # A fuzzy (unreviewed) translation is never shown; nor is a missing one.
    assert pt._("Reply YES to hold.") == "Reply YES to hold."
    assert pt._("Not in the catalog") == "Not in the catalog"
    assert Voice("en", LISBON)._("Hold expires: {when}", when="x") == "Hold expires: x"


def test_money_in_the_customers_locale() -> None:
    assert Voice("en", LISBON).money(4900, "EUR") == "€49"
    # English keeps the symbols replies always had ("$49", not British "US$49").
    assert Voice("en", LISBON).money(4950, "USD") == "$49.50"
    assert Voice("en", LISBON).money(240000, "USD") == "$2,400"
    assert Voice("pt", LISBON).money(1250, "EUR") == "12,50\xa0€"
    assert Voice("pt", LISBON).money(240000, "EUR") == "2\xa0400\xa0€"
    assert Voice("de", LISBON).money(240000, "EUR") == "2.400\xa0€"
    assert Voice("fr", LISBON).money(4900, "JPY") == "4\u202f900\xa0JPY"


def test_times_in_the_organizations_zone_and_the_customers_words() -> None:
    assert Voice("en", LISBON).when(START) == "Sat 13 Mar 17:30"
    assert Voice("pt", LISBON).long_day(START) == "sábado, 13 de março"
    assert Voice("de", LISBON).day(date(2027, 3, 13)) == "Sa., 13. März"
    kathmandu = Voice("en", ZoneInfo("Asia/Kathmandu"), zone_label=True)
    assert kathmandu.when(START) == "Sat 13 Mar 23:15 Kathmandu time"


def test_a_foreign_number_gets_the_city_with_every_time() -> None:
    assert abroad("+447700900123", "Asia/Kathmandu")
    assert not abroad("+9779812345678", "Asia/Kathmandu")
    assert not abroad(None, "Asia/Kathmandu")
    voice = voice_for("Europe/Lisbon", ["pt", "en"], language="en", phone="+12025550101")
    assert voice.zone_label and voice.when(START) == "Sat 13 Mar 17:30 Lisbon time"


def test_the_reply_language_is_one_the_organization_offers() -> None:
    assert reply_language("pt-BR", ["en", "pt"]) == "pt"
    assert reply_language("de", ["en", "pt"]) == "en"  # not offered: the fallback
    assert reply_language(None, ["es", "en"]) == "es"
    assert reply_language("xx", ["klingon"]) == "en"  # nothing usable configured


def test_catalog_texts_may_be_a_map_of_languages() -> None:
    pt = Voice("pt", LISBON)
    assert pt.pick({"en": "Sunset cruise", "pt": "Cruzeiro ao pôr do sol"}, "en") == (
        "Cruzeiro ao pôr do sol"
    )
    assert pt.pick({"en": "Lunch included"}, "en") == "Lunch included"
    assert pt.pick("Plain text", "en") == "Plain text"
    assert pt.join(["a", "b", "c"]) == "a, b e c"
