"""Rate limits: a flood from one number is throttled without hurting anyone else; password
guessing is stopped per account and per address; counts are shared through Redis by every
web process, and a Redis outage never closes the front door."""

from __future__ import annotations

import re
import threading

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


def test_when_redis_is_unreachable_counting_goes_on_in_memory() -> None:
    down = ratelimit.RedisCounter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limit = ratelimit.Limit("test-down", 2, 60)
    assert [ratelimit.hit(limit, "x", down) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.exceeded(limit, "x", down)
    assert not ratelimit.exceeded(limit, "y", down)


def login_form(client: FlaskClient) -> dict[str, str]:
    page = client.get("/admin/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token
    return {"csrf_token": token[1]}


def test_parallel_guesses_are_counted_before_any_password_is_checked(app: Flask) -> None:
    """40 guesses at once against a limit of 10: 10 passwords are checked, 30 refused
    unchecked (17 were checked when the count came after the check)."""
    guessers = [app.test_client() for _ in range(40)]
    forms = [login_form(c) for c in guessers]
    start = threading.Barrier(len(guessers))
    statuses: list[int] = []

    def guess(client: FlaskClient, form: dict[str, str], n: int) -> None:
        start.wait()
        response = client.post(
            "/admin/login",
            data={**form, "email": "owner@example.org", "password": f"guess-{n}"},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=guess, args=(c, f, n))
        for n, (c, f) in enumerate(zip(guessers, forms, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [401] * 10 + [429] * 30


def test_login_limits_hold_while_redis_is_down(pg_url: str, factory: sessionmaker[Session]) -> None:
    config = TestConfig()
    config.REDIS_URL = "redis://127.0.0.1:1/0"  # production's counter, unreachable
    with factory() as s:
        make_staff(s, import_org(s), "owner", "owner@example.org")
    guesser = StaffClient(create_app(config).test_client())
    for _ in range(ratelimit.LOGIN_PER_ACCOUNT.count):
        assert guesser.login("owner@example.org", "wrong-password").status_code == 401
    assert guesser.login("owner@example.org").status_code == 429


def test_behind_the_proxy_each_client_address_is_counted_apart(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    """50 bad logins from one address (one counter for everybody, before) lock that address
    out, not the owner logging in from another; and what a client writes into
    X-Forwarded-For itself does not change its address (nginx appends the real one)."""
    config = TestConfig()
    config.TRUSTED_PROXIES = 1
    with factory() as s:
        make_staff(s, import_org(s), "owner", "owner@example.org")
    app = create_app(config)
    attacker = StaffClient(app.test_client())
    for n in range(ratelimit.LOGIN_PER_ADDRESS.count):
        forged = f"10.0.{n}.1, 203.0.113.9"  # the client's own claim, then nginx's entry
        attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = forged
        assert attacker.login(f"user{n}@example.org", "guess").status_code == 401
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.9.9.9, 203.0.113.9"
    assert attacker.login("user99@example.org", "guess").status_code == 429
    owner = StaffClient(app.test_client())
    owner.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert owner.login("owner@example.org").status_code == 302
