"""Configuration from the environment. No variables at all gives the embedded default:
SQLite in the instance folder, jobs in-process, console transport, demo catalog.

Anything else is production, and production fails closed: create_app() refuses to start
without the secrets that keep sessions, webhooks and payments honest (check_production)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs say postgres://, which SQLAlchemy 2 no longer accepts.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


class ConfigError(Exception):
    """The configuration is not safe to serve with; the message says what to set."""


class Config:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self.DATABASE_URL = _normalise_db_url(
            env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'tourbot.db'}"
        )
        self.REDIS_URL = env.get("REDIS_URL") or None
        # TOURBOT_ENV=production makes even a SQLite, Redis-less setup check its secrets.
        self.TOURBOT_ENV = (env.get("TOURBOT_ENV") or "").strip().lower()
        # Unset in the embedded default: create_app() uses the instance folder's own random
        # key (instance_secret_key), so no key published in the repository signs a session.
        self.SECRET_KEY = env.get("SECRET_KEY") or None
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
        # One Rasa server per further language (RASA_URL_PT, ...), as `make rasa` trains them.
        self.RASA_URLS = {
            code: url
            for code in ("pt", "es", "fr", "de")
            if (url := env.get(f"RASA_URL_{code.upper()}"))
        }
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # How many proxies stand in front of gunicorn; only their X-Forwarded-* entries are
        # believed (werkzeug's ProxyFix), counted from the right. Production's default is
        # the nginx the Procfile runs; with nothing in front, 0, or any client could claim
        # any address (and escape the login limits).
        raw_proxies = env.get("TRUSTED_PROXIES") or ("0" if self.is_local_embedded else "1")
        if not (raw_proxies.isascii() and raw_proxies.isdigit() and int(raw_proxies) <= 5):
            raise ConfigError(f"TRUSTED_PROXIES must be a number from 0 to 5, not {raw_proxies!r}")
        self.TRUSTED_PROXIES = int(raw_proxies)
        # /health gives its details (database, Redis, mode) only to a request bearing this.
        self.HEALTH_TOKEN = env.get("HEALTH_TOKEN") or None
        # Request bodies: this much at most, refused with 413 before they are read (app.py
        # lowers it per route; deploy/nginx.conf refuses the same sizes in front).
        self.MAX_CONTENT_LENGTH = 256 * 1024
        self.MAX_FORM_MEMORY_SIZE = 64 * 1024
        self.MAX_FORM_PARTS = 200
        # The in-process sweep thread is for the embedded default only; production
        # runs the sweep from the RQ scheduler.
        self.RUN_INPROCESS_SCHEDULER = env.get("RUN_INPROCESS_SCHEDULER", "1") == "1"
        # 1 when the SMS numbers' Messaging Service has Twilio's Advanced Opt-Out: an opt-out
        # then comes with OptOutType=STOP, and any other word (CANCEL, once dropped from its
        # opt-out list) is the customer's to say (docs/conversations.md).
        self.TWILIO_ADVANCED_OPT_OUT = env.get("TWILIO_ADVANCED_OPT_OUT", "0") == "1"
        # With Redis, the message webhook stores the message and answers Twilio at once; an
        # RQ worker answers the customer through the REST API (bot/inbound.py). 0 answers in
        # the webhook's TwiML, as the embedded default always does (its jobs run in-process).
        self.ANSWER_IN_WORKER = env.get("ANSWER_IN_WORKER", "1") == "1"
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
        """Jobs run in this process (no Redis): how work is scheduled, not how safe it is."""
        return self.REDIS_URL is None

    @property
    def answers_in_worker(self) -> bool:
        """Whether the webhook leaves the answer to a worker (only with Redis: without it
        a job would run in the webhook anyway, and TwiML is then the quicker way back)."""
        return self.ANSWER_IN_WORKER and self.REDIS_URL is not None

    @property
    def is_local_embedded(self) -> bool:
        """The one-command local mode (`make run`): SQLite, no Redis, and not declared
        production. Only this mode may run without production's secrets."""
        return self.is_sqlite and self.REDIS_URL is None and self.TOURBOT_ENV != "production"

    @property
    def signing_key(self) -> str:
        """SECRET_KEY, which create_app() always sets (from the environment or the instance
        folder) before anything signs a link with it."""
        if not self.SECRET_KEY:
            raise ConfigError("SECRET_KEY is not set")
        return self.SECRET_KEY

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


