"""Configuration from the environment. No variables at all gives the embedded default:
SQLite in the instance folder, jobs in-process, console transport, demo catalog."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs say postgres://, which SQLAlchemy 2 no longer accepts.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


class Config:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self.DATABASE_URL = _normalise_db_url(
            env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'tourbot.db'}"
        )
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.SECRET_KEY = env.get("SECRET_KEY") or "dev-only-insecure-key"
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL") or None
        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID") or None
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN") or None
        # Only for pointing the client at a local stand-in of Twilio's API (soak tests).
        self.TWILIO_API_BASE = env.get("TWILIO_API_BASE") or None
        self.STRIPE_SECRET_KEY = env.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = env.get("STRIPE_WEBHOOK_SECRET") or None
        # Only for pointing the client at a local stand-in of Stripe's API (soak tests).
        self.STRIPE_API_BASE = env.get("STRIPE_API_BASE") or None
        self.RASA_URL = env.get("RASA_URL") or None
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # The in-process sweep thread is for the embedded default only; production
        # runs the sweep from the RQ scheduler.
        self.RUN_INPROCESS_SCHEDULER = env.get("RUN_INPROCESS_SCHEDULER", "1") == "1"
        self.TESTING = False
        # Admin sessions: cookie only over HTTPS when served over HTTPS, never readable by
        # scripts, and ending after 8 idle hours (24 hours at most, see admin/auth.py).
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = (self.PUBLIC_BASE_URL or "").startswith("https://")
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    @property
    def is_embedded(self) -> bool:
        return self.REDIS_URL is None

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


class TestConfig(Config):
    """Tests run against the real PostgreSQL and Redis on this machine."""

    __test__ = False  # not a pytest test class

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        env.setdefault(
            "DATABASE_URL",
            env.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tourbot_test"),
        )
        super().__init__(env)
        # Jobs run in-process unless a test wires RQ to the real Redis itself.
        self.REDIS_URL = None
        self.SECRET_KEY = "test-secret"
        self.RUN_INPROCESS_SCHEDULER = False
        self.TESTING = True
