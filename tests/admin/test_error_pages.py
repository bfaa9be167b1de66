"""A refusal in the admin (400, 403, 404) is shown to staff inside the admin, with the top
bar, the reason and a way back to the page they came from, never a bare page with no way
out."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound

from tests.staff import StaffClient

BASE = "http://localhost"


def test_a_refused_form_shows_the_reason_in_the_admin_with_a_way_back(
    ops: StaffClient,
) -> None:
    form = f"{BASE}/admin/departures/CITY3/cancel"
    page = ops.client.post(
        "/admin/departures/CITY3/cancel",
        data={"reason": "storm", "confirm": "CITY33", "csrf_token": ops.csrf},
        headers={"Referer": form},
    )
    assert page.status_code == 400
    assert "Type the departure code (CITY3) to confirm." in page.text
    assert 'class="topbar"' in page.text  # the admin's frame: search, menu, + Book
    assert f'href="{form}" data-back' in page.text  # back to the form they were on


def test_a_missing_booking_or_a_forbidden_action_stays_in_the_admin(
    ops: StaffClient, sales: StaffClient
) -> None:
    page = ops.get("/admin/bookings/BK-NOPE1")
    assert page.status_code == 404 and 'class="topbar"' in page.text
    assert 'href="/admin/" data-back' in page.text  # nowhere to go back to: the dashboard
    refused = sales.get("/admin/crisis/cancel?code=CITY3")
    assert refused.status_code == 403 and 'class="topbar"' in refused.text
    assert "cannot do that" in refused.text


def test_a_referer_from_elsewhere_is_not_offered_as_the_way_back(ops: StaffClient) -> None:
    page = ops.client.get("/admin/bookings/BK-NOPE1", headers={"Referer": "https://evil.example/x"})
    assert page.status_code == 404 and "evil.example" not in page.text


def test_outside_the_admin_or_logged_out_errors_are_as_before(client: FlaskClient) -> None:
    page = client.get("/admin/bookings/BK-NOPE1")
    assert page.status_code == 302  # to the login page
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.is_json
    plain = client.get("/no-such-page")
    assert plain.status_code == 404 and 'class="topbar"' not in plain.text


def test_an_id_too_large_for_the_database_is_not_found(app: Flask, ops: StaffClient) -> None:
    """<int:...> in an address stops at a database integer (2**31 - 1): the embedded
    default's SQLite raised OverflowError, a 500, on /admin/customers/99999999999999999999."""
    routes = app.url_map.bind("localhost")
    endpoint, args = routes.match("/admin/customers/2147483647")
    assert endpoint == "admin.customer_page" and args == {"customer_id": 2147483647}
    for url in ("/admin/customers/2147483648", "/admin/inbox/99999999999999999999/messages"):
        with pytest.raises(NotFound):
            routes.match(url)
        page = ops.get(url)
        assert page.status_code == 404 and 'class="topbar"' in page.text