# Production refuses these: the old published default, and placeholders people paste.
KNOWN_SECRET_KEYS = frozenset({"dev-only-insecure-key", "changeme", "secret", "soak-secret"})
MIN_SECRET_KEY = 32


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def production_problems(config: Config) -> list[str]:
    """What is missing or unsafe for serving real customers; empty when all is well.

    Each secret closes a door that is open without it: SECRET_KEY signs staff sessions and
    owners' approval links; TWILIO_AUTH_TOKEN is how webhooks prove they come from Twilio
    (without it anyone could text as a guide and read a manifest); the Stripe keys are how
    a payment is real (without them the fake checkout would confirm bookings for free);
    PUBLIC_BASE_URL is the URL Twilio signs and links point to, so a client's forwarded
    headers never decide it."""
    problems = []
    key = config.SECRET_KEY or ""
    if not key:
        problems.append("SECRET_KEY is not set (it signs staff sessions and approval links)")
    elif key in KNOWN_SECRET_KEYS or len(key) < MIN_SECRET_KEY:
        problems.append(
            f"SECRET_KEY is too weak (use at least {MIN_SECRET_KEY} random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if not config.TWILIO_AUTH_TOKEN:
        problems.append("TWILIO_AUTH_TOKEN is not set (Twilio webhook signatures)")
    if not config.TWILIO_ACCOUNT_SID:
        problems.append("TWILIO_ACCOUNT_SID is not set (sending messages)")
    if not config.STRIPE_SECRET_KEY:
        problems.append("STRIPE_SECRET_KEY is not set (real payments)")
    if not config.STRIPE_WEBHOOK_SECRET:
        problems.append("STRIPE_WEBHOOK_SECRET is not set (Stripe webhook signatures)")
    url = config.PUBLIC_BASE_URL or ""
    parts = urlsplit(url)
    if not url:
        problems.append(
            "PUBLIC_BASE_URL is not set (the https address Twilio, Stripe and customers use)"
        )
    elif not parts.hostname or parts.scheme not in ("https", "http"):
        problems.append(f"PUBLIC_BASE_URL {url!r} is not a URL like https://bot.example.com")
    elif parts.scheme != "https" and not _is_loopback(parts.hostname):
        # Plain http only on this machine (a local run of the production stack, which
        # Twilio could never reach): anywhere else cookies and links would travel in clear.
        problems.append(f"PUBLIC_BASE_URL {url!r} must be https")
    return problems


def check_production(config: Config) -> None:
    """Raises ConfigError naming everything missing, unless this is the local embedded mode
    or a test configuration."""
    if config.TESTING or config.is_local_embedded:
        return
    problems = production_problems(config)
    if problems:
        raise ConfigError(
            "Refusing to start in production mode (a PostgreSQL DATABASE_URL, a REDIS_URL or "
            "TOURBOT_ENV=production):\n  - "
            + "\n  - ".join(problems)
            + "\nSee the production checklist in README.md. For a local trial, unset "
            "DATABASE_URL and REDIS_URL (`make run`)."
        )


def instance_secret_key(instance: Path) -> str:
    """The embedded default's own session key: random, made on first run and kept in the
    instance folder (readable by this user only), so restarts keep people logged in."""
    path = instance / "secret_key"
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    else:
        if len(key) < MIN_SECRET_KEY:
            raise ConfigError(f"{path} does not hold a usable key: delete it to make a new one")
        return key
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    draft = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    try:
        # A hard link appears whole or not at all: two processes starting at once agree on
        # the first one's key, and neither reads a half-written file.
        os.link(draft, path)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    finally:
        draft.unlink()
    return key


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
        self.TRUSTED_PROXIES = 0  # tests that play a proxy set it
        self.RUN_INPROCESS_SCHEDULER = False
        self.TESTING = True
