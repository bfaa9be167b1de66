"""A guide emergency from the admin: who can replace the guide (never the released one, nor
anyone busy or holding another offer at that time), a pending offer shown with its age,
direct assignment, and the sweep telling ops when nobody answers an offer in time."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    AssignmentStatus,
    Departure,
    Guide,
    GuideAssignment,
    GuideTimeOff,
    Message,
    Organization,
    Tour,
    utcnow,
)
from services import assignments
from services.jobs import run_sweep
from services.runtime import Runtime
from tests.admin.support import the_org
from tests.factories import departure, new_departure
from tests.staff import StaffClient

OPS_PHONE = "+9779800000099"


def city_guides(factory: sessionmaker[Session]) -> dict[str, int]:
    """Three more city-walk guides: Mike and Alex free, Tom leading another walk at the
    same time as CITY3; Maya (the catalog's) leads CITY3."""
    with factory() as s:
        org = the_org(s)
        org.ops_phones = [OPS_PHONE]
        city = s.scalars(select(Tour).where(Tour.slug == "city-walk")).one()
        ids = {}
        for n, name in enumerate(("Mike Rai", "Alex Karki", "Tom Basnet")):
            guide = Guide(organization_id=org.id, name=name, phone=f"+97798000001{n}0")
            guide.tours.append(city)
            s.add(guide)
            s.flush()
            ids[name] = guide.id
        maya = s.scalars(select(Guide).where(Guide.name == "Maya Gurung")).one()
        ids["Maya Gurung"] = maya.id
        dep = departure(s, org, "CITY3")
        dep.guide_id = maya.id
        other = new_departure(
            s, org, "CITYX", dep.starts_at + timedelta(minutes=30), 5, like="CITY3"
        )
        other.guide_id = ids["Tom Basnet"]
        s.commit()
        return ids


def options_text(page: str) -> str:
    start = page.index('id="guide-options"')
    return page[start : page.index("</section>", start)]


def test_replacing_a_sick_guide_never_offers_them_again_and_shows_the_pending_offer(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    page = ops.get("/admin/departures/CITY3")
    listed = options_text(page.text)
    # Free guides can be assigned; Tom is busy and says where; Maya is the current guide.
    assert f'value="{ids["Mike Rai"]}"' in listed and f'value="{ids["Alex Karki"]}"' in listed
    assert "Tom Basnet" in listed and "leading CITYX" in listed
    assert f'value="{ids["Tom Basnet"]}"' not in listed
    assert f'value="{ids["Maya Gurung"]}"' not in listed

    done = ops.post(
        "/admin/departures/CITY3/guide", {"guide": str(ids["Mike Rai"]), "reason": "Maya is sick"}
    )
    assert "Offered to Mike Rai" in done.text
    page = ops.get("/admin/departures/CITY3")
    # The offer shows as pending with its age, not "none yet".
    assert "none yet" not in page.text
    assert "Mike Rai" in page.text and "offer pending" in page.text and "0 min" in page.text
    listed = options_text(page.text)
    # Maya was released: she is not offered again; Mike already has the offer.
    assert "Maya Gurung" in listed and "released from this trip" in listed
    assert f'value="{ids["Maya Gurung"]}"' not in listed
    assert f'value="{ids["Mike Rai"]}"' not in listed
    with factory() as s:
        maya = s.get(Guide, ids["Maya Gurung"])
        told = s.scalars(select(Message).where(Message.to_phone == maya.phone)).all()  # type: ignore[union-attr]
        assert any("released you from CITY3" in m.body for m in told)
    board = ops.get("/admin/departures")
    assert "offer pending" in board.text and "Mike Rai" in board.text
    # The service agrees with the page.
    with factory() as s:
        dep = departure(s, the_org(s), "CITY3")
        names = {g.name for g in assignments.replacement_guides(s, dep)}
        assert names == {"Alex Karki"}


def test_direct_assignment_gives_the_trip_at_once_and_withdraws_the_offer(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    ops.post("/admin/departures/CITY3/guide", {"guide": str(ids["Mike Rai"])})
    done = ops.post("/admin/departures/CITY3/guide/assign", {"guide": str(ids["Alex Karki"])})
    assert "Alex Karki is now the guide of CITY3" in done.text
    with factory() as s:
        dep = departure(s, the_org(s), "CITY3")
        assert dep.guide is not None and dep.guide.name == "Alex Karki"
        statuses = {
            a.guide.name: a.status
            for a in s.scalars(
                select(GuideAssignment).where(GuideAssignment.departure_id == dep.id)
            )
        }
        assert statuses == {
            "Maya Gurung": AssignmentStatus.CANCELLED,  # released when Mike was offered it
            "Mike Rai": AssignmentStatus.CANCELLED,
            "Alex Karki": AssignmentStatus.ACCEPTED,
        }
        alex = s.get(Guide, ids["Alex Karki"])
        brief = s.scalars(select(Message).where(Message.to_phone == alex.phone)).one()  # type: ignore[union-attr]
        assert "You're the guide of" in brief.body and "MANIFEST CITY3" in brief.body
    refused = ops.post("/admin/departures/CITY3/guide/assign", {"guide": str(ids["Tom Basnet"])})
    assert "Tom Basnet is leading CITYX" in refused.text
    with factory() as s:
        assert departure(s, the_org(s), "CITY3").guide.name == "Alex Karki"  # type: ignore[union-attr]
    released = ops.post("/admin/departures/CITY3/guide/release", {"reason": "flu"})
    assert "Alex Karki released and told" in released.text


def test_an_offer_nobody_answers_is_escalated_to_ops_once(
    runtime: Runtime, ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        org.settings_json = {**org.settings_json, "guide_offer_escalation_minutes": 30}
        s.commit()
    ops.post("/admin/departures/CITY3/guide", {"guide": str(ids["Mike Rai"])})

    def alerts() -> list[str]:
        with factory() as s:
            return [m.body for m in s.scalars(select(Message).where(Message.to_phone == OPS_PHONE))]

    run_sweep(runtime, utcnow() + timedelta(minutes=29))
    assert not [a for a in alerts() if "has not answered" in a]
    run_sweep(runtime, utcnow() + timedelta(minutes=31))
    run_sweep(runtime, utcnow() + timedelta(minutes=45))
    escalations = [a for a in alerts() if "has not answered" in a]
    assert len(escalations) == 1
    assert "Mike Rai" in escalations[0] and "CITY3" in escalations[0]
    assert "Alex Karki" in escalations[0]  # the free guide ops can turn to
    page = ops.get("/admin/departures/CITY3")
    assert "Nobody answered the guide offer" in page.text and "no answer: ops told" in page.text


def test_an_offer_for_a_trip_soon_escalates_halfway_to_the_start(
    app: Flask, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    now = utcnow()
    with factory() as s:
        org = the_org(s)
        soon = new_departure(s, org, "CITYSOON", now + timedelta(minutes=40), 5, like="CITY3")
        s.flush()
        mike = s.get(Guide, ids["Mike Rai"])
        assert mike is not None
        offer = assignments.offer_assignment(s, org, soon, mike, now)
        assert assignments.escalation_due(org, offer) == now + timedelta(minutes=20)
        assert [
            a.id for a in assignments.escalate_unanswered_offers(s, now + timedelta(minutes=21))
        ] == [offer.id]
        assert assignments.escalate_unanswered_offers(s, now + timedelta(minutes=22)) == []


def test_sales_cannot_assign_or_release_guides(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    assert (
        sales.post(
            "/admin/departures/CITY3/guide/assign", {"guide": str(ids["Mike Rai"])}
        ).status_code
        == 403
    )
    assert sales.post("/admin/departures/CITY3/guide/release", {}).status_code == 403
    with factory() as s:
        dep = s.scalars(select(Departure).where(Departure.code == "CITY3")).one()
        assert dep.guide_id == ids["Maya Gurung"]


def _day_of(factory: sessionmaker[Session], code: str) -> str:
    with factory() as s:
        org = the_org(s)
        return org.local(departure(s, org, code).starts_at).date().isoformat()


def test_time_off_keeps_a_guide_out_of_offers_and_direct_assignment(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    day = _day_of(factory, "CITY3")
    done = ops.post(
        f"/admin/guides/{ids['Mike Rai']}/time-off", {"first": day, "reason": "wedding"}
    )
    assert done.status_code == 200 and "Mike Rai is off" in done.text and "(wedding)" in done.text
    page = ops.get(f"/admin/guides/{ids['Mike Rai']}")
    assert "wedding" in page.text[page.text.index('id="time-off"') :]
    # The departure lists Mike with the reason and without a button; Alex is still free.
    listed = options_text(ops.get("/admin/departures/CITY3").text)
    assert f'value="{ids["Mike Rai"]}"' not in listed and "off " in listed
    assert f'value="{ids["Alex Karki"]}"' in listed
    # Offering or assigning him anyway is refused with the reason, and changes nothing.
    offered = ops.post("/admin/departures/CITY3/guide", {"guide": str(ids["Mike Rai"])})
    assert "Mike Rai is off" in offered.text and "choose another guide" in offered.text
    assigned = ops.post("/admin/departures/CITY3/guide/assign", {"guide": str(ids["Mike Rai"])})
    assert "Mike Rai is off" in assigned.text
    with factory() as s:
        dep = departure(s, the_org(s), "CITY3")
        assert dep.guide_id == ids["Maya Gurung"]
        assert not s.scalars(
            select(GuideAssignment).where(GuideAssignment.guide_id == ids["Mike Rai"])
        ).all()
        replacements = assignments.replacement_guides(s, dep, exclude=dep.guide)
        assert {g.name for g in replacements} == {"Alex Karki"}
        off = s.scalars(select(GuideTimeOff)).one()
    # Removed: he can be offered the trip again.
    ops.post(f"/admin/guides/{ids['Mike Rai']}/time-off/{off.id}/delete")
    listed = options_text(ops.get("/admin/departures/CITY3").text)
    assert f'value="{ids["Mike Rai"]}"' in listed


def test_hours_off_only_block_the_trips_they_overlap(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    with factory() as s:
        org = the_org(s)
        start = org.local(departure(s, org, "CITY3").starts_at)
    before = (start - timedelta(hours=3)).strftime("%H:%M")
    just_before = (start - timedelta(hours=1)).strftime("%H:%M")
    day = start.date().isoformat()
    if start.hour >= 3:  # a doctor's appointment ending before the walk starts
        ops.post(
            f"/admin/guides/{ids['Alex Karki']}/time-off",
            {"first": day, "start": before, "end": just_before, "reason": "doctor"},
        )
        listed = options_text(ops.get("/admin/departures/CITY3").text)
        assert f'value="{ids["Alex Karki"]}"' in listed
    # Until an hour into the walk: blocked.
    into = (start + timedelta(hours=1)).strftime("%H:%M")
    ops.post(
        f"/admin/guides/{ids['Alex Karki']}/time-off",
        {"first": day, "start": just_before, "end": into},
    )
    listed = options_text(ops.get("/admin/departures/CITY3").text)
    assert f'value="{ids["Alex Karki"]}"' not in listed


def test_time_off_over_a_guides_own_trip_says_to_replace_them(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    day = _day_of(factory, "CITY3")
    done = ops.post(f"/admin/guides/{ids['Maya Gurung']}/time-off", {"first": day})
    assert "Still Maya Gurung&#39;s in that time: CITY3" in done.text
    page = ops.get(f"/admin/guides/{ids['Maya Gurung']}")
    assert "during time off: replace" in page.text


def test_time_off_refuses_bad_input_roles_and_forged_posts(
    ops: StaffClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    ids = city_guides(factory)
    url = f"/admin/guides/{ids['Mike Rai']}/time-off"
    day = _day_of(factory, "CITY3")
    backwards = ops.post(url, {"first": day, "last": "2000-01-01"})
    assert backwards.status_code == 200 and "must end after it starts" in backwards.text
    assert ops.post(url, {"first": "2000-01-01"}).status_code == 200  # "already over"
    assert ops.post(url, {"first": "next tuesday"}, follow=False).status_code == 400
    assert ops.post(url, {"first": day, "start": "9am"}, follow=False).status_code == 400
    assert ops.post(url, {"first": day, "last": "2099-01-01"}).status_code == 200
    # Everyone reads the guides; only ops and owners change time off.
    assert sales.get("/admin/guides").status_code == 200
    assert "Mike Rai" in sales.get("/admin/guides").text
    assert sales.get(f"/admin/guides/{ids['Mike Rai']}").status_code == 200
    assert sales.post(url, {"first": day}, follow=False).status_code == 403
    forged = ops.client.post(url, data={"first": day, "csrf_token": "forged"})
    assert forged.status_code == 400
    with factory() as s:
        assert s.scalars(select(GuideTimeOff)).all() == []
    ops.post(url, {"first": day})
    with factory() as s:
        off = s.scalars(select(GuideTimeOff)).one()
    assert sales.post(f"{url}/{off.id}/delete", follow=False).status_code == 403
    # Another guide's time off is not this guide's to remove.
    other = f"/admin/guides/{ids['Alex Karki']}/time-off/{off.id}/delete"
    assert ops.post(other, follow=False).status_code == 404
    with factory() as s:
        assert len(s.scalars(select(GuideTimeOff)).all()) == 1
