"""POST /webhooks/twilio/messages and /webhooks/twilio/status.

Every request must carry a valid X-Twilio-Signature (twilio's RequestValidator over the
public URL and every form field), or it gets 403 and changes nothing. The message webhook
answers with TwiML carrying the reply to the sender, well inside Twilio's 15 s; anything
for anyone else goes through the outbox."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot import inbound
from bot.engine import (
    Inbound,
    Sender,
    find_sender,
    handle_inbound,
    replies_for_sid,
    store_inbound,
)
from extensions import app_config, db, job_queue, rate_counter, retry_on_lost_connection
from models import Message, utcnow
from services import jobs, outbox, ratelimit
from services import media as files
from services.phones import InvalidPhone, mask_phone, parse_address

log = logging.getLogger(__name__)

twilio_bp = Blueprint("twilio", __name__)

MAX_MEDIA = 10


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL (production cannot start without it). The
    embedded default may go without, and then it is the URL as this request arrived,
    X-Forwarded-* headers included only from the TRUSTED_PROXIES configured (app.py):
    never what any client says it is."""
    config = app_config()
    path = request.full_path if request.query_string else request.path
    if config.PUBLIC_BASE_URL:
        return config.PUBLIC_BASE_URL.rstrip("/") + path
    return request.host_url.rstrip("/") + path


def signature_ok() -> bool:
    config = app_config()
    token = config.TWILIO_AUTH_TOKEN
    if not token:
        # Only the local embedded default (and tests) run without the token, and the log
        # said so at start; production cannot start without it (config.check_production).
        return bool(config.is_local_embedded or config.TESTING)
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(token).validate(
        public_url(), request.form, signature
    )


# A message's SID as Twilio writes it: SM (MM with media) and 32 lowercase hex digits.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


def valid_sid(sid: str) -> bool:
    """Exactly Twilio's format. The signature runs names and values together
    ("MessageSidSM...NumMedia0"), so a signed request re-sent with its MessageSid set to
    "SM...NumMedia0" and NumMedia left out still verifies: only the exact format stops it
    from passing as a new message."""
    return MESSAGE_SID.fullmatch(sid) is not None


def twiml(replies: list[str]) -> Response:
    response = MessagingResponse()
    for text in replies:
        for part in outbox.split_body(text):
            response.message(part)
    return Response(str(response), mimetype="application/xml")


def shared_location(form: Any) -> str | None:
    """A WhatsApp location pin (Latitude, Longitude, and Label/Address for a named place) as
    text a person can read and open: "Hotel Yak, Thamel https://maps.google.com/?q=27.7,85.3"."""
    try:
        lat, lon = float(form.get("Latitude", "")), float(form.get("Longitude", ""))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # nan fails both comparisons
        return None
    place = ", ".join(
        dict.fromkeys(
            " ".join(form.get(key, "").replace("\x00", "").split())[:200]
            for key in ("Label", "Address")
            if form.get(key, "").strip()
        )
    )
    link = f"https://maps.google.com/?q={lat:.6f},{lon:.6f}"
    return f"{place} {link}" if place else link


def tapped(form: Any) -> str | None:
    """A tap on a WhatsApp quick-reply button (ButtonPayload) or list row (ListId): the
    payload we gave it. Its title comes as the Body (ButtonText / ListTitle too), which is
    what the log shows and what is read if the payload is not one of ours."""
    value = (form.get("ButtonPayload") or form.get("ListId") or "").replace("\x00", "").strip()
    return value[:200] or None


def forbidden() -> Response:
    log.warning("refused a Twilio webhook with a missing or wrong signature")
    return Response("forbidden", status=403, mimetype="text/plain")


def warm_up(app: Flask) -> None:
    """Loads the NLU now rather than during the first customer's message, so a fresh
    worker answers at full speed (not needed where workers answer: bot/inbound.py)."""
    config = app_config(app)
    if not config.answers_in_worker:
        inbound.warm_up(inbound.nlu_of(config, app.instance_path))


