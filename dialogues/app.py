"""An app of its own for playing the dialogues: a throwaway SQLite database (or the one
given), migrated, with Twilio signatures checked, no sweep thread, and quiet logs."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from flask import Flask

from cli.db import alembic_config
from config import Config
from dialogues.runner import AUTH_TOKEN, BASE_URL


def replay_config(database_url: str) -> Config:
    config = Config(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": BASE_URL,
            "SECRET_KEY": "dialogue-replay-" + "x" * 32,
            "RUN_INPROCESS_SCHEDULER": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    # Only a replay: jobs run in this process, like the tests' TestConfig.
    config.REDIS_URL = None
    config.TRUSTED_PROXIES = 0
    config.RUN_INPROCESS_SCHEDULER = False
    config.TESTING = True
    return config


@contextmanager
def replay_app(database_url: str | None = None) -> Iterator[Flask]:
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="dialogues-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'dialogues.db'}"
        logging.getLogger("alembic").setLevel(logging.WARNING)
        command.upgrade(alembic_config(url), "head")
        app = create_app(replay_config(url))
        logging.getLogger().setLevel(logging.WARNING)
        yield app
