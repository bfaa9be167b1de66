"""The read-only JSON API: bearer tokens, filters, clear errors, and tenant isolation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from models import LeadSource
from services import api_tokens, bookings, inventory, waitlist
from services.leads import LeadContext, create_lead
from tests.conftest import import_org
from tests.factories import catalog_data, departure, make_customer


@pytest.fixture
def world(factory: sessionmaker[Session], now: datetime) -> dict:
    """Two organizations with data; a token for each."""
    with factory() as s:
        org = import_org(s, now)
        dep = departure(s, org, "CITY0120")
        ada = make_customer(s, org, "+12025550101", now, name="Ada")
        lead = create_lead(
            s, org, ada, now, source=LeadSource.WHATSAPP, context=LeadContext(notes="city walk")
        )
        held = inventory.hold_seats(
            s, org, dep, ada, {"adult": 2}, now, source="whatsapp", lead=lead
        )
        sold = inventory.hold_seats(
            s, org, dep, make_customer(s, org, "+12025550102", now), {"adult": 1}, now, source="sms"
        )
        bookings.confirm_booking(s, org, sold, now)
        waitlist.join_waitlist(
            s, org, dep, make_customer(s, org, "+12025550103", now), {"adult": 1}, now, source="sms"
        )
        token = api_tokens.create_token(s, org, now)

        other_data = catalog_data()
        other_data["organization"] = {
            **other_data["organization"],
            "slug": "rival-tours",
            "numbers": [],
        }
        other_data["staff"] = other_data["guides"] = []
        other_data["tours"] = [
            {
                **other_data["tours"][2],
                "departures": [{"code": "RIVAL01", "start": "2027-02-01 09:00", "capacity": 9}],
            }
        ]
        rival = import_org(
            s, now, **{k: other_data[k] for k in ("organization", "staff", "guides", "tours")}
        )
        rival_customer = make_customer(s, rival, "+12025550101", now)  # same phone, other operator
        rival_booking = inventory.hold_seats(
            s,
            rival,
            departure(s, rival, "RIVAL01"),
            rival_customer,
            {"adult": 1},
            now,
            source="sms",
        )
        rival_token = api_tokens.create_token(s, rival, now)
        s.commit()
        return {
            "token": token,
            "rival_token": rival_token,
            "held": held.reference,
            "sold": sold.reference,
            "lead": lead.reference,
            "rival_booking": rival_booking.reference,
        }


def get(client: FlaskClient, path: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1{path}", headers=headers)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer tb_nope", "Basic abc", "Bearer " + "x" * 500]
)
def test_requests_without_a_valid_token_get_401(client: FlaskClient, world: dict, header) -> None:
    response = client.get("/api/v1/departures", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json["error"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_departure_detail_counts_and_waitlist(client: FlaskClient, world: dict) -> None:
    body = get(client, "/departures/city0120", world["token"]).json
    assert (body["capacity"], body["booked"], body["held"], body["spots_left"]) == (3, 1, 2, 0)
    assert body["waitlist_length"] == 1 and body["status"] == "open"
    assert body["starts_at"] == "2027-01-20T03:15:00Z"
    assert body["starts_at_local"] == "2027-01-20T09:00:00+05:45"
    wl = get(client, "/departures/CITY0120/waitlist", world["token"]).json
    assert [(i["position"], i["customer"]["phone"]) for i in wl["items"]] == [(1, "+12025550103")]


def test_departure_list_filters(client: FlaskClient, world: dict) -> None:
    body = get(
        client, "/departures?tour=sunset-tour&from=2027-01-20&to=2027-01-24", world["token"]
    ).json
    assert [i["code"] for i in body["items"]] == ["SUN0123", "SUN0124"]
    assert body["total"] == 2
    assert get(client, "/departures?from=2027-13-01", world["token"]).status_code == 400
    assert (
        get(client, "/departures?from=2027-02-01&to=2027-01-01", world["token"]).status_code == 400
    )
    assert get(client, "/departures?limit=abc", world["token"]).status_code == 400


def test_bookings_by_phone_in_any_format_status_and_departure(
    client: FlaskClient, world: dict
) -> None:
    for phone in ["%2B12025550101", "+12025550101", "12025550101", "%2B1%20(202)%20555-0101"]:
        body = get(client, f"/bookings?phone={phone}", world["token"]).json
        assert [i["reference"] for i in body["items"]] == [world["held"]], phone
    body = get(client, "/bookings?departure=CITY0120&status=confirmed", world["token"]).json
    assert [i["reference"] for i in body["items"]] == [world["sold"]]
    assert get(client, "/bookings?phone=hello", world["token"]).status_code == 400
    detail = get(client, f"/bookings/{world['held'].lower()}", world["token"]).json
    assert (detail["status"], detail["total_minor"], detail["lead"]) == (
        "held",
        5000,
        world["lead"],
    )


def test_leads_and_timeline(client: FlaskClient, world: dict) -> None:
    body = get(
        client, "/leads?phone=%2B12025550101&status=quoted&source=whatsapp", world["token"]
    ).json
    assert [i["reference"] for i in body["items"]] == [world["lead"]]
    assert body["items"][0]["assigned_to"]["name"] == "Sarah Lee"
    events = get(client, f"/timeline?object={world['held']}", world["token"]).json["items"]
    assert [e["event"] for e in events] == ["booking.held"]
    events = get(client, f"/timeline?object={world['lead']}", world["token"]).json["items"]
    assert [e["event"] for e in events][:2] == ["lead.created", "lead.assigned"]
    assert get(client, "/timeline", world["token"]).status_code == 400


def test_one_organization_never_sees_another(client: FlaskClient, world: dict) -> None:
    token, rival = world["token"], world["rival_token"]
    assert get(client, "/departures/RIVAL01", token).status_code == 404
    assert get(client, "/departures/CITY0120", rival).status_code == 404
    assert get(client, "/departures/CITY0120/waitlist", rival).status_code == 404
    assert get(client, f"/bookings/{world['rival_booking']}", token).status_code == 404
    assert get(client, f"/bookings/{world['held']}", rival).status_code == 404
    assert get(client, f"/leads/{world['lead']}", rival).status_code == 404
    assert get(client, f"/timeline?object={world['held']}", rival).json["items"] == []
    # Same phone at both operators: each sees only its own bookings.
    mine = get(client, "/bookings?phone=%2B12025550101", token).json["items"]
    theirs = get(client, "/bookings?phone=%2B12025550101", rival).json["items"]
    assert [b["reference"] for b in mine] == [world["held"]]
    assert [b["reference"] for b in theirs] == [world["rival_booking"]]
    assert {d["code"] for d in get(client, "/departures?limit=500", rival).json["items"]} == {
        "RIVAL01"
    }
    assert get(client, "/leads", rival).json["items"] == []


def test_unknown_routes_and_methods_answer_json(client: FlaskClient, world: dict) -> None:
    assert get(client, "/nope", world["token"]).status_code == 404
    response = client.post(
        "/api/v1/departures", headers={"Authorization": f"Bearer {world['token']}"}
    )
    assert response.status_code == 405 and response.json["error"] == "Method Not Allowed"


def test_revoked_token_is_refused(
    client: FlaskClient, world: dict, factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import update

    from models import ApiToken, utcnow

    with factory() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert get(client, "/departures", world["token"]).status_code == 401
