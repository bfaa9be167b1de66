"""The soak's Twilio stand-in speaks the Content API as our code calls it: `flask whatsapp
sync` makes the content there (TWILIO_API_BASE), and the transport's content messages are
accepted when Twilio would accept them and refused when it would not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import WhatsAppContent
from services import whatsapp_content, whatsapp_templates
from services.transports import Outgoing, TransportError, TwilioTransport
from soak.standins import TwilioStandIn
from tests.conftest import import_org

ACCOUNT, TOKEN = "AC" + "3" * 32, "standin-token"


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    twilio = TwilioStandIn(ACCOUNT, TOKEN, callbacks=False)
    twilio.start()
    yield twilio
    twilio.stop()


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session], standin: TwilioStandIn) -> Flask:
    with factory() as s:
        import_org(s)
    config = TestConfig()
    config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN = ACCOUNT, TOKEN
    config.TWILIO_API_BASE = standin.url
    config.PUBLIC_BASE_URL = "https://tours.example"
    return create_app(config)


def test_content_made_by_sync_and_sent_by_the_transport(
    app: Flask, standin: TwilioStandIn, factory: sessionmaker[Session]
) -> None:
    result = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert result.exit_code == 0, result.output
    kinds = whatsapp_content.content_kinds() + [
        whatsapp_templates.kind_of(p) for p in whatsapp_templates.PURPOSES
    ]
    with factory() as s:
        made = {row.kind: row for row in s.scalars(select(WhatsAppContent))}
    assert len(standin.contents) == len(made) == len(kinds)
    quote = made["quote"]
    # What the stand-in holds is what we asked for (the library's nulls for unused types
    # dropped), under the SID our table records; the templates were submitted for review.
    assert standin.contents[quote.content_sid] == quote.definition
    assert "approved" in result.output and standin.approvals

    transport = TwilioTransport(ACCOUNT, TOKEN, standin.url)
    buttons = {"1": "Sunset Tour: $98. Shall I hold 2 seats?"} | {
        str(n): f"tb1:x:{n}" for n in (2, 3, 4)
    }
    to = "whatsapp:+12025550101"
    sid = transport.send(
        Outgoing(1, "whatsapp:+14155238886", to, "words", quote.content_sid, buttons)
    )
    (sent,) = standin.inbox[to]
    assert sent.sid == sid and sent.variables == buttons
    body, choices, kind = standin.content_words(sent)
    assert kind == "twilio/quick-reply" and body == buttons["1"]
    assert choices == [
        ("tb1:x:2", "Hold seats"),
        ("tb1:x:3", "Change party"),
        ("tb1:x:4", "Other dates"),
    ]

    # A button left without its payload, or rows sent to an SMS number: refused, as Twilio
    # refuses them (permanently: the outbox then sends the words).
    for address, values in (
        (to, {**buttons, "3": " "}),
        ("+12025550101", buttons),
    ):
        with pytest.raises(TransportError) as refused:
            transport.send(
                Outgoing(2, "whatsapp:+14155238886", address, "words", quote.content_sid, values)
            )
        assert not refused.value.retryable
    assert len(standin.refused_content) == 2 and len(standin.sent) == 1
    assert "left empty" in standin.refused_content[0]
    assert "SMS" in standin.refused_content[1]


def test_the_answered_once_invariant_fails_on_an_answer_repeated_or_never_given(
    session: Session,
) -> None:
    """The soak's check that production's worker path answers each message once: a turn
    with more replies at the end than its sender read (a job run twice), or a message
    still pending at the end, or one the bot failed to answer (left for staff), is a FAIL."""
    from bot.engine import FAILED_TURN_TITLE
    from models import Message, MessageStatus, PendingInbound, Task, utcnow
    from soak.invariants import inbound_answered_once
    from soak.journeys import Metrics
    from tests.factories import make_customer

    org = import_org(session)

    def message(sid: str | None, direction: str, reply_to: int | None = None) -> Message:
        customer, ours = "+12025550101", "+14155238886"
        row = Message(
            organization_id=org.id,
            direction=direction,
            channel="whatsapp",
            from_phone=customer if direction == "inbound" else ours,
            to_phone=ours if direction == "inbound" else customer,
            body="hi",
            status=MessageStatus.RECEIVED if direction == "inbound" else MessageStatus.SENT,
            provider_sid=sid,
            reply_to_id=reply_to,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row

    asked = message("SM" + "a" * 32, "inbound")
    message("SM" + "b" * 32, "outbound", asked.id)
    metrics = Metrics(sent_sids={asked.provider_sid or "": []})
    metrics.turn_replies[asked.provider_sid or ""] = 1
    assert inbound_answered_once(session, metrics)[0]

    message("SM" + "c" * 32, "outbound", asked.id)  # answered again after it was read
    ok, detail = inbound_answered_once(session, metrics)
    assert not ok and "1 with more or fewer replies now than their sender read" in detail

    metrics.turn_replies[asked.provider_sid or ""] = 2
    later = message("SM" + "d" * 32, "inbound")
    session.add(PendingInbound(organization_id=org.id, message_id=later.id, created_at=utcnow()))
    session.flush()
    ok, detail = inbound_answered_once(session, metrics)
    assert not ok and "1 never answered" in detail

    session.delete(session.get(PendingInbound, later.id))
    session.flush()
    assert inbound_answered_once(session, metrics)[0]
    customer = make_customer(session, org, "+12025550101", utcnow())
    session.add(
        Task(
            organization_id=org.id,
            customer_id=customer.id,
            kind="handoff",
            title=FAILED_TURN_TITLE,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    session.flush()
    ok, detail = inbound_answered_once(session, metrics)
    assert not ok and "1 the bot failed to answer" in detail
