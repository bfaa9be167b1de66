"""Who can get in: logging out ends every session of that person (copied cookies too);
owners deactivate staff (logged out at once) and create, revoke and let expire API tokens,
from the admin's Access page and from the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import StaffUser, utcnow
from services import api_tokens
from tests.admin.support import OWNER, SALES, as_staff, the_org
from tests.conftest import import_org
from tests.factories import catalog_data
from tests.staff import StaffClient, make_staff

API = "/api/v1/departures"


def user_id(factory: sessionmaker[Session], email: str) -> int:
    with factory() as s:
        return s.scalars(select(StaffUser.id).where(StaffUser.email == email)).one()


def copy_of_session(app: Flask, staff: StaffClient) -> FlaskClient:
    """Another browser holding the same session cookie (a copied or stolen one)."""
    other = app.test_client()
    cookie = staff.client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def logged_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


def test_logout_ends_a_copied_session_and_the_persons_other_sessions(
    app: Flask, owner: StaffClient
) -> None:
    copied = copy_of_session(app, owner)
    laptop = as_staff(app.test_client(), OWNER)
    assert logged_in(copied) and logged_in(laptop)
    owner.post("/admin/logout")
    assert not logged_in(owner.client)
    assert not logged_in(copied)  # it kept working after logout, before
    assert not logged_in(laptop)
    assert logged_in(as_staff(app.test_client(), OWNER).client)  # logging in again works


def test_an_owner_deactivates_staff_who_are_logged_out_at_once(
    app: Flask, owner: StaffClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    assert logged_in(sales.client)
    page = owner.get("/admin/access")
    assert page.status_code == 200 and SALES in page.text
    done = owner.post(f"/admin/access/staff/{user_id(factory, SALES)}/deactivate")
    assert "can no longer log in" in done.text
    assert not logged_in(sales.client)
    assert StaffClient(app.test_client()).login(SALES).status_code == 401
    owner.post(f"/admin/access/staff/{user_id(factory, SALES)}/reactivate")
    assert StaffClient(app.test_client()).login(SALES).status_code == 302


def test_only_owners_manage_access(
    owner: StaffClient, sales: StaffClient, ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    for person in (sales, ops):
        assert person.get("/admin/access").status_code == 403
        response = person.post(f"/admin/access/staff/{user_id(factory, OWNER)}/deactivate")
        assert response.status_code == 403
        assert person.post("/admin/access/tokens", {"name": "x"}).status_code == 403
    # The owners' Team menu entry (staff, tokens, settings) is not offered to the others.
    assert 'href="/admin/access"' in owner.get("/admin/").text
    assert 'href="/admin/access"' not in sales.get("/admin/").text


def test_an_owner_cannot_lock_the_organization_out(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    refused = owner.post(f"/admin/access/staff/{user_id(factory, OWNER)}/deactivate")
    assert "cannot deactivate your own account" in refused.text
    with factory() as s:
        assert s.get(StaffUser, user_id(factory, OWNER)).active  # type: ignore[union-attr]


def test_another_organizations_staff_and_tokens_are_404(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        other = import_org(
            s,
            utcnow(),
            **catalog_data(
                organization={
                    **catalog_data()["organization"],
                    "slug": "other-co",
                    "numbers": ["+15005550009"],
                },
                staff=[],
                guides=[],
                tours=[],
            ),
        )
        stranger = make_staff(s, other, "sales", "stranger@example.org")
        token = api_tokens.create_token(s, other, utcnow())
        s.commit()
        token_id = api_tokens.tokens_of(s, other)[0].id
    assert owner.post(f"/admin/access/staff/{stranger.id}/deactivate").status_code == 404
    assert owner.post(f"/admin/access/tokens/{token_id}/revoke").status_code == 404
    assert (
        StaffClient(owner.client.application.test_client()).login(stranger.email).status_code == 302
    )
    assert owner.client.get(API, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_owner_creates_a_token_shown_once_and_revokes_it(
    owner: StaffClient, client: FlaskClient
) -> None:
    created = owner.post("/admin/access/tokens", {"name": "website", "expires_in_days": "30"})
    token = re.search(r'<code id="new-token">(tb_[^<]+)</code>', created.text)
    assert token, created.text
    bearer = {"Authorization": f"Bearer {token[1]}"}
    assert client.get(API, headers=bearer).status_code == 200
    page = owner.get("/admin/access")
    assert token[1] not in page.text and token[1][:10] in page.text  # only its start, later
    token_id = re.search(r"/admin/access/tokens/(\d+)/revoke", page.text)[1]  # type: ignore[index]
    assert "revoked" in owner.post(f"/admin/access/tokens/{token_id}/revoke").text
    refused = client.get(API, headers=bearer)
    assert refused.status_code == 401 and refused.json["message"] == "invalid API token"


def test_an_expired_token_is_refused_saying_so(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        stale = api_tokens.create_token(
            s, org, utcnow() - timedelta(days=31), expires_in=timedelta(days=30)
        )
        fresh = api_tokens.create_token(
            s, org, utcnow() - timedelta(days=29), expires_in=timedelta(days=30)
        )
        s.commit()
    refused = client.get(API, headers={"Authorization": f"Bearer {stale}"})
    assert refused.status_code == 401 and "expired" in refused.json["message"]
    assert client.get(API, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_the_cli_creates_lists_and_revokes_tokens_and_deactivates_staff(
    app: Flask, client: FlaskClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    runner = app.test_cli_runner()
    with factory() as s:
        slug = the_org(s).slug
    made = runner.invoke(
        args=["api-token", "create", "--org", slug, "--name", "crm", "--expires-in-days", "7"]
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(API, headers=bearer).status_code == 200
    listed = runner.invoke(args=["api-token", "list", "--org", slug]).output
    line = next(row for row in listed.splitlines() if token[:10] in row)
    assert "crm" in line and "active until" in line and token not in listed
    revoked = runner.invoke(args=["api-token", "revoke", "--org", slug, "--id", line.split()[0]])
    assert revoked.exit_code == 0 and client.get(API, headers=bearer).status_code == 401

    assert runner.invoke(args=["users", "deactivate", "--email", SALES]).exit_code == 0
    assert not logged_in(sales.client)
    assert (
        f"{SALES}\tsales\tdeactivated"
        in runner.invoke(args=["users", "list", "--org", slug]).output
    )
    with factory() as s:
        owners = s.scalars(select(StaffUser.email).where(StaffUser.role == "owner")).all()
    for other_owner in set(owners) - {OWNER}:
        assert runner.invoke(args=["users", "deactivate", "--email", other_owner]).exit_code == 0
    last_owner = runner.invoke(args=["users", "deactivate", "--email", OWNER])
    assert last_owner.exit_code == 1 and "only active owner" in last_owner.output
    assert runner.invoke(args=["users", "reactivate", "--email", SALES]).exit_code == 0
    assert StaffClient(app.test_client()).login(SALES).status_code == 302
