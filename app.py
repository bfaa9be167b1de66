"""The Flask application factory. It only wires things together; each register_* step
plugs in one area. `app` at module level is what gunicorn serves (Procfile)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.routing import IntegerConverter, Map

from config import INSTANCE_PATH, Config, ConfigError, check_production, instance_secret_key
from extensions import RUNTIME, csrf, db
from services.runtime import Runtime

log = logging.getLogger(__name__)


class DatabaseInt(IntegerConverter):
    """<int:...>: a whole number from 0 to 2**31 - 1 (PostgreSQL's and SQLite's ids)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    check_production(config)  # fails closed: no production without its secrets
    app = Flask(__name__, instance_path=str(INSTANCE_PATH), instance_relative_config=True)
    if not config.SECRET_KEY:
        config.SECRET_KEY = instance_secret_key(Path(app.instance_path))
    # Flask and its extensions read their own settings (SECRET_KEY, SESSION_COOKIE_*...) from
    # app.config; our code reads the Config itself, through extensions.app_config().
    app.config.from_object(config)
    register_logging(config)
    # Before any route: <int:...> in an address is at most a database integer, so a longer
    # number is 404 (SQLite, the embedded default's, raised OverflowError: a 500).
    app.url_map.converters["int"] = DatabaseInt
    register_proxies(app, config)
    register_request_limits(app)  # before CSRF, which reads the form
    register_extensions(app, config)
    register_blueprints(app, config)
    register_error_handlers(app)
    register_security_headers(app, config)
    register_cli(app)
    register_scheduler(app, config)
    return app


