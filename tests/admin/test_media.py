"""Files customers send (photos, voice notes, documents) are fetched by a job from
Twilio's media URL with the account's credentials (a fake media server, with responses),
kept with the message, shown and playable in the admin's conversation; over the size or
type limits, or unfetchable, they are marked with the reason and not fetched again."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from cli.chat import post_inbound
from config import TestConfig
from models import Conversation, MessageMedia, utcnow
from services import jobs, media
from services.runtime import Runtime
from tests.admin.support import OWNER, admin_catalog, as_staff
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import catalog_data
from tests.staff import make_staff

ACCOUNT = "AC" + "5" * 32
MESSAGES_API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'1' * 32}/Media"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 100
VOICE = b"OggS" + b"opus" * 200


def config() -> TestConfig:
    config = TestConfig()
    config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN = ACCOUNT, AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    return config


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    with factory() as s:
        org = import_org(s, utcnow(), **admin_catalog())
        make_staff(s, org, "owner", OWNER, "Olivia")
    return create_app(config())


@pytest.fixture
def server() -> Iterator[responses.RequestsMock]:
    """Twilio: its Messages API (the rep's notification) and its media URLs."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(MESSAGES_API, json={"sid": "SM" + "9" * 32, "status": "queued"}, status=201)
        yield mock


def send_files(chat: Chat, files: list[tuple[str, str]], body: str = "") -> None:
    form = chat.form(body)
    form["NumMedia"] = str(len(files))
    for i, (url, content_type) in enumerate(files):
        form[f"MediaUrl{i}"], form[f"MediaContentType{i}"] = url, content_type
    status, _ = post_inbound(chat.client, form, AUTH_TOKEN, BASE_URL)
    assert status == 200


def kept(factory: sessionmaker[Session]) -> list[MessageMedia]:
    with factory() as s:
        return list(s.scalars(select(MessageMedia).order_by(MessageMedia.id)))


def test_a_photo_and_a_voice_note_are_kept_and_shown_in_the_admin(
    server: responses.RequestsMock, client: FlaskClient, factory, app: Flask
) -> None:
    server.get(f"{MEDIA}/ME1", body=PHOTO, content_type="image/jpeg")
    server.get(f"{MEDIA}/ME2", body=VOICE, content_type="audio/ogg")
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    send_files(ada, [(f"{MEDIA}/ME1", "image/jpeg"), (f"{MEDIA}/ME2", "audio/ogg; codecs=opus")])

    fetched = [c for c in server.calls if "/Media/" in c.request.url]
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{AUTH_TOKEN}".encode()).decode()
    assert [c.request.headers["Authorization"] for c in fetched] == [expected, expected]
    photo, voice = kept(factory)
    assert (photo.status, photo.content_type, photo.size) == ("stored", "image/jpeg", len(PHOTO))
    assert (voice.status, voice.content_type) == ("stored", "audio/ogg")

    owner = as_staff(app.test_client(), OWNER)
    with factory() as s:
        conv_id = s.scalar(select(Conversation.id))
    page = owner.get(f"/admin/inbox/{conv_id}").text
    assert f'<img class="attachment" src="/admin/media/{photo.id}"' in page
    assert (
        f'<audio class="attachment" controls preload="none" src="/admin/media/{voice.id}">' in page
    )
    served = owner.get(f"/admin/media/{voice.id}")
    assert served.status_code == 200 and served.data == VOICE
    assert served.mimetype == "audio/ogg" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_another_organization_and_a_stranger_cannot_open_a_file(
    server: responses.RequestsMock, client: FlaskClient, factory, app: Flask
) -> None:
    server.get(f"{MEDIA}/ME1", body=PHOTO, content_type="image/jpeg")
    send_files(Chat(client, factory), [(f"{MEDIA}/ME1", "image/jpeg")])
    (photo,) = kept(factory)
    assert app.test_client().get(f"/admin/media/{photo.id}").status_code in (302, 401)
    other = catalog_data(
        organization={
            **catalog_data()["organization"],
            "slug": "other-co",
            "name": "Other Co",
            "numbers": ["+15005550009"],
        },
        staff=[],
        guides=[],
    )
    for tour in other["tours"]:
        tour.pop("departures", None)
        tour["schedule"] = []
    with factory() as s:
        make_staff(s, import_org(s, utcnow(), **other), "owner", "boss@other.example")
    intruder = as_staff(app.test_client(), "boss@other.example")
    assert intruder.get(f"/admin/media/{photo.id}").status_code == 404


def test_limits_and_failures_are_marked_and_not_fetched_again(
    server: responses.RequestsMock, client: FlaskClient, factory
) -> None:
    big = f"{MEDIA}/ME3"
    server.get(big, body=b"x", headers={"Content-Length": str(media.MAX_BYTES + 1)})
    server.get(f"{MEDIA}/ME4", status=404)
    send_files(
        Chat(client, factory),
        [
            (big, "video/mp4"),
            (f"{MEDIA}/ME4", "image/png"),
            (f"{MEDIA}/ME5", "text/vcard"),
            ("https://attacker.example/ME6", "image/jpeg"),
        ],
    )
    too_big, gone, vcard, elsewhere = kept(factory)
    # The account's credentials go to Twilio's addresses only.
    assert (elsewhere.status, elsewhere.error) == ("refused", "not a Twilio media address")
    assert (too_big.status, too_big.error) == ("failed", f"too large ({media.MAX_BYTES + 1} bytes)")
    assert (gone.status, gone.error, gone.attempts) == ("failed", "HTTP 404", 1)
    assert (vcard.status, vcard.error) == ("refused", "type text/vcard is not kept")
    assert not [c for c in server.calls if c.request.url.endswith("ME5")]  # never fetched
    runtime = Runtime(config(), factory)
    before = len(server.calls)
    jobs.run_sweep(runtime, utcnow() + timedelta(hours=2))
    assert len(server.calls) == before  # nothing marked is tried again


def test_a_server_error_is_retried_a_few_times_then_marked(
    server: responses.RequestsMock, client: FlaskClient, factory
) -> None:
    server.get(f"{MEDIA}/ME6", status=503)
    send_files(Chat(client, factory), [(f"{MEDIA}/ME6", "image/jpeg")], body="my passport")
    (row,) = kept(factory)
    assert (row.status, row.attempts, row.error) == ("pending", 1, "HTTP 503")
    runtime = Runtime(config(), factory)
    moment = utcnow()
    for _ in range(media.MAX_ATTEMPTS + 2):  # the sweep picks it up each time it is due
        moment += timedelta(hours=1)
        jobs.run_sweep(runtime, moment)
    (row,) = kept(factory)
    assert (row.status, row.attempts) == ("failed", media.MAX_ATTEMPTS)
    fetched = [c for c in server.calls if c.request.url.endswith("ME6")]
    assert len(fetched) == media.MAX_ATTEMPTS
