"""The owner's report: money, bookings made and cancelled since, outstanding balances, the
bot's share, staff first-response times, CSV exports; owners only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, ConversationStatus, Payment, PersonRequest, Refund, utcnow
from services import checkout, payments, ratelimit, settlement
from tests.admin.support import conversation_of, the_org
from tests.chat import BASE_URL, Chat
from tests.factories import hold
from tests.staff import StaffClient


def paid(factory: sessionmaker[Session], code: str, phone: str, name: str, kind: str) -> str:
    with factory() as s:
        org = the_org(s)
        booking = hold(s, org, code, phone, utcnow(), adults=2)
        booking.customer.name = name
        fake = payments.StripeAccount(None)
        payment, _ = checkout.start_checkout(s, org, booking, kind, utcnow(), BASE_URL, fake)
        settlement.settle(
            s, org, payment, utcnow(), counts=ratelimit.counter(None), stripe=fake, source="fake"
        )
        s.commit()
        return booking.reference


def period(client: StaffClient, path: str = "/admin/reports") -> str:
    today = utcnow().date()
    first, last = today - timedelta(days=2), today + timedelta(days=300)
    return f"{path}?from={first.isoformat()}&to={last.isoformat()}"


def csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.text)))


def test_report_counts_money_bookings_cancelled_since_and_outstanding(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    deposit_only = paid(factory, "EBC100", "+12025550141", "Grace Hopper", "deposit")
    kept_in_full = paid(factory, "CITY3", "+12025550142", "Alan Turing", "full")
    cancelled = paid(factory, "CITY4", "+12025550143", "Ada Byron", "full")
    done = owner.post(f"/admin/bookings/{cancelled}/cancel", {"reason": "changed plans"})
    assert done.status_code == 200 and "cancelled" in done.text
    with factory() as s:
        received = s.scalar(select(func.sum(Payment.amount_minor)))
        refunded = s.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0)))
        grace = s.scalars(select(Booking).where(Booking.reference == deposit_only)).one()
        due = grace.total_minor - grace.paid_minor
    assert due > 0

    page = owner.get(period(owner))
    assert page.status_code == 200
    # Three bookings made in the period; one cancelled since is shown apart, two kept.
    summary = dict(
        tuple(r) for r in csv_rows(owner.get(period(owner, "/admin/reports/summary.csv")))[1:]
    )
    assert summary["bookings made"] == "3"
    assert summary["cancelled since"] == "1"
    assert summary["bookings kept"] == "2"
    assert summary["people on kept bookings"] == "4"
    assert summary["revenue (USD)"] == f"{received / 100:.2f}"
    assert summary["refunds (USD)"] == f"{refunded / 100:.2f}"
    assert summary["net (USD)"] == f"{(received - refunded) / 100:.2f}"
    assert summary["outstanding (USD)"] == f"{due / 100:.2f}"
    # The outstanding balance links to its booking; a booking paid in full is not listed.
    assert f'/admin/bookings/{deposit_only}"' in page.text
    outstanding = csv_rows(owner.get(period(owner, "/admin/reports/outstanding.csv")))
    assert [r[0] for r in outstanding[1:]] == [deposit_only]
    assert outstanding[1][1] == "Grace Hopper" and outstanding[1][-1] == f"{due / 100:.2f}"
    assert kept_in_full not in {r[0] for r in outstanding}
    # Capacity used per tour counts the seats still booked.
    tours = {r[0]: r for r in csv_rows(owner.get(period(owner, "/admin/reports/tours.csv")))[1:]}
    assert any(name.startswith("Old City") or "City" in name for name in tours)
    departures = csv_rows(owner.get(period(owner, "/admin/reports/departures.csv")))
    city3 = next(r for r in departures if r[0] == "CITY3")
    city4 = next(r for r in departures if r[0] == "CITY4")
    assert (city3[5], city4[5]) == ("2", "0")  # Ada's cancelled two are not booked
    status = dict(
        tuple(r) for r in csv_rows(owner.get(period(owner, "/admin/reports/status.csv")))[1:]
    )
    assert status == {"confirmed": "2", "cancelled": "1"}


def test_bot_share_and_staff_first_response(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    bob = Chat(client, factory, phone="+12025550102", name="Bob")
    bob.say("hi")
    ada.say("hi")
    ada.say("AGENT")
    with factory() as s:
        conv_id = conversation_of(s, "+12025550101").id
        waiting = s.scalars(select(PersonRequest)).one()
        assert waiting.closed_at is None
    page = owner.get(period(owner))
    assert "1 still waiting" in page.text
    owner.post(f"/admin/inbox/{conv_id}/reply", {"body": "Hi Ada, Olivia here. How can I help?"})
    with factory() as s:
        answered = s.scalars(select(PersonRequest)).one()
        assert answered.closed_at is not None and answered.answered_by is not None
        assert answered.answered_by.name == "Olivia"
    page = owner.get(period(owner))
    assert "50%" in page.text and "1 of 2 conversations" in page.text
    responses = csv_rows(owner.get(period(owner, "/admin/reports/responses.csv")))
    assert [r[0] for r in responses[1:]] == ["Olivia", "Everyone"]
    assert responses[1][1] == "1"
    funnel = csv_rows(owner.get(period(owner, "/admin/reports/funnel.csv")))
    assert funnel[1][:2] == ["Enquiries", "2"]


def test_reset_ends_the_wait_for_a_person(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """MENU after AGENT: the customer went back to the bot, so nobody is waited for (the
    conversation stayed pending in the inbox)."""
    carl = Chat(client, factory, phone="+12025550103", name="Carl")
    carl.say("AGENT")
    with factory() as s:
        assert conversation_of(s, carl.phone).status == ConversationStatus.PENDING
    carl.say("MENU")
    with factory() as s:
        conv = conversation_of(s, carl.phone)
        assert conv.status == ConversationStatus.OPEN and not conv.handoff
        spell = s.scalars(select(PersonRequest)).one()
        assert spell.closed_at is not None and spell.answered_by_id is None


def test_reports_are_for_owners_and_refuse_bad_periods(
    owner: StaffClient, ops: StaffClient, sales: StaffClient
) -> None:
    assert sales.get("/admin/reports").status_code == 403
    assert ops.get("/admin/reports/summary.csv").status_code == 403
    assert "Reports" not in sales.get("/admin/").text
    assert owner.get("/admin/reports?from=2027-02-30").status_code == 400
    assert owner.get("/admin/reports?from=2027-02-10&to=2027-02-01").status_code == 400
    assert owner.get("/admin/reports?from=2020-01-01&to=2027-01-01").status_code == 400
    assert owner.get("/admin/reports/passwords.csv").status_code == 404
    assert owner.get("/admin/reports").status_code == 200


def test_csv_cells_cannot_become_spreadsheet_formulas(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        booking = hold(s, org, "EBC100", "+12025550144", utcnow(), adults=1)
        booking.customer.name = '=HYPERLINK("http://evil.example")'
        booking.status = "confirmed"
        booking.confirmed_at = utcnow()
        s.commit()
    rows = csv_rows(owner.get(period(owner, "/admin/reports/outstanding.csv")))
    assert rows[1][1].startswith("'=")


def test_funnel_counts_each_step_once_per_customer(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """Three customers write; one holds seats, one pays (twice, on two bookings): the
    steps are enquiries 3, quoted 2 (a hold counts as quoted), held 2, paid 1."""
    for phone in ("+12025550201", "+12025550202", "+12025550203"):
        Chat(client, factory, phone=phone, name="Guest").say("hi")
    paid(factory, "CITY3", "+12025550201", "Ada", "full")
    paid(factory, "CITY4", "+12025550201", "Ada", "full")
    with factory() as s:
        hold(s, the_org(s), "CITY4", "+12025550202", utcnow())
        s.commit()
    funnel = csv_rows(owner.get(period(owner, "/admin/reports/funnel.csv")))
    assert [r[:2] for r in funnel[1:]] == [
        ["Enquiries", "3"],
        ["Quoted", "2"],
        ["Held seats", "2"],
        ["Paid", "1"],
    ]


def test_outstanding_total_is_the_sum_of_every_balance_beyond_the_rows_shown(
    owner: StaffClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page shows the first PAGE_ROWS balances; the total and count (counted in SQL)
    are of all of them, the same as the CSV's rows add up to."""
    from services import owner_report

    monkeypatch.setattr(owner_report, "PAGE_ROWS", 1)
    first = paid(factory, "EBC100", "+12025550151", "Grace Hopper", "deposit")
    second = paid(factory, "CITY3", "+12025550152", "Alan Turing", "deposit")
    paid(factory, "CITY4", "+12025550153", "Ada Byron", "full")  # owes nothing
    rows = csv_rows(owner.get(period(owner, "/admin/reports/outstanding.csv")))
    assert sorted(r[0] for r in rows[1:]) == sorted([first, second])
    due = sum(Decimal(r[-1]) for r in rows[1:])
    with factory() as s:
        owed = sum(b.balance_minor for b in s.scalars(select(Booking)))
    assert due == Decimal(owed) / 100 and owed > 0
    summary = dict(
        tuple(r) for r in csv_rows(owner.get(period(owner, "/admin/reports/summary.csv")))[1:]
    )
    assert Decimal(summary["outstanding (USD)"]) == due
    page = owner.get(period(owner)).text
    assert "2 bookings" in page and "The first 1 of 2" in page
