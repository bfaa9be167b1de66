"""Production fails closed: anything but the local embedded default refuses to start
without its secrets and says which are missing; the embedded default signs sessions with
a random key of its own, kept in the instance folder, never one from the repository."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

import app as app_module
from app import create_app
from config import Config, ConfigError, TestConfig
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://postgres@127.0.0.1:5432/tourbot_nowhere"

# Everything production needs, each a made-up value of the right shape.
COMPLETE = {
    "DATABASE_URL": PG,
    "SECRET_KEY": "k" * 64,
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-token",
    "STRIPE_SECRET_KEY": "sk_test_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_123",
    "PUBLIC_BASE_URL": "https://bot.example.com",
    "RUN_INPROCESS_SCHEDULER": "0",
}
NAMES = [
    "SECRET_KEY",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "PUBLIC_BASE_URL",
]


def flask_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`flask --app app ...` as the Procfile runs it, with only these variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in COMPLETE and k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_postgresql_database_without_secrets_refuses_to_start_naming_each() -> None:
    result = flask_cli({"DATABASE_URL": PG}, "routes")
    assert result.returncode == 1
    for name in NAMES:
        assert name in result.stderr, (name, result.stderr)
    assert "Traceback" not in result.stderr  # one clear message, not a stack trace
    assert "/webhooks/twilio/messages" not in result.stdout  # nothing was served


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_URL": "redis://127.0.0.1:6379/13"},  # SQLite, but jobs on Redis
        {"TOURBOT_ENV": "production"},  # said so explicitly
    ],
)
def test_anything_but_the_local_embedded_mode_is_production(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(Config(environ={"RUN_INPROCESS_SCHEDULER": "0", **env}))


@pytest.mark.parametrize("name", NAMES)
def test_each_missing_secret_alone_is_named(name: str) -> None:
    env = {k: v for k, v in COMPLETE.items() if k != name}
    with pytest.raises(ConfigError) as refused:
        create_app(Config(environ=env))
    named = [line.split()[1] for line in str(refused.value).splitlines() if line.startswith("  - ")]
    assert named == [name]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SECRET_KEY", "dev-only-insecure-key", "too weak"),  # the old published default
        ("SECRET_KEY", "short-key", "too weak"),
        ("PUBLIC_BASE_URL", "http://bot.example.com", "must be https"),
        ("PUBLIC_BASE_URL", "bot.example.com", "not a URL"),
    ],
)
def test_weak_or_plain_http_values_are_refused(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        create_app(Config(environ={**COMPLETE, name: value}))


@pytest.mark.parametrize("url", ["https://bot.example.com", "http://127.0.0.1:8765"])
def test_complete_production_settings_start(url: str) -> None:
    """Plain http is allowed for a loopback address only: the production stack run on this
    machine (the soak), which Twilio could never reach."""
    app = create_app(Config(environ={**COMPLETE, "PUBLIC_BASE_URL": url}))
    assert app.config["SECRET_KEY"] == COMPLETE["SECRET_KEY"]


def test_the_repository_publishes_no_secret_key() -> None:
    assert Config(environ={}).SECRET_KEY is None


def test_the_embedded_default_signs_sessions_with_its_own_random_key(
    pg_url: str,
    factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Made on first run and kept in the instance folder: a restart keeps people logged in,
    and a cookie from another installation (another key) is worth nothing."""
    with factory() as s:
        make_staff(s, import_org(s), "owner", "owner@example.org")

    def embedded_app(instance: Path) -> Flask:
        monkeypatch.setattr(app_module, "INSTANCE_PATH", instance)
        config = TestConfig()
        config.SECRET_KEY = None  # as in the embedded default, where nothing sets it
        return create_app(config)

    first = embedded_app(tmp_path / "instance")
    client = first.test_client()
    assert StaffClient(client).login("owner@example.org").status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None

    key_file = tmp_path / "instance" / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) == 64 and first.config["SECRET_KEY"] == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    restarted = embedded_app(tmp_path / "instance").test_client()
    restarted.set_cookie("session", cookie.value)
    assert restarted.get("/admin/").status_code == 200  # still logged in

    elsewhere = embedded_app(tmp_path / "other-instance")
    assert elsewhere.config["SECRET_KEY"] != key
    stranger = elsewhere.test_client()
    stranger.set_cookie("session", cookie.value)
    assert stranger.get("/admin/").status_code == 302  # to the login page
