"""Bad input never 500s: NUL bytes in addresses and in a login email, digits of other
scripts in API parameters, the years 0001 and 9999, huge page numbers, signed Stripe events
of the wrong shape, YAML nested thousands deep, an owner's late click: each gets a clear
4xx or message, through the public interfaces. Then hypothesis throws junk at each route."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, Organization, Payment, ProviderEvent, utcnow
from services import api_tokens
from tests.admin.support import a_lead
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import departure, hold
from tests.staff import StaffClient, make_staff
from tests.test_approvals import csrf_of, pay_link, pencil_in
from tests.test_conversations import live_catalog

SECRET = "whsec_bad_input"
OWNER = "owner@example.org"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    config.STRIPE_SECRET_KEY, config.STRIPE_WEBHOOK_SECRET = "sk_test_123", SECRET
    data = live_catalog()
    data["organization"]["settings"]["approval_required"] = True
    with factory() as s:
        make_staff(s, import_org(s, utcnow(), **data), "owner", OWNER)
    return create_app(config)


@pytest.fixture
def bearer(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as s:
        token = api_tokens.create_token(s, s.scalars(select(Organization)).one(), utcnow())
        s.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def awaiting(client: FlaskClient, factory: sessionmaker[Session]) -> str:
    """The reference of a booking held by chat, waiting for the owner's approval."""
    return pencil_in(client, factory)[1]


@pytest.fixture
def owner(client: FlaskClient) -> StaffClient:
    staff = StaffClient(client)
    assert staff.login(OWNER).status_code == 302
    return staff


def signed_event(client: FlaskClient, payload: str):  # type: ignore[no-untyped-def]
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    return client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text


# --- NUL bytes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/pay/BK-%00", "/pay/%00", "/pay/BK-AAAA%00/done", "/admin/bookings/%00"]
)
def test_a_nul_byte_in_an_address_is_not_found(client: FlaskClient, path: str) -> None:
    for response in (client.get(path), client.post(path, data={"kind": "deposit"})):
        assert response.status_code in (404, 405), path
        assert no_traceback(response.text)


def test_a_nul_byte_in_a_parameter_is_a_400(client: FlaskClient, bearer: dict[str, str]) -> None:
    response = client.get("/api/v1/departures?tour=%00", headers=bearer)
    assert response.status_code == 400 and "NUL" in response.json["message"]


def test_a_nul_byte_in_a_login_email_or_a_form_field_is_a_400(
    client: FlaskClient, owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    response = StaffClient(client.application.test_client()).login(
        "own\x00er@example.org", "correct-horse-battery"
    )
    assert response.status_code == 400 and "NUL byte" in response.text
    lead = a_lead(factory)
    quoted = owner.post(f"/admin/leads/{lead.reference}/quote", {"departure": "CITY3\x00"})
    assert quoted.status_code == 400 and "NUL byte" in quoted.text


# --- numbers and dates -----------------------------------------------------------------


@pytest.mark.parametrize("limit", ["²", "١٠", "٣", "1e3", "-1"])
def test_api_limits_are_ascii_whole_numbers(
    client: FlaskClient, bearer: dict[str, str], limit: str
) -> None:
    response = client.get("/api/v1/departures", query_string={"limit": limit}, headers=bearer)
    assert response.status_code == 400 and "whole number" in response.json["message"]


def test_huge_page_numbers_are_an_empty_page(
    client: FlaskClient, bearer: dict[str, str], owner: StaffClient
) -> None:
    huge = "9" * 40
    api = client.get(f"/api/v1/bookings?offset={huge}&limit={huge}", headers=bearer)
    assert api.status_code == 200 and api.json["items"] == []
    assert owner.get(f"/admin/inbox?page={huge}").status_code == 200
    assert owner.get(f"/admin/inbox?page={huge[:20]}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/departures?from=0001-01-01",
        "/api/v1/departures?to=9999-12-31",
        "/api/v1/payroll?from=0001-01-01&to=9999-12-31",
        "/api/v1/messages?since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/messages?since=9999-12-31T23:59:59-12:00",
    ],
)
def test_the_years_0001_and_9999_are_a_400_from_the_api(
    client: FlaskClient, bearer: dict[str, str], query: str
) -> None:
    response = client.get(query, headers=bearer)
    assert response.status_code == 400, response.json
    assert response.json["error"] == "BadParameter"


