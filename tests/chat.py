"""A customer (or guide) texting the app through the real, signed Twilio webhook."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli.chat import Shown, inbound_form, post_inbound, shown_since, tap_form
from models import Message
from services.whatsapp_content import LIST_PICKER, Choice

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
    last_shown: list[Shown] = field(default_factory=list)  # this turn's, maybe none

    def form(self, text: str) -> dict[str, str]:
        prefix = "whatsapp:" if self.whatsapp else ""
        to = WHATSAPP_NUMBER if self.whatsapp else SMS_NUMBER
        return inbound_form(prefix + self.phone, prefix + to, text, self.name)

    shown: list[Shown] = field(default_factory=list)  # the last turn's rows and buttons

    def say(self, text: str) -> str:
        """Sends a message; returns the replies joined by blank lines (the TwiML ones; a
        turn with WhatsApp rows or buttons goes through the outbox: see `shown`)."""
        return self._post(self.form(text))

    def tap(self, choice: int | str) -> str:
        """Taps row or button number `choice` (from 1) of the last message that had some,
        or sends a payload as a button's; returns the TwiML replies like say()."""
        shown = [m for m in self.shown if m.tappable]
        assert shown, "nothing to tap"
        message = shown[-1]
        if isinstance(choice, int):
            picked = message.choices[choice - 1]
        else:
            picked = next(c for c in message.choices if c.value == choice)
        return self._post(tap_form(self.form(""), picked, message.kind == LIST_PICKER))

    def tap_payload(self, payload: str, title: str = "OK", list_row: bool = False) -> str:
        """A tap on a button of an older message (or one we never sent)."""
        return self._post(tap_form(self.form(""), Choice(payload, title), list_row))

    def _post(self, form: dict[str, str]) -> str:
        self.sids.append(form["MessageSid"])
        with self.factory() as s:
            last_id = s.scalar(select(func.max(Message.id))) or 0
        status, replies = post_inbound(self.client, form, AUTH_TOKEN, BASE_URL)
        assert status == 200, status
        with self.factory() as s:
            shown = shown_since(s, last_id)
        self.shown = shown or self.shown
        self.last_shown = shown
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
