"""A customer (or guide) texting the app through the real, signed Twilio webhook."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.chat import inbound_form, post_inbound
from models import Message

AUTH_TOKEN = "test-twilio-auth-token"
BASE_URL = "https://bot.example.com"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"


@dataclass
class Chat:
    client: FlaskClient
    factory: sessionmaker[Session]
    phone: str = "+12025550101"
    whatsapp: bool = True
    name: str | None = None
    sids: list[str] = field(default_factory=list)

    def form(self, text: str) -> dict[str, str]:
        prefix = "whatsapp:" if self.whatsapp else ""
        to = WHATSAPP_NUMBER if self.whatsapp else SMS_NUMBER
        return inbound_form(prefix + self.phone, prefix + to, text, self.name)

    def say(self, text: str) -> str:
        """Sends a message; returns the replies joined by blank lines."""
        form = self.form(text)
        self.sids.append(form["MessageSid"])
        status, replies = post_inbound(self.client, form, AUTH_TOKEN, BASE_URL)
        assert status == 200, status
        return "\n\n".join(replies)

    def outbox(self, since_id: int = 0) -> list[Message]:
        """Messages to anyone but the sender of the TwiML replies (notifications)."""
        with self.factory() as s:
            return list(
                s.scalars(
                    select(Message)
                    .where(
                        Message.direction == "outbound",
                        Message.kind != "reply",
                        Message.id > since_id,
                    )
                    .order_by(Message.id)
                )
            )
