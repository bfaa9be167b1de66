"""Files customers send (photos, voice notes, documents, videos): each is a row
(message_media) recorded with the message, then fetched by a job from Twilio's media URL
with the account's credentials and stored with it, so staff can see and play it in the
admin after Twilio has deleted it. Limits: the types below and MAX_BYTES; a file over
them, or one that cannot be fetched after MAX_ATTEMPTS tries (or at once on a 4xx), is
marked with the reason and never fetched again. Staff are told by the bot's answer to a
file (bot/attachments.py); this module only keeps the file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import MediaStatus, MessageMedia, utcnow
from services import media_states
from services.job_queue import JobQueue
from services.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for voice notes and videos
MAX_ATTEMPTS = 4
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
FETCH_TIMEOUT_SECONDS = 20
# What WhatsApp and MMS carry that a browser can show or play; anything else (an .exe,
# an .html page) is kept as a link only, never served from our address.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
    }
)
# In session.info: ids of media rows recorded and not yet handed to a fetch job.
PENDING = "media_pending"


def base_type(content_type: str | None) -> str:
    """ "audio/ogg; codecs=opus" -> "audio/ogg"."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _from_twilio(url: str) -> bool:
    """Our credentials go only to Twilio's own https addresses."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def record(
    session: Session,
    organization_id: int,
    message_id: int,
    files: Sequence[tuple[str, str]],
    now: datetime,
) -> list[MessageMedia]:
    """One row per (url, content type) of an inbound message, pending unless its type is
    refused; fetched by fetch_job once the caller commits (enqueue_pending)."""
    rows = []
    for position, (url, content_type) in enumerate(files):
        kind = base_type(content_type)
        twilios = _from_twilio(url)
        allowed = kind in ALLOWED_TYPES and twilios
        rows.append(
            MessageMedia(
                organization_id=organization_id,
                message_id=message_id,
                position=position,
                source_url=url[:1000],
                content_type=kind[:100] or "application/octet-stream",
                status=MediaStatus.PENDING if allowed else MediaStatus.REFUSED,
                error=None
                if allowed
                else f"type {kind or 'unknown'} is not kept"
                if twilios
                else "not a Twilio media address",
                next_attempt_at=now if allowed else None,
                created_at=now,
                updated_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    session.info.setdefault(PENDING, []).extend(
        r.id for r in rows if r.status == MediaStatus.PENDING
    )
    return rows


def enqueue_pending(session: Session, jobs: JobQueue) -> None:
    """After the commit: a fetch job for each file recorded in it. A job lost (Redis
    down) leaves the row pending, and the sweep enqueues it again."""
    for media_id in session.info.pop(PENDING, []):
        try:
            jobs.enqueue(fetch_job, media_id)
        except Exception as exc:
            log.warning("could not enqueue media %s (%s); the sweep will", media_id, exc)


def fetch_job(runtime: Runtime, media_id: int) -> str:
    with runtime.sessions() as session:
        return fetch(session, media_id, utcnow(), runtime)


class FetchError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _download(url: str, auth: tuple[str, str] | None) -> tuple[bytes, str | None]:
    """The file, read in pieces so an oversized one is refused without being held whole.
    requests drops the credentials when Twilio redirects to its storage's address."""
    try:
        with requests.get(url, auth=auth, stream=True, timeout=FETCH_TIMEOUT_SECONDS) as resp:
            if resp.status_code >= 400:
                retryable = resp.status_code == 429 or resp.status_code >= 500
                raise FetchError(f"HTTP {resp.status_code}", retryable=retryable)
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_BYTES:
                raise FetchError(f"too large ({int(declared)} bytes)", retryable=False)
            data = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise FetchError(f"too large (over {MAX_BYTES} bytes)", retryable=False)
            return bytes(data), resp.headers.get("Content-Type")
    except requests.RequestException as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}"[:300], retryable=True) from None


def fetch(session: Session, media_id: int, now: datetime, runtime: Runtime) -> str:
    """Fetches one pending file. Safe to run twice: the row is locked and only a pending
    one is fetched."""
    row = session.scalar(
        select(MessageMedia).where(MessageMedia.id == media_id).with_for_update(skip_locked=True)
    )
    if row is None or row.status != MediaStatus.PENDING:
        session.rollback()
        return "skipped"
    config = runtime.config
    auth = (
        (config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN)
        if config.TWILIO_ACCOUNT_SID and config.TWILIO_AUTH_TOKEN
        else None
    )
    row.attempts += 1
    row.updated_at = now
    try:
        data, served_type = _download(row.source_url, auth)
    except FetchError as exc:
        row.error = str(exc)[:300]
        if exc.retryable and row.attempts < MAX_ATTEMPTS:
            delay = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            row.next_attempt_at = now + delay
            session.commit()
            JobQueue.of(runtime).enqueue_in(delay, fetch_job, media_id)
            return "retrying"
        media_states.transition(row, MediaStatus.FAILED, now)
        row.next_attempt_at = None
        session.commit()
        log.warning("media %s not fetched: %s", media_id, exc)
        return "failed"
    if served_type and base_type(served_type) in ALLOWED_TYPES:
        row.content_type = base_type(served_type)
    row.data, row.size = data, len(data)
    media_states.transition(row, MediaStatus.STORED, now)
    row.next_attempt_at, row.error = None, None
    session.commit()
    return "stored"


def due(session: Session, now: datetime) -> list[int]:
    """Pending files whose fetch is due (its job lost, or its retry time come)."""
    return list(
        session.scalars(
            select(MessageMedia.id)
            # A minute's grace, so the sweep does not race the job enqueued at the commit.
            .where(
                MessageMedia.status == MediaStatus.PENDING,
                MessageMedia.next_attempt_at <= now - timedelta(minutes=1),
            )
            .order_by(MessageMedia.id)
            .limit(200)
        )
    )


def for_messages(session: Session, message_ids: Sequence[int]) -> dict[int, list[MessageMedia]]:
    """The files of these messages, by message, in the order sent (without their bytes)."""
    out: dict[int, list[MessageMedia]] = {}
    if not message_ids:
        return out
    rows = session.scalars(
        select(MessageMedia)
        .where(MessageMedia.message_id.in_(list(message_ids)))
        .order_by(MessageMedia.message_id, MessageMedia.position)
    )
    for row in rows:
        out.setdefault(row.message_id, []).append(row)
    return out