def register_logging(config: Config) -> None:
    import log_redaction

    log_redaction.install()
    # Alembic announces each of its plugins at INFO on every command; that says nothing.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.basicConfig(
        level=config.LOG_LEVEL, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def register_proxies(app: Flask, config: Config) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from exactly TRUSTED_PROXIES proxies (the
    nginx of deploy/, by default in production): request.remote_addr is then the client's
    own address, which the login limits count by, and nothing a client adds is believed."""
    if config.TRUSTED_PROXIES:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = config.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]


# Request bodies by route, in bytes (the first matching prefix wins; MAX_CONTENT_LENGTH
# for the rest). A body over its limit is refused with 413 before it is read: a 300 MB POST
# once cost a worker over 1 GiB of memory before the webhook's signature check said 403.
BODY_LIMITS = (
    ("/webhooks/twilio/", 64 * 1024),  # a few KB of form fields
    ("/webhooks/stripe", 256 * 1024),  # one event's JSON
    ("/pay/", 16 * 1024),  # a button
    ("/approve/", 16 * 1024),
    ("/api/", 16 * 1024),  # GET only
    ("/admin/login", 16 * 1024),
)


def register_request_limits(app: Flask) -> None:
    @app.before_request
    def _limit_body() -> None:
        limit = next(
            (size for prefix, size in BODY_LIMITS if request.path.startswith(prefix)),
            app.config["MAX_CONTENT_LENGTH"],
        )
        # Refused at once when the declared length is over, whatever the view would do
        # first; a body without a declared length is cut off at the limit as it is read.
        request.max_content_length = limit
        if (request.content_length or 0) > limit:
            abort(413)

    @app.before_request
    def _no_nul_bytes() -> None:
        # No address, parameter or form field of ours has a NUL byte in it, and PostgreSQL
        # cannot even compare one: /pay/BK-%00 was a 500. The webhooks keep a message with
        # a NUL in it, minus the NUL (their own business).
        if "\x00" in request.path:
            abort(404)
        if b"%00" in request.query_string:
            abort(400, "A parameter has a NUL byte in it.")
        if (
            request.method == "POST"
            and not request.path.startswith("/webhooks/")
            and any("\x00" in value for value in request.form.values())
        ):
            abort(400, "A field has a NUL byte in it.")


def register_extensions(app: Flask, config: Config) -> None:
    if config.is_sqlite:
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    db.init_app(app, config)
    csrf.init_app(app)
    # The one Config, and what in-process jobs (the embedded default's) run with.
    app.extensions[RUNTIME] = Runtime(config, db.factory_of(app))


def register_blueprints(app: Flask, config: Config) -> None:
    from admin import init_admin
    from api import api_bp, health_bp
    from pages import approve_bp, pay_bp
    from pages import voice as page_voice
    from webhooks import stripe_bp, twilio_bp

    # Signed by Twilio/Stripe, or GET-only, or (pay) creating nothing but a checkout: no CSRF.
    for blueprint in (twilio_bp, stripe_bp, api_bp, pay_bp):
        csrf.exempt(blueprint)

    app.register_blueprint(health_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(twilio_bp, url_prefix="/webhooks")
    app.register_blueprint(stripe_bp, url_prefix="/webhooks")
    app.register_blueprint(pay_bp)
    app.register_blueprint(approve_bp)
    page_voice.install(app)  # the customer pages' _() and ngettext()
    init_admin(app)

    @app.get("/")
    def home() -> ResponseReturnValue:
        return redirect(url_for("admin.dashboard"))

    if not config.TWILIO_AUTH_TOKEN:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: Twilio webhook signatures are NOT checked "
            "(the local embedded default only; production refuses to start without it)"
        )


# What staff read above the reason a request was refused.
STAFF_ERROR_TITLES = {400: "Not done", 403: "Not allowed for your role", 404: "Not found"}


def register_error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from pages import voice as page_voice

    def wants_json() -> bool:
        return request.path.startswith(("/api/", "/webhooks/", "/health"))

    def staff_page() -> bool:
        from flask_login import current_user

        return request.path.startswith("/admin/") and bool(current_user.is_authenticated)

    def way_back() -> str:
        """The admin page the request came from (the form that was refused), else the
        dashboard: never an address of another site."""
        from urllib.parse import urlsplit

        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/admin/"):
            return request.referrer or ""
        return url_for("admin.dashboard")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if wants_json():
            return jsonify(error=exc.name, message=exc.description), exc.code or 500
        if staff_page() and (exc.code or 500) < 500:
            # Staff stay in the admin: the top bar, the reason, and the way back to the
            # form they were on (a bare page left them nothing but the browser's Back).
            title = STAFF_ERROR_TITLES.get(exc.code or 500, exc.name)
            return render_template(
                "admin/error.html", title=title, message=exc.description, back=way_back()
            ), exc.code or 500
        return render_template(
            "pay/message.html", title=exc.name, message=exc.description
        ), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> ResponseReturnValue:
        # Never a stack trace to the client; the log has it.
        log.exception("unhandled error")
        if not wants_json():
            voice = page_voice.current()  # the customer's, on a page that knew them
            return render_template(
                "pay/message.html",
                title=voice._("Something went wrong"),
                message=voice._("Sorry, that did not work. It has been logged."),
            ), 500
        return jsonify(
            error="Internal Server Error", message="Something went wrong; it has been logged."
        ), 500


# Every response: scripts only from this site or inline with this response's nonce (no
# injected <script>, no onclick=), nothing framed, forms posting only here or to Stripe
# Checkout. Inline styles stay allowed: the pages use style="..." attributes, and a style
# cannot run anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self' https://checkout.stripe.com"
)


def csp_nonce() -> str:
    """This response's script nonce, for <script nonce="{{ csp_nonce() }}">."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def register_security_headers(app: Flask, config: Config) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    https = (config.PUBLIC_BASE_URL or "").startswith("https://")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY.format(nonce=csp_nonce())
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure or https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith("/admin"):
            # Staff pages hold customers' data: never kept by a shared browser or proxy.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_cli(app: Flask) -> None:
    from cli import register_commands

    register_commands(app)


def register_scheduler(app: Flask, config: Config) -> None:
    """Embedded default only: sweep in a thread of the serving process. Started on the
    first request, so CLI commands and tests never start it."""
    if not (config.is_embedded and config.RUN_INPROCESS_SCHEDULER and not config.TESTING):
        return
    from services.jobs import InProcessScheduler

    scheduler = InProcessScheduler(app.extensions[RUNTIME])

    @app.before_request
    def _start_scheduler() -> None:
        if "scheduler" not in app.extensions:
            app.extensions["scheduler"] = scheduler
            scheduler.start()
            log.info("embedded default: sweeping holds and waitlist offers every minute in-process")


def __getattr__(name: str) -> Flask:
    # `app` for gunicorn ("app:app") and `flask`, built on first use so that importing
    # create_app (tests, workers) does not build a default app as a side effect.
    if name == "app":
        try:
            built = create_app()
        except ConfigError as exc:
            # `flask ...` prints this as one clear error and exits 1; a gunicorn worker
            # fails to boot, and gunicorn stops rather than serve without secrets.
            import click

            raise click.ClickException(str(exc)) from None
        globals()["app"] = built
        return built
    raise AttributeError(name)
