"""An "ok 👍" or a "thanks" with nothing open (after "Great, see you on…", after MENU) gets
a short acknowledgement in the customer's language, not the whole menu; a yes that answers
an open question still does what it says."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import utcnow
from services.i18n import voice_for
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.languages import spoken_in
from tests.test_conversations import day, live_catalog, spoken

MENU_LINE = "Reply MENU any time to start over."


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["languages"] = ["en", "pt", "es", "fr"]
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config)


def menu_line(code: str) -> str:
    return voice_for("UTC", [code], language=code)._(MENU_LINE)


def test_ok_or_thanks_with_nothing_open_is_acknowledged_in_a_line(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, name="Ada")
    ada.say("hi")
    for text in ("ok 👍", "thanks", "ok thanks!", "perfect"):
        reply = ada.say(text)
        assert reply and MENU_LINE not in reply and "\n" not in reply, (text, reply)


def test_a_spanish_customer_is_acknowledged_in_spanish(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    lucia = Chat(client, factory, phone="+34612345678", name="Lucia")
    lucia.say("Hola, ¿qué tours tenéis?")
    lucia.say("menu")
    for text in ("ok 👍", "vale gracias", "thanks", "vale", "si, ahi estaremos"):
        reply = lucia.say(text)
        assert menu_line("es") not in reply and "\n" not in reply, (text, reply)
        assert spoken_in(reply, "es"), (text, reply)


def test_a_yes_to_an_open_question_still_answers_it(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, name="Ada")
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    ada.say("1")
    held = ada.say("ok 👍")
    assert "held" in held, held