def test_the_years_0001_and_9999_elsewhere(
    app: Flask, client: FlaskClient, owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    for query in ("from=0001-01-01", "from=9999-12-31", "from=2027-01-01&to=9999-12-31"):
        for path in ("/admin/departures", "/admin/reports", "/admin/reports/summary.csv"):
            page = owner.get(f"{path}?{query}")
            assert page.status_code == 400 and "between 1900 and 9000" in page.text, path
        page = owner.get(f"/admin/crisis?{query}")
        assert page.status_code == 400 and "between 1900 and 9000" in page.text
    for n, text in enumerate(
        ("sunset tour on 31 December 9999 for 2", "ebc trek 9999-12-31 for 2", "1 Jan 0001")
    ):
        assert Chat(client, factory, phone=f"+120255502{n:02d}").say(text)  # a 200 with words
    swept = app.test_cli_runner().invoke(args=["jobs", "sweep", "--now", "9999-12-31T23:00-12:00"])
    assert swept.exit_code == 2 and "between 1900 and 9000" in swept.output


# --- signed Stripe events of the wrong shape --------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        '{"id": "evt_1"}',
        "[]",
        '"x"',
        '{"id": 5, "type": 7, "data": []}',
        '{"id": "evt_2", "type": "checkout.session.completed", "data": {"object": "x"}}',
        '{"id": "evt_3", "type": "checkout.session.completed",'
        ' "data": {"object": {"metadata": "x", "id": 5}}}',
        '{"id": "evt_5", "type": "checkout.session.completed",'
        ' "data": {"object": {"metadata": {"payment_id": "²"}}}}',
        '{"id": "evt\\u0000", "type": "x", "data": {"object": {}}}',
        '{"id": "evt_6", "type": "charge.refunded", "data": {"object": {"id": "ch_\\u0000"}}}',
    ],
)
def test_a_signed_stripe_event_of_the_wrong_shape_is_a_400_and_changes_nothing(
    client: FlaskClient, factory: sessionmaker[Session], payload: str
) -> None:
    response = signed_event(client, payload)
    assert response.status_code == 400 and "malformed event" in response.text
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(ProviderEvent)) == 0


def test_a_signed_event_for_a_payment_id_beyond_any_is_for_no_payment_of_ours(
    client: FlaskClient,
) -> None:
    payload = json.dumps(
        {
            "id": "evt_4",
            "type": "checkout.session.completed",
            "data": {"object": {"metadata": {"payment_id": "9" * 30}, "payment_status": "paid"}},
        }
    )
    response = signed_event(client, payload)
    assert response.status_code == 200 and response.json["outcome"] == "ignored"


# --- YAML --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, "a: " + "{b: " * 3000 + "1" + "}" * 3000],
    ids=["lists", "mappings"],
)
def test_a_catalog_nested_thousands_deep_is_refused_in_words(
    app: Flask, tmp_path: Path, text: str
) -> None:
    deep = tmp_path / "deep.yml"
    deep.write_text(text)
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(deep)])
    assert result.exit_code == 1 and "nested too deeply" in result.output
    assert not isinstance(result.exception, RecursionError)


# --- the owner's late click --------------------------------------------------------------


def test_a_late_approval_click_after_the_seats_went_elsewhere_says_so(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """The owner opens the link, the hold runs out before the sweep notices, the seats are
    sold to someone else, and then the owner clicks Confirm: it was a 500."""
    _, ref, token = pencil_in(client, factory)
    page = client.get(f"/approve/{token}")
    with factory() as s:
        booking = s.scalars(select(Booking).where(Booking.reference == ref)).one()
        s.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(hold_expires_at=utcnow() - timedelta(minutes=1))
        )
        org = s.scalars(select(Organization)).one()
        dep = departure(s, org, booking.departure.code)
        hold(s, org, dep, "+12025550177", utcnow(), adults=dep.capacity - 1)
        s.commit()
    late = client.post(
        f"/approve/{token}", data={"action": "confirm", "csrf_token": csrf_of(page.data)}
    )
    assert late.status_code == 409 and "Not enough seats" in late.text
    with factory() as s:
        assert (
            s.scalar(select(Booking.status).where(Booking.reference == ref)) == "pending_approval"
        )


