"""Guests checked in at the meeting point from the departure page's manifest (on a phone):
how many of each party are here, idempotent, undoable, shown to ops with who and when;
ops and owners only; another organization's departure is 404; CSRF."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, TimelineEvent, utcnow
from tests.admin.support import the_org
from tests.factories import hold, new_departure
from tests.staff import StaffClient


def morning_walk(factory: sessionmaker[Session], hours_ahead: float = 1) -> tuple[str, str]:
    """A walk starting soon with a family of three (paid) and one traveller (held)."""
    with factory() as s:
        org = the_org(s)
        dep = new_departure(
            s, org, "CITYAM", utcnow() + timedelta(hours=hours_ahead), 10, like="CITY3"
        )
        s.flush()
        family = hold(s, org, dep, "+12025550171", utcnow(), adults=3)
        family.customer.name = "Lena Park"
        family.status = BookingStatus.CONFIRMED
        family.paid_minor = family.total_minor
        solo = hold(s, org, dep, "+12025550172", utcnow(), adults=1)
        solo.customer.name = "Tom Baker"
        s.commit()
        return family.reference, solo.reference


def test_ops_check_in_each_party_from_the_manifest_idempotently(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    family, solo = morning_walk(factory)
    page = ops.get("/admin/departures/CITYAM")
    assert "0 of 4 checked in" in page.text
    assert f'id="here-{family}"' in page.text  # how many of the three: a choice
    # Two of the family are here; then the third; a double tap changes nothing.
    done = ops.post("/admin/departures/CITYAM/check-in", {"booking": family, "guests": "2"})
    assert f"{family}: 2 of 3 checked in" in done.text and "2 of 4 checked in" in done.text
    assert "2 of 3 here" in done.text
    ops.post("/admin/departures/CITYAM/check-in", {"booking": family, "guests": "3"})
    again = ops.post("/admin/departures/CITYAM/check-in", {"booking": family, "guests": "3"})
    assert "3 of 4 checked in" in again.text and "✓ checked in 3/3" in again.text
    assert "Priya" in again.text.split(f'id="check-in-{family}"')[1].split("</td>")[0]
    # The held traveller (not paid yet) can be checked in too: they pay on the day.
    ops.post("/admin/departures/CITYAM/check-in", {"booking": solo.lower()})
    page = ops.get("/admin/departures/CITYAM")
    assert "4 of 4 checked in" in page.text
    with factory() as s:
        rows = {b.reference: b for b in s.scalars(select(Booking))}
        assert rows[family].checked_in_guests == 3 and rows[solo].checked_in_guests == 1
        assert rows[family].checked_in_at is not None and rows[family].checked_in_by_id
        events = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.object_ref == family, TimelineEvent.event_type == "booking.checked_in"
            )
        ).all()
        assert len(events) == 2  # 2, then 3; the repeated 3 recorded nothing
    # Undo: nobody of that booking here.
    undone = ops.post("/admin/departures/CITYAM/check-in", {"booking": solo, "guests": "0"})
    assert f"{solo}: nobody checked in" in undone.text and "3 of 4 checked in" in undone.text
    # The printable manifest shows the state, without the buttons.
    printable = ops.get("/admin/departures/CITYAM/manifest").text
    assert "✓ checked in 3/3" in printable and "check-in-form" not in printable


def test_check_in_refuses_what_cannot_be_checked_in(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    family, _ = morning_walk(factory, hours_ahead=30)
    early = ops.post("/admin/departures/CITYAM/check-in", {"booking": family})
    assert "opens 12 hours before the start" in early.text
    assert "check-in-form" not in ops.get("/admin/departures/CITYAM").text
    with factory() as s:
        dep_start = s.scalars(select(Booking).where(Booking.reference == family)).one()
        dep_start.departure.starts_at = utcnow() + timedelta(hours=1)
        s.commit()
    too_many = ops.post("/admin/departures/CITYAM/check-in", {"booking": family, "guests": "4"})
    assert "check in 0 to 3" in too_many.text
    for not_a_number in ("x", "1_0", "٢", "2.0", "--1"):
        refused = ops.post(
            "/admin/departures/CITYAM/check-in",
            {"booking": family, "guests": not_a_number},
            follow=False,
        )
        assert refused.status_code == 400 and "whole number" in refused.text, not_a_number
    # A booking of another departure is not on this manifest.
    assert (
        ops.post("/admin/departures/CITY3/check-in", {"booking": family}, follow=False).status_code
        == 404
    )
    with factory() as s:
        b = s.scalars(select(Booking).where(Booking.reference == family)).one()
        b.status = BookingStatus.CANCELLED
        s.commit()
    gone = ops.post("/admin/departures/CITYAM/check-in", {"booking": family})
    assert "is cancelled: nobody to check in" in gone.text
    with factory() as s:
        assert (
            s.scalars(select(Booking).where(Booking.reference == family)).one().checked_in_guests
            == 0
        )


def test_only_ops_and_owners_check_in_and_never_without_the_token(
    ops: StaffClient, owner: StaffClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    family, _ = morning_walk(factory)
    url = "/admin/departures/CITYAM/check-in"
    assert sales.post(url, {"booking": family}, follow=False).status_code == 403
    assert "check-in-form" not in sales.get("/admin/departures/CITYAM").text
    forged = ops.client.post(url, data={"booking": family, "csrf_token": "forged"})
    assert forged.status_code == 400
    with factory() as s:
        assert (
            s.scalars(select(Booking).where(Booking.reference == family)).one().checked_in_guests
            == 0
        )
    assert "3 of 3" in owner.post(url, {"booking": family}).text
