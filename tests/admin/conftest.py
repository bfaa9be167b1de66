"""Fixtures for the admin tests: the app with the test catalog and three staff members,
and each of them logged in through the real login form."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import utcnow
from tests.admin.support import OPS, OWNER, SALES, admin_catalog, as_staff
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    with factory() as s:
        org = import_org(s, utcnow(), **admin_catalog())
        make_staff(s, org, "owner", OWNER, "Olivia")
        make_staff(s, org, "ops", OPS, "Priya")
        make_staff(s, org, "sales", SALES, "Sam")
    return create_app(config)


@pytest.fixture
def owner(client: FlaskClient) -> StaffClient:
    return as_staff(client, OWNER)


@pytest.fixture
def sales(app: Flask) -> StaffClient:
    return as_staff(app.test_client(), SALES)


@pytest.fixture
def ops(app: Flask) -> StaffClient:
    return as_staff(app.test_client(), OPS)


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone="+12025550101", name="Ada")


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()