# --- fuzz: junk at every route that takes input ------------------------------------------

JUNK = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["\x00", "%00", "²", "١٠", "9" * 40, "-1", "0001-01-01", "9999-12-31", "BK-"]),
)


@FUZZ
@given(ref=JUNK, kind=JUNK)
def test_fuzz_pay_pages(client: FlaskClient, ref: str, kind: str) -> None:
    path = "/pay/" + re.sub(r"[/?#]", "", ref)
    for response in (client.get(path), client.post(path, data={"kind": kind})):
        assert response.status_code < 500, (path, response.status_code)


CLIENT_ADDRESSES = itertools.count(1)


@FUZZ
@given(tail=JUNK, kind=JUNK)
def test_fuzz_a_real_pay_link(
    client: FlaskClient, factory: sessionmaker[Session], awaiting: str, tail: str, kind: str
) -> None:
    """Junk after a real pay link, and as the kind of payment: never a 500, never money
    asked for a booking that waits for the owner."""
    n = next(CLIENT_ADDRESSES)  # each example from its own address: the pages' limits hold
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    link = pay_link(factory, awaiting)
    tail = re.sub(r"[?#]", "", tail)
    for response in (
        client.post(link, data={"kind": kind}),
        client.get(f"{link}/{tail}"),
        client.post(f"{link}/fake/{tail}", data={"kind": kind}),
        client.get(f"/pay/{awaiting}/{tail}"),
    ):
        assert response.status_code < 500, (tail, kind, response.status_code)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


@FUZZ
@given(email=JUNK, password=JUNK)
def test_fuzz_login(client: FlaskClient, email: str, password: str) -> None:
    page = client.get("/admin/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token[1]},  # type: ignore[index]
    )
    assert response.status_code in (302, 400, 401, 429), response.status_code


@FUZZ
@given(
    route=st.sampled_from(
        ["departures", "bookings", "leads", "messages", "payroll", "incidents", "timeline"]
    ),
    params=st.dictionaries(
        st.sampled_from(["limit", "offset", "from", "to", "since", "phone", "status", "object"]),
        JUNK,
        max_size=4,
    ),
)
def test_fuzz_api_parameters(
    client: FlaskClient, bearer: dict[str, str], route: str, params: dict[str, str]
) -> None:
    response = client.get(f"/api/v1/{route}", query_string=params, headers=bearer)
    assert response.status_code in (200, 400, 404), (route, params, response.status_code)


def nested(inner: st.SearchStrategy) -> st.SearchStrategy:  # type: ignore[type-arg]
    # A named function: hypothesis reads a lambda's source to check that it recurses, and
    # misread this one as not using its argument (a warning on every run; it does recurse).
    return st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    )


EVENT = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)), nested, max_leaves=12
)


@FUZZ
@given(
    kind=st.sampled_from(
        [
            "checkout.session.completed",
            "payment_intent.succeeded",
            "payment_intent.payment_failed",
            "charge.refunded",
            "charge.dispute.created",
        ]
    ),
    obj=st.dictionaries(
        st.sampled_from(
            ["id", "metadata", "amount_total", "payment_intent", "payment_status", "amount"]
        ),
        EVENT,
    ),
    event_id=st.text(max_size=30),
)
def test_fuzz_signed_stripe_events(
    client: FlaskClient, kind: str, obj: dict, event_id: str
) -> None:  # type: ignore[type-arg]
    payload = json.dumps({"id": event_id, "type": kind, "data": {"object": obj}})
    response = signed_event(client, payload)
    assert response.status_code in (200, 400), (payload, response.status_code)


@FUZZ
@given(token=JUNK, action=JUNK)
def test_fuzz_approval_links(client: FlaskClient, token: str, action: str) -> None:
    path = "/approve/" + re.sub(r"[/?#]", "", token)
    for response in (client.get(path), client.post(path, data={"action": action})):
        assert response.status_code < 500, (path, response.status_code)


@FUZZ
@given(page=JUNK, after=JUNK)
def test_fuzz_admin_paging(owner: StaffClient, page: str, after: str) -> None:
    assert owner.client.get("/admin/inbox", query_string={"page": page}).status_code < 500
    assert (
        owner.client.get("/admin/departures", query_string={"from": page, "to": after}).status_code
        < 500
    )
