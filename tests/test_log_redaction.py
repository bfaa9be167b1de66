"""Credentials and phone numbers never reach a log line, whichever logger writes it:
approval tokens and API tokens are redacted, phone numbers masked."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

import log_redaction
from models import utcnow
from services import api_tokens
from tests.chat import Chat
from tests.conftest import import_org


@pytest.fixture(autouse=True)
def redaction() -> None:
    log_redaction.install()


def test_gunicorn_and_werkzeug_request_lines_lose_tokens_and_numbers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("gunicorn.access").info(
        "%(r)s %(s)s", {"r": "GET /approve/eyJiIjo.secret.token HTTP/1.1", "s": "200"}
    )
    logging.getLogger("werkzeug").info(
        '"%s" %s %s', "GET /admin/search?q=%2B12025550141 HTTP/1.1", "200", "-"
    )
    logging.getLogger("services.anything").warning(
        "sent to whatsapp:+9779800000001 with token tb_AbCdEfGh12345678_xyz"
    )
    text = caplog.text
    assert "secret" not in text and "/approve/[redacted]" in text
    assert "12025550141" not in text and "%2B12*******41" in text
    assert "9779800000001" not in text and "whatsapp:+97*********01" in text
    assert "AbCdEfGh" not in text and "tb_[redacted]" in text


def test_dates_amounts_and_ids_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("x").info("message %s at 2027-01-10 06:00 for $2400.00 (+5%%)", 12345)
    assert "message 12345 at 2027-01-10 06:00 for $2400.00 (+5%)" in caplog.text


def test_a_whole_conversation_and_an_api_call_log_no_number_or_token(
    client: FlaskClient,
    factory: sessionmaker[Session],
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    org = import_org(session, utcnow())
    token = api_tokens.create_token(session, org, utcnow())
    session.commit()
    caplog.set_level(logging.DEBUG)
    chat = Chat(client, factory, phone="+12025550199", whatsapp=False)
    chat.say("Hi, I'd like the sunset tour for 2 on Saturday")
    chat.say("can I talk to a person")
    client.get("/api/v1/messages", headers={"Authorization": f"Bearer {token}"})
    client.get(f"/api/v1/conversations?phone=%2B12025550199&token={token}")
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert "2025550199" not in caplog.text
    assert token[3:] not in caplog.text
