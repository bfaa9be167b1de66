"""Login, sessions, cookies, CSRF, and `flask users create`."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Config
from models import Message
from tests.admin.support import OWNER, as_staff, conversation_of
from tests.chat import Chat
from tests.staff import StaffClient


def test_pages_need_a_login_and_a_wrong_password_is_refused(client: FlaskClient) -> None:
    response = client.get("/admin/inbox")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    staff = StaffClient(client)
    refused = staff.login(OWNER, "not-the-password")
    assert refused.status_code == 401
    assert "do not match" in refused.text
    assert staff.login("nobody@example.com").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_login_logout_and_the_cookie_flags(client: FlaskClient) -> None:
    staff = StaffClient(client)
    response = staff.login(OWNER)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/admin/")
    assert page.status_code == 200 and "Olivia" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")  # served as https
    staff.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_the_session_cookie_is_secure_when_served_over_https() -> None:
    assert Config({"PUBLIC_BASE_URL": "https://bot.example.com"}).SESSION_COOKIE_SECURE
    assert not Config({}).SESSION_COOKIE_SECURE  # the embedded default is plain http


def test_login_never_redirects_off_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x"):
        page = client.get("/admin/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        response = client.post(
            f"/admin/login?next={target}",
            data={"email": OWNER, "password": "correct-horse-battery", "csrf_token": token},
        )
        assert response.headers["Location"] == "/admin/"
        client.get("/admin/")  # the login worked
        StaffClient(
            client, re.search(r'csrf-token" content="([^"]+)"', client.get("/admin/").text)[1]
        ).post("/admin/logout")  # type: ignore[index]


def test_a_session_ends_after_its_absolute_limit(client: FlaskClient) -> None:
    as_staff(client, OWNER)
    with client.session_transaction() as sess:
        sess["logged_in_at"] -= 25 * 3600
    assert client.get("/admin/").status_code == 302


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("can I talk to someone")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
    response = owner.client.post(f"/admin/inbox/{conv.id}/reply", data={"body": "hello"})
    assert response.status_code == 400
    assert "CSRF" in response.text
    response = owner.client.post(f"/admin/inbox/{conv.id}/resolve", data={"csrf_token": "forged"})
    assert response.status_code == 400
    with factory() as s:
        assert conversation_of(s, ada.phone).status == "pending"
        assert not s.scalars(select(Message).where(Message.kind == "agent")).all()


def test_the_login_form_itself_needs_the_csrf_token(client: FlaskClient) -> None:
    response = client.post(
        "/admin/login", data={"email": OWNER, "password": "correct-horse-battery"}
    )
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_flask_users_create(app: Flask, factory: sessionmaker[Session]) -> None:
    runner = app.test_cli_runner()

    def create(org: str, role: str, email: str, password: str, *extra: str):  # type: ignore[no-untyped-def]
        return runner.invoke(
            args=[
                "users",
                "create",
                "--org",
                org,
                "--role",
                role,
                "--email",
                email,
                "--password",
                password,
                *extra,
            ]
        )

    result = create("adventure-treks", "ops", "New@Example.com", "a-long-password", "--name", "Nia")
    assert result.exit_code == 0, result.output
    assert "Created ops new@example.com" in result.output
    again = create("adventure-treks", "ops", "new@example.com", "a-long-password")
    assert again.exit_code == 1 and "already has an account" in again.output
    short = create("adventure-treks", "sales", "s@example.com", "short")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    nowhere = create("nope", "sales", "t@example.com", "a-long-password")
    assert nowhere.exit_code == 1 and "no organization" in nowhere.output
    staff = StaffClient(app.test_client())
    assert staff.login("new@example.com", "a-long-password").status_code == 302