@twilio_bp.post("/twilio/messages")
@retry_on_lost_connection
def inbound_message() -> Response:
    if not signature_ok():
        return forbidden()
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not valid_sid(sid):
        return Response("MessageSid is required", status=400, mimetype="text/plain")
    try:
        channel, from_phone = parse_address(form.get("From", ""))
        to_channel, to_phone = parse_address(form.get("To", ""))
    except InvalidPhone:
        # The raw value is not logged: it is someone's number, or junk, either way not ours.
        log.warning("inbound message %s with an unusable From or To number", sid)
        return twiml([])
    config = app_config()
    count = ratelimit.hit(ratelimit.INBOUND_PER_SENDER, f"{to_phone}:{from_phone}", rate_counter())
    if count > ratelimit.INBOUND_PER_SENDER.count:
        # A flood from one number (a loop, a script): dropped before any database work so
        # it cannot slow down anyone else. No reply: every reply would be a logged message.
        log.warning("inbound message %s from %s throttled", sid, mask_phone(from_phone))
        return twiml([])
    try:
        media_count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        media_count = 0
    indexes = [i for i in range(media_count) if form.get(f"MediaUrl{i}")]
    media = tuple(form.get(f"MediaUrl{i}", "")[:1000] for i in indexes)
    media_types = tuple(form.get(f"MediaContentType{i}", "")[:100] for i in indexes)
    msg = Inbound(
        channel=channel,
        from_phone=from_phone,
        to_phone=to_phone,
        body=(form.get("Body") or form.get("ButtonText") or form.get("ListTitle") or "").replace(
            "\x00", ""
        ),
        provider_sid=sid,
        profile_name=form.get("ProfileName"),
        media=media,
        media_types=media_types,
        location=shared_location(form),
        tap=tapped(form),
        opt_out_type=(form.get("OptOutType") or "").strip().upper()[:20] or None,
    )
    sender = find_sender(db.session, msg, to_channel)
    if sender is None:
        log.warning(
            "inbound message %s to %s, a number no organization owns", sid, mask_phone(to_phone)
        )
        return twiml([])
    if config.answers_in_worker:
        return _store_for_worker(sender, msg, to_channel)
    nlu = inbound.nlu_of(config, current_app.instance_path)
    try:
        replies = handle_inbound(db.session, sender, msg, nlu, utcnow(), config)
        # The replies go back in the TwiML below; messages to anyone else (sales, ops, an
        # owner, other customers) are sent once this commit has them.
        outbox.commit_and_send(db.session, job_queue())
        files.enqueue_pending(db.session, job_queue())
    except IntegrityError:
        # Twilio delivered this MessageSid before (a retry, or two at once): answer with the
        # replies given then, and change nothing. Any other integrity error is a bug: raise.
        db.session.rollback()
        earlier_from = _earlier_sender(sid)
        if earlier_from is None:
            raise
        if earlier_from != (sender.org.id, from_phone):
            return _sid_taken(sid)
        earlier = replies_for_sid(db.session, sid)
        if earlier is None:
            raise
        return twiml(earlier)
    return twiml(replies)


def _store_for_worker(sender: Sender, msg: Inbound, to_channel: str) -> Response:
    """With workers answering (bot/inbound.py): the message stored, its answer enqueued,
    and Twilio answered at once with empty TwiML; the replies follow through the REST API.
    A job that cannot be enqueued (Redis down) leaves the message pending: the sweep
    enqueues it again."""
    try:
        message_id = store_inbound(db.session, sender, msg, to_channel, utcnow())
        db.session.commit()
    except IntegrityError:
        # A repeated MessageSid: answered (or being answered) once already, by the REST API.
        db.session.rollback()
        earlier_from = _earlier_sender(msg.provider_sid)
        if earlier_from is None:
            raise
        if earlier_from != (sender.org.id, msg.from_phone):
            return _sid_taken(msg.provider_sid)
        return twiml([])
    try:
        job_queue().enqueue(
            inbound.answer_job,
            message_id,
            (sender.org.id, msg.channel, msg.from_phone),
            job_id=jobs.answer_job_id(message_id),
            result_ttl=0,
        )
    except Exception as exc:
        log.warning("could not enqueue the answer to %s (%s); the sweep will", message_id, exc)
    return twiml([])


def _sid_taken(sid: str) -> Response:
    # The SID is taken by another sender or organization: not a retry, and their replies
    # are theirs. Twilio never does this.
    log.warning("inbound message %s reuses another sender's MessageSid", sid)
    return Response("MessageSid already used", status=400, mimetype="text/plain")


def _earlier_sender(sid: str) -> tuple[int, str] | None:
    """(organization, sender) of the message already stored under this SID, if any."""
    row = db.session.execute(
        select(Message.organization_id, Message.from_phone).where(Message.provider_sid == sid)
    ).first()
    return None if row is None else (row[0], row[1])


@twilio_bp.post("/twilio/status")
@retry_on_lost_connection
def message_status() -> Response:
    if not signature_ok():
        return forbidden()
    sid = (request.form.get("MessageSid") or request.form.get("SmsSid") or "").strip()
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip()
    if not valid_sid(sid) or not status:
        return Response(
            "MessageSid and MessageStatus are required", status=400, mimetype="text/plain"
        )
    row = db.session.scalar(select(Message).where(Message.provider_sid == sid).with_for_update())
    if row is None:
        return Response(status=204)  # not ours (or a TwiML reply we do not track): nothing to do
    if outbox.apply_status(
        db.session, row, status, request.form.get("ErrorCode") or None, utcnow()
    ):
        db.session.commit()
    else:
        db.session.rollback()
    return Response(status=204)
