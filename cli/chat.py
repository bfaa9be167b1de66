"""`flask chat`: talk to the bot as a customer would, through the real webhook.

Each line is posted to /webhooks/twilio/messages in-process, as Twilio posts it (form
fields, a fresh MessageSid, and an X-Twilio-Signature made with twilio's own
RequestValidator when TWILIO_AUTH_TOKEN is set). Prints the replies, and every other
message the turn caused (to sales reps, ops, other customers) from the outbox."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from extensions import app_config, db
from models import Channel, Message, MessageStatus, OrganizationNumber, WhatsAppContent
from services.phones import InvalidPhone, format_address, normalize_phone
from services.whatsapp_content import LIST_PICKER, QUICK_REPLY, Choice, preview

PATH = "/webhooks/twilio/messages"


def post_inbound(
    client: FlaskClient,
    form: dict[str, str],
    auth_token: str | None,
    base_url: str = "http://localhost",
) -> tuple[int, list[str]]:
    """Posts one signed inbound message; returns the HTTP status and the TwiML replies."""
    headers = {}
    if auth_token:
        headers["X-Twilio-Signature"] = RequestValidator(auth_token).compute_signature(
            base_url + PATH, form
        )
    response = client.post(PATH, data=form, headers=headers, base_url=base_url)
    replies = []
    if response.status_code == 200 and response.data:
        root = ET.fromstring(response.data)
        replies = [(m.findtext("Body") or m.text or "").strip() for m in root.iter("Message")]
    return response.status_code, replies


def inbound_form(
    from_address: str, to_address: str, body: str, profile_name: str | None = None
) -> dict[str, str]:
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": from_address,
        "To": to_address,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    if profile_name:
        form["ProfileName"] = profile_name
    return form


def tap_form(form: dict[str, str], choice: Choice, list_row: bool) -> dict[str, str]:
    """An inbound form as Twilio posts a tap: the title as the Body, and the payload as
    ButtonPayload (quick reply) or ListId (list row)."""
    form = dict(form, Body=choice.title)
    if list_row:
        form.update(ListId=choice.value, ListTitle=choice.title)
    else:
        form.update(ButtonPayload=choice.value, ButtonText=choice.title)
    return form


@dataclass(frozen=True)
class Shown:
    """A reply as WhatsApp shows it: its body, its rows or buttons (none for words)."""

    kind: str  # twilio/list-picker, twilio/quick-reply, twilio/call-to-action; "text"
    body: str
    choices: list[Choice]
    words: str  # the numbered text SMS (and any fallback) gets

    @property
    def tappable(self) -> bool:
        return self.kind in (LIST_PICKER, QUICK_REPLY)


def shown_since(session: Session, last_id: int, *, words: bool = False) -> list[Shown]:
    """The replies sent with rows or buttons since message last_id, in order; with
    `words`, the plain ones sent with them too (a turn with rows or buttons sends all its
    replies through the outbox: "Yes, vegetarian is fine" before the list of departures)."""
    rows = session.scalars(
        select(Message)
        .where(
            Message.id > last_id,
            Message.kind == "reply",
            Message.status != MessageStatus.REPLY,
        )
        .order_by(Message.id)
    )
    out = []
    for row in rows:
        if row.template_sid is None:
            if words:
                out.append(Shown("text", row.body, [], row.body))
            continue
        content = session.scalar(
            select(WhatsAppContent).where(
                WhatsAppContent.organization_id == row.organization_id,
                WhatsAppContent.content_sid == row.template_sid,
            )
        )
        if content is None:
            continue
        body, choices = preview(content.definition, row.template_variables or {})
        ((kind, _),) = content.definition["types"].items()
        out.append(Shown(kind, body, choices, row.body))
    return out


@click.command("chat")
@click.option(
    "--from", "from_phone", required=True, help="The customer's phone, e.g. +15551234567."
)
@click.option(
    "--to", "to_phone", help="The organization's number (default: the first one on the channel)."
)
@click.option("--whatsapp", is_flag=True, help="Write on WhatsApp instead of SMS.")
@click.option("--name", help="WhatsApp profile name to send.")
@click.option(
    "--script", type=click.File("r"), help="Replay the lines of a file and print the transcript."
)
@with_appcontext
def chat_command(
    from_phone: str, to_phone: str | None, whatsapp: bool, name: str | None, script: IO[str] | None
) -> None:
    channel = Channel.WHATSAPP if whatsapp else Channel.SMS
    try:
        sender = normalize_phone(from_phone)
        to = (
            normalize_phone(to_phone)
            if to_phone
            else db.session.scalar(
                select(OrganizationNumber.phone)
                .where(OrganizationNumber.channel == channel)
                .order_by(OrganizationNumber.id)
            )
        )
    except InvalidPhone as exc:
        raise click.BadParameter(exc.message) from None
    if not to:
        raise click.UsageError(
            f"no organization has a {channel} number; load a catalog first (flask demo load)"
        )
    config = app_config()
    # The chat prints each answer: answered here, in the TwiML, even where workers answer.
    config.ANSWER_IN_WORKER = False
    client = current_app.test_client()
    base = (config.PUBLIC_BASE_URL or "http://localhost").rstrip("/")
    lines = script if script is not None else _prompt_lines()
    last_shown: list[Shown] = []
    for line in lines:
        text = line.rstrip("\n")
        if script is not None:
            click.echo(f"> {text}")
        last_id = db.session.scalar(select(func.max(Message.id))) or 0
        db.session.rollback()
        form = inbound_form(
            format_address(channel, sender), format_address(channel, to), text, name
        )
        if pin := LOCATION_LINE.match(text):  # "/location 27.7153,85.3123 Hotel Yak"
            form.update(Body="", Latitude=pin["lat"], Longitude=pin["lon"], Label=pin["label"])
        if tap := TAP_LINE.match(text):  # "/tap 2" or "/tap tb1:hold:SUN-1"
            picked = _pick(last_shown, tap["what"].strip())
            if picked is None:
                click.echo("  (nothing to tap: /tap N picks a row or button shown last)")
                continue
            form = tap_form(form, *picked)
            click.echo(f"  [tapped {picked[0].title!r}]")
        status, replies = post_inbound(client, form, config.TWILIO_AUTH_TOKEN, base)
        if status != 200:
            click.echo(f"  (HTTP {status})")
        for reply in replies:
            click.echo("< " + reply.replace("\n", "\n  "))
        shown = shown_since(db.session, last_id, words=True)
        for message in shown:
            click.echo("< " + message.body.replace("\n", "\n  "))
            for number, choice in enumerate(message.choices, 1):
                detail = f" – {choice.description}" if choice.description else ""
                where = "" if message.tappable else f" -> {choice.value}"
                click.echo(f"  [{number}] {choice.title}{detail}{where}")
        last_shown = [m for m in shown if m.tappable][-1:] or last_shown
        caused = db.session.scalars(
            select(Message)
            .where(Message.id > last_id, Message.direction == "outbound", Message.kind != "reply")
            .order_by(Message.id)
        )
        for msg in caused:
            click.echo(
                f"  [outbox {msg.channel} to {msg.to_phone}, {msg.status}] {msg.body}".replace(
                    "\n", " / "
                )
            )
        db.session.rollback()


TAP_LINE = re.compile(r"^/tap\s+(?P<what>\S.*)$", re.IGNORECASE)


def _pick(shown: list[Shown], what: str) -> tuple[Choice, bool] | None:
    """ "2": the second row or button of the last message with some; else a payload."""
    if not shown:
        return (Choice(what, what), False) if not what.isdigit() else None
    message = shown[-1]
    if what.isdigit():
        index = int(what) - 1
        if not 0 <= index < len(message.choices):
            return None
        return message.choices[index], message.kind == LIST_PICKER
    for choice in message.choices:
        if choice.value == what:
            return choice, message.kind == LIST_PICKER
    return Choice(what, what), False


LOCATION_LINE = re.compile(
    r"^/location\s+(?P<lat>-?[\d.]+)\s*,\s*(?P<lon>-?[\d.]+)\s*(?P<label>.*)$", re.IGNORECASE
)


def _prompt_lines() -> Iterator[str]:
    click.echo(
        "Type a message and press Enter (Ctrl-D to quit); "
        '"/location LAT,LON [name]" shares a location pin; "/tap N" taps row or button N '
        "of the last WhatsApp message that has some."
    )
    while True:
        try:
            yield click.prompt("", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            return
