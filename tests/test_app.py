"""The app factory, /health, configuration, and the embedded default end to end."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from config import INSTANCE_PATH, Config
from extensions import app_config
from models import WhatsAppContent
from models.db import make_engine
from tests.test_production_config import COMPLETE


def test_no_environment_means_the_embedded_default() -> None:
    config = Config(environ={})
    assert config.DATABASE_URL == f"sqlite:///{INSTANCE_PATH / 'tourbot.db'}"
    assert config.is_embedded and config.is_sqlite
    assert config.TWILIO_AUTH_TOKEN is None and config.STRIPE_SECRET_KEY is None


def test_production_urls_are_normalised() -> None:
    config = Config(
        environ={"DATABASE_URL": "postgres://u:p@db/x", "REDIS_URL": "redis://r:6379/0"}
    )
    assert config.DATABASE_URL == "postgresql+psycopg2://u:p@db/x"
    assert not config.is_embedded


def test_health_reports_database_to_its_operators(client: FlaskClient, app) -> None:
    app_config(app).HEALTH_TOKEN = "operators-only"
    response = client.get("/health", headers={"Authorization": "Bearer operators-only"})
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_health_says_503_when_the_database_is_unreachable() -> None:
    config = Config(
        environ={
            **COMPLETE,
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
            "HEALTH_TOKEN": "operators-only",
        }
    )
    client = create_app(config).test_client()
    response = client.get("/health", headers={"Authorization": "Bearer operators-only"})
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")
    assert client.get("/health").status_code == 503


def test_embedded_default_migrates_loads_the_demo_and_serves(tmp_path: Path) -> None:
    """What `make run` does, on a throwaway SQLite file: upgrade, demo load (twice), serve."""
    config = Config(
        environ={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
            "RUN_INPROCESS_SCHEDULER": "0",
        }
    )
    app = create_app(config)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "4 tours" in first.output
    # WhatsApp's rows and buttons are recorded locally: `flask chat --whatsapp` shows them.
    assert "adventure-treks: " in first.output and " 0 failed" in first.output, first.output
    with Session(make_engine(config.DATABASE_URL)) as s:
        assert s.scalar(select(func.count()).select_from(WhatsAppContent)) > 10
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "created nothing" in again.output

    token = runner.invoke(args=["api-token", "create", "--org", "adventure-treks"]).output.strip()
    client = app.test_client()
    app_config(app).HEALTH_TOKEN = "operators-only"
    health = client.get("/health", headers={"Authorization": "Bearer operators-only"}).json
    assert health["checks"]["mode"] == "embedded" and int(health["checks"]["departures"]) > 100
    deps = client.get(
        "/api/v1/departures?tour=food-tour&limit=500", headers={"Authorization": f"Bearer {token}"}
    ).json["items"]
    full = [d for d in deps if d["spots_left"] == 0]
    assert len(full) == 1 and full[0]["waitlist_length"] == 1
    assert runner.invoke(args=["api-token", "create", "--org", "nope"]).exit_code == 1


def test_unexpected_errors_are_a_500_without_a_trace(client: FlaskClient, app) -> None:
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
