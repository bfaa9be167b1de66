"""A staff member using the admin through Flask's test client: logs in with the real form
and posts every action with the session's CSRF token, as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import Organization, StaffUser
from services import staff as staff_service

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_staff(
    session: Session, org: Organization, role: str, email: str, name: str | None = None
) -> StaffUser:
    user = staff_service.create_user(
        session,
        org,
        email=email,
        name=name or email.split("@")[0].title(),
        role=role,
        password=PASSWORD,
    )
    session.commit()
    return user


@dataclass
class StaffClient:
    client: FlaskClient
    csrf: str = ""

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        page = self.client.get("/admin/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token, page.text
        response = self.client.post(
            "/admin/login", data={"email": email, "password": password, "csrf_token": token[1]}
        )
        if response.status_code == 302:
            self.csrf = CSRF.search(self.client.get("/admin/").text)[1]  # type: ignore[index]
        return response

    def get(self, url: str) -> TestResponse:
        return self.client.get(url)

    def post(
        self, url: str, data: dict[str, str] | None = None, follow: bool = True
    ) -> TestResponse:
        return self.client.post(
            url, data={**(data or {}), "csrf_token": self.csrf}, follow_redirects=follow
        )
