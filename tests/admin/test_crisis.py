"""Crisis tools: several departures cancelled in one action, the message previewed as a
customer will read it (following the reason and the refund rule), refunds by the chosen
rule, staff's own words, progress counts and a call list with names, phone links and
"called" ticks; sales may call but not cancel."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    DepartureCancellation,
    DepartureStatus,
    Message,
    MessageStatus,
    Refund,
    utcnow,
)
from services import checkout, payments, ratelimit, settlement
from tests.admin.support import the_org
from tests.chat import BASE_URL, Chat
from tests.factories import departure, hold, make_customer
from tests.staff import StaffClient
from tests.test_conversations import day


def stormy_day(client: FlaskClient, factory: sessionmaker[Session]) -> dict[str, str]:
    """CITY3: Cat (WhatsApp, paid in full) and Quiet (opted out); CITY4: Dan (SMS only,
    nothing paid)."""
    Chat(client, factory, phone="+12025550121", name="Cat").say("hi")
    with factory() as s:
        org = the_org(s)
        cat = hold(s, org, "CITY3", "+12025550121", utcnow(), adults=1)
        cat.customer.name = "Cat Stevens"
        fake = payments.StripeAccount(None)
        payment, _ = checkout.start_checkout(s, org, cat, "full", utcnow(), BASE_URL, fake)
        settlement.settle(
            s, org, payment, utcnow(), counts=ratelimit.counter(None), stripe=fake, source="fake"
        )
        quiet = make_customer(s, org, "+12025550122", utcnow(), name="Quinn Quiet")
        quiet.opted_out = True
        q = hold(s, org, "CITY3", "+12025550122", utcnow(), adults=1)
        dan = hold(s, org, "CITY4", "+12025550123", utcnow(), adults=2)
        dan.customer.name = "Dan Brown"
        s.commit()
        return {"cat": cat.reference, "quiet": q.reference, "dan": dan.reference}


def test_the_day_is_listed_and_the_preview_follows_the_reason_and_refund_rule(
    ops: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    refs = stormy_day(client, factory)
    page = ops.get(f"/admin/crisis?from={day(3)}&to={day(4)}&tour=city-walk")
    assert page.status_code == 200
    assert 'value="CITY3"' in page.text and 'value="CITY4"' in page.text
    assert "2 departures, 4 people, 3 bookings" in page.text
    everything = ops.get(f"/admin/crisis?from={day(3)}&to={day(4)}")
    assert "Sunset" in everything.text  # every tour's departures those days

    confirm = ops.get("/admin/crisis/cancel?code=CITY3&code=CITY4&reason=storm")
    assert confirm.status_code == 200
    assert "Cancel 2 departures" in confirm.text
    # Shown as the paying customer will read it, with the amount refunded in full.
    assert "is cancelled (storm)" in confirm.text and refs["cat"] in confirm.text
    assert "refunded in full" in confirm.text
    preview = ops.get("/admin/crisis/preview?code=CITY3&code=CITY4&reason=landslide&refund=none")
    assert "(landslide)" in preview.json["text"] and "storm" not in preview.json["text"]
    assert "in touch about" in preview.json["text"]
    policy = ops.get("/admin/crisis/preview?code=CITY3&code=CITY4&reason=flood&refund=policy")
    assert "(flood)" in policy.json["text"]
    assert ops.get("/admin/crisis/preview?code=CITY3&reason=x&refund=all").status_code == 400
    # Nothing happened yet.
    with factory() as s:
        assert departure(s, the_org(s), "CITY3").status == DepartureStatus.OPEN


def test_cancel_several_departures_refund_tell_everyone_and_call_the_rest(
    ops: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    refs = stormy_day(client, factory)
    done = ops.client.post(
        "/admin/crisis/cancel",
        data={
            "code": ["CITY3", "CITY4"],
            "reason": "thunderstorms",
            "refund": "full",
            "csrf_token": ops.csrf,
        },
    )
    assert done.status_code == 303
    progress_url = done.headers["Location"]
    assert re.search(r"/admin/crisis/CX[0-9A-F]{10}$", progress_url)
    with factory() as s:
        org = the_org(s)
        assert {departure(s, org, c).status for c in ("CITY3", "CITY4")} == {
            DepartureStatus.CANCELLED
        }
        assert {b.status for b in s.scalars(select(Booking))} == {BookingStatus.CANCELLED}
        cat = s.scalars(select(Booking).where(Booking.reference == refs["cat"])).one()
        refunded = sum(r.amount_minor for r in s.scalars(select(Refund)))
        assert refunded > 0 and cat.paid_minor == 0
        told = {
            m.to_phone: m for m in s.scalars(select(Message).where(Message.kind == "cancellation"))
        }
        assert (
            "thunderstorms" in told["+12025550121"].body
            and told["+12025550121"].channel == "whatsapp"
        )
        assert told["+12025550123"].channel == "sms"
        assert len({r.batch for r in s.scalars(select(DepartureCancellation))}) == 1
    page = ops.get(progress_url)
    assert "2 departures cancelled" in page.text
    # The opted-out customer is on the call list by name, with a tappable number.
    assert "Quinn Quiet" in page.text and 'href="tel:+12025550122"' in page.text
    assert "opted out" in page.text and "0 of 1 called" in page.text
    # A message that failed puts that customer on the list too, by name.
    with factory() as s:
        dan_msg = s.scalars(select(Message).where(Message.to_phone == "+12025550123")).one()
        dan_msg.status = MessageStatus.FAILED
        dan_msg.error_code = "30003"
        s.commit()
    page = ops.get(progress_url)
    assert "Dan Brown" in page.text and "delivery failed (30003)" in page.text
    ticked = ops.post(
        "/admin/departures/CITY3/cancellation/called",
        {"phone": "+12025550122", "batch": progress_url.rsplit("/", 1)[1]},
    )
    assert ticked.status_code == 200 and "1 of 2 called" in ticked.text and "Priya" in ticked.text
    with factory() as s:
        record = s.scalars(
            select(DepartureCancellation).where(
                DepartureCancellation.departure_id == departure(s, the_org(s), "CITY3").id
            )
        ).one()
        assert record.called["+12025550122"]["by"] == "Priya"
    undone = ops.post(
        "/admin/departures/CITY3/cancellation/called", {"phone": "+12025550122", "called": "0"}
    )
    assert "CITY3 cancelled" in undone.text and "0 of 1 called" in undone.text


def test_own_words_with_placeholders_and_no_refund(
    ops: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    refs = stormy_day(client, factory)
    ops.post(
        "/admin/crisis/cancel",
        {
            "code": "CITY3",
            "reason": "road closed",
            "refund": "none",
            "own": "1",
            "message": "Hi {name}, {tour} ({reference}) is off. {refund} back for now. {oops}",
        },
    )
    with factory() as s:
        body = (
            s.scalars(
                select(Message).where(
                    Message.kind == "cancellation", Message.to_phone == "+12025550121"
                )
            )
            .one()
            .body
        )
        assert refunds_of(s) == 0
    assert body.startswith("Hi Cat Stevens, Old City Walk") or "Hi Cat Stevens" in body
    assert refs["cat"] in body and "$0" in body and "{oops}" in body


def refunds_of(s: Session) -> int:
    return sum(r.amount_minor for r in s.scalars(select(Refund)))


def test_sales_may_call_but_not_cancel_and_bad_choices_are_refused(
    ops: StaffClient, sales: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    stormy_day(client, factory)
    assert sales.get("/admin/crisis").status_code == 403
    assert sales.get("/admin/crisis/cancel?code=CITY3").status_code == 403
    assert sales.post("/admin/crisis/cancel", {"code": "CITY3", "reason": "x"}).status_code == 403
    nothing = ops.client.get("/admin/crisis/cancel", follow_redirects=True)
    assert "Tick at least one departure" in nothing.text
    assert ops.get("/admin/crisis/cancel?code=NOPE").status_code == 404
    assert ops.get(f"/admin/crisis?from={day(3)}&to={day(300)}").status_code == 400
    no_reason = ops.post("/admin/crisis/cancel", {"code": "CITY3", "reason": " "})
    assert "Say why" in no_reason.text
    done = ops.client.post(
        "/admin/crisis/cancel",
        data={"code": "CITY3", "reason": "storm", "csrf_token": ops.csrf},
    )
    batch = done.headers["Location"].rsplit("/", 1)[1]
    again = ops.post("/admin/crisis/cancel", {"code": "CITY3", "reason": "storm"})
    assert "Already cancelled" in again.text
    # Anyone may make the calls.
    assert sales.get(f"/admin/crisis/{batch}").status_code == 200
    ticked = sales.post(
        "/admin/departures/CITY3/cancellation/called", {"phone": "+12025550122", "batch": batch}
    )
    assert "Sam" in ticked.text
    assert sales.get("/admin/crisis/CXNOPE").status_code == 404


def test_every_new_action_needs_the_csrf_token(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """A forged form from another site (no token) changes nothing."""
    stormy_day(client, factory)
    forged = [
        ("/admin/crisis/cancel", {"code": "CITY3", "reason": "storm"}),
        ("/admin/departures/CITY3/guide/assign", {"guide": "1"}),
        ("/admin/departures/CITY3/guide/release", {}),
        ("/admin/departures/CITY3/cancellation/called", {"phone": "+12025550122"}),
        ("/admin/access/staff", {"name": "Eve", "email": "eve@example.com", "role": "owner"}),
        ("/admin/access/staff/1/role", {"role": "owner"}),
        ("/admin/access/staff/1/link", {}),
        ("/admin/settings", {"hold_hours": "1"}),
    ]
    for url, data in forged:
        assert owner.client.post(url, data=data).status_code == 400, url
    with factory() as s:
        assert departure(s, the_org(s), "CITY3").status == DepartureStatus.OPEN
