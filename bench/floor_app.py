"""The floor under bench/webhook.py: the bookkeeping every message needs, layer by layer,
without the conversation engine. Run by bench/webhook_floor.py under gunicorn.

FLOOR_LAYERS picks how much of it the endpoint does (each layer adds to the one before):
  1  validate X-Twilio-Signature (RequestValidator) and answer with MessagingResponse
  2  count the sender in Redis (the per-sender rate limit, one pipelined round trip)
  3  find the organization, customer and conversation (the app's sender query)
  4  log the inbound message and the reply, bump the conversation's counters: the
     app's own Core statements, one transaction, no ORM

Level 4 is the least any webhook can do that answers each MessageSid once, logs every
message and keeps the conversation in the database: dedup by MessageSid and the log need
the two inserts."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import Connection, Row, bindparam, create_engine, update
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.engine import _LOG_INBOUND, _LOG_REPLY, _SENDER_QUERY
from models import Conversation, Organization, utcnow
from services.phones import parse_address
from services.ratelimit import INBOUND_PER_SENDER, RedisCounter

LAYERS = int(os.environ["FLOOR_LAYERS"])
TOKEN = os.environ["TWILIO_AUTH_TOKEN"]
URL = os.environ["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/twilio/messages"
REPLY = "You're welcome!"

app = Flask(__name__)
counts = RedisCounter(os.environ["REDIS_URL"])
# As the app's engine (extensions.py): pooled, pinged at checkout.
engine = create_engine(os.environ["DATABASE_URL"], pool_size=8, pool_pre_ping=True)
organizations, conversations = Organization.__table__, Conversation.__table__
_BUMP = (
    update(conversations)
    .where(conversations.c.id == bindparam("conversation"))
    .values(
        unread_count=conversations.c.unread_count + 1,
        last_inbound_at=bindparam("now"),
        last_message_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)


@app.post("/webhooks/twilio/messages")
def message() -> Response:
    form = request.form
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(TOKEN).validate(URL, form, signature):
        return Response("forbidden", status=403)
    channel, from_phone = parse_address(form["From"])
    to_channel, to_phone = parse_address(form["To"])
    if LAYERS >= 2:
        counts.add(f"{INBOUND_PER_SENDER.name}:{to_phone}:{from_phone}", 60)
    if LAYERS >= 3:
        with engine.begin() as conn:
            sender = conn.execute(
                _SENDER_QUERY,
                {
                    "from_phone": from_phone,
                    "channel": channel,
                    "to_channel": to_channel,
                    "to_phone": to_phone,
                },
            ).first()
            if LAYERS >= 4 and sender is not None:
                log(conn, sender, channel, from_phone, to_phone, form)
    response = MessagingResponse()
    response.message(REPLY)
    return Response(str(response), mimetype="application/xml")


def log(
    conn: Connection, sender: Row[Any], channel: str, from_phone: str, to_phone: str, form: Any
) -> None:
    now = utcnow()
    org_id = sender._mapping[organizations.c.id]
    conversation_id = sender._mapping[conversations.c.id]
    common = {"organization_id": org_id, "conversation_id": conversation_id, "channel": channel}
    inbound_id = conn.execute(
        _LOG_INBOUND,
        {
            **common,
            "direction": "inbound",
            "from_phone": from_phone,
            "to_phone": to_phone,
            "body": form.get("Body", ""),
            "media": [],
            "status": "received",
            "kind": "customer",
            "provider_sid": form["MessageSid"],
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    conn.execute(
        _LOG_REPLY,
        [
            {
                **common,
                "direction": "outbound",
                "from_phone": to_phone,
                "to_phone": from_phone,
                "body": REPLY,
                "status": "reply",
                "kind": "reply",
                "reply_to_id": inbound_id,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    if conversation_id is not None:
        conn.execute(_BUMP, {"conversation": conversation_id, "now": now})
