"""Rate limits: a flood from one number is throttled without hurting anyone else; password
guessing is stopped per account and per address; counts are shared through Redis by every
web process, and a Redis outage never closes the front door."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Message, utcnow
from services import ratelimit
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff
from tests.test_conversations import live_catalog


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    with factory() as s:
        org = import_org(s, utcnow(), **live_catalog())
        make_staff(s, org, "owner", "owner@example.org")
    return create_app(config)


def inbound_from(factory: sessionmaker[Session], phone: str) -> int:
    with factory() as s:
        return s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.direction == "inbound", Message.from_phone == phone)
        )


def test_a_flood_from_one_number_is_throttled_without_hurting_others(
    client: FlaskClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One counting window for the whole test: on a slow machine the 35 messages could
    # straddle a minute boundary, and the count would start again mid-flood.
    monkeypatch.setattr(ratelimit, "_window", lambda seconds: 0)
    flood = Chat(client, factory, phone="+12025550170", whatsapp=False)
    limit = ratelimit.INBOUND_PER_SENDER.count
    replies = [flood.say("hi") for _ in range(limit + 15)]
    assert all(replies[:limit])  # a person typing within the limit is answered every time
    assert not any(replies[limit:])  # then nothing: no reply, no database work
    assert inbound_from(factory, flood.phone) == limit
    other = Chat(client, factory, phone="+12025550171", whatsapp=False)
    assert "sunset" in other.say("sunset tour tomorrow for 2").lower()
    assert inbound_from(factory, other.phone) == 1


def test_password_guessing_is_stopped_per_account(client: FlaskClient, app: Flask) -> None:
    guesser = StaffClient(client)
    for _ in range(ratelimit.LOGIN_PER_ACCOUNT.count):
        assert guesser.login("owner@example.org", "wrong-password").status_code == 401
    blocked = guesser.login("owner@example.org", "correct-horse-battery")
    assert blocked.status_code == 429 and "Too many failed logins" in blocked.text
    # Another account from elsewhere is not affected.
    with app.test_client() as other:
        assert (
            StaffClient(other).login("nobody@example.org", "x").status_code == 401
        )  # refused as usual, not blocked


def test_password_guessing_across_accounts_is_stopped_per_address(client: FlaskClient) -> None:
    guesser = StaffClient(client)
    for n in range(ratelimit.LOGIN_PER_ADDRESS.count):
        guesser.login(f"user{n}@example.org", "guess")
    assert guesser.login("owner@example.org", "correct-horse-battery").status_code == 429


@pytest.mark.redis
def test_redis_counts_are_shared_by_every_process(redis_url: str) -> None:
    web_1, web_2 = ratelimit.RedisCounter(redis_url), ratelimit.RedisCounter(redis_url)
    limit = ratelimit.Limit("test", 3, 60)
    counts = [ratelimit.hit(limit, "+12025550172", web) for web in (web_1, web_2, web_1, web_2)]
    assert counts == [1, 2, 3, 4]
    assert ratelimit.exceeded(limit, "+12025550172", web_2)
    assert not ratelimit.exceeded(limit, "+12025550173", web_1)


def test_when_the_counter_is_unreachable_requests_are_let_through() -> None:
    down = ratelimit.RedisCounter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limit = ratelimit.Limit("test-down", 1, 60)
    assert ratelimit.hit(limit, "x", down) == 0
    assert not ratelimit.exceeded(limit, "x", down)
