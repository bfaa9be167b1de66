"""The booking desk: a new booking for a caller (availability first, the caller found or
created by phone, hold with a link or confirmed with money taken by hand), guests' needs,
a payment taken later, a changed party, a move, a customer's details and history."""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    Customer,
    Departure,
    Message,
    Payment,
    TimelineEvent,
    Tour,
    utcnow,
)
from services import leads
from tests.admin.support import a_paid_booking, the_org
from tests.factories import departure, hold, make_customer
from tests.staff import StaffClient
from tests.test_conversations import day


def sunset(factory: sessionmaker[Session], days: int) -> str:
    """The code of the sunset tour's departure that many days ahead."""
    with factory() as s:
        org = the_org(s)
        start = datetime.combine(day(days), time.min, tzinfo=org.tz)
        return s.scalars(
            select(Departure.code)
            .join(Tour)
            .where(Tour.slug == "sunset-tour", Departure.starts_at >= start)
            .order_by(Departure.starts_at)
        ).first()


def messages_to(factory: sessionmaker[Session], phone: str) -> list[str]:
    with factory() as s:
        return [m.body for m in s.scalars(select(Message).where(Message.to_phone == phone))]


def new_booking_url(days: int, **party: int) -> str:
    tiers = "&".join(f"tier_{k}={v}" for k, v in party.items())
    return f"/admin/bookings/new?tour=sunset-tour&date={day(days).isoformat()}&{tiers}"


def test_live_booking_availability_first_then_a_hold_with_the_link_texted(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    code = sunset(factory, 2)
    page = sales.get(new_booking_url(2, adult=2, child=2))
    assert page.status_code == 200
    # Each departure: time, spots left, the party's price ($49 x 2 + $29 x 2).
    assert code in page.text and "$156" in page.text and ">20<" in page.text
    page = sales.get(new_booking_url(2, adult=2, child=2) + f"&departure={code}")
    assert "2 × Adult $49 + 2 × Child $29" in page.text and "$156" in page.text
    done = sales.post(
        "/admin/bookings/new",
        {
            "departure": code,
            "tier_adult": "2",
            "tier_child": "2",
            "phone": "+1 (202) 555-0177",
            "name": "Margaret Wilson",
            "dietary": "vegetarian x2",
            "pickup": "Hotel Yak, 16:45",
            "names": "Margaret Wilson\nTom Wilson, Lucy Wilson",
            "pay": "link",
        },
    )
    ref = re.search(r"BK-[0-9A-Z]{5}", done.text)[0]
    assert f"{ref} held" in done.text
    with factory() as s:
        b = s.scalar(select(Booking).where(Booking.reference == ref))
        assert (b.status, b.seats, b.total_minor, b.source) == ("held", 4, 15600, "admin")
        assert b.customer.phone == "+12025550177" and b.customer.name == "Margaret Wilson"
        assert (b.dietary_notes, b.pickup_notes) == ("vegetarian x2", "Hotel Yak, 16:45")
        assert b.guest_names == ["Margaret Wilson", "Tom Wilson", "Lucy Wilson"]
    (text,) = messages_to(factory, "+12025550177")
    assert ref in text and f"/pay/{ref}" in text
    # The seats are taken: the same departure now shows 16 left.
    assert ">16<" in sales.get(new_booking_url(2, adult=2, child=2)).text


def test_a_national_number_is_read_in_the_organizations_country_and_a_caller_is_recognised(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)  # Grace Hopper, +12025550141, one booking
    lookup = owner.get("/admin/customers/lookup?phone=(202) 555-0141").get_json()
    assert lookup["found"] and lookup["name"] == "Grace Hopper"
    assert "1 booking" in lookup["summary"]
    assert owner.get("/admin/customers/lookup?phone=202 555 0199").get_json() == {"found": False}
    code = sunset(factory, 3)
    page = owner.get(new_booking_url(3, adult=1) + f"&departure={code}&phone=2025550141")
    assert "Grace Hopper" in page.text
    done = owner.post(
        "/admin/bookings/new",
        {"departure": code, "tier_adult": "1", "phone": "(202) 555-0141", "pay": "link"},
    )
    assert "held" in done.text
    with factory() as s:
        assert s.scalars(select(Customer)).all().__len__() == 1
        assert (
            len(s.scalars(select(Booking).where(Booking.customer_id == booking.customer_id)).all())
            == 2
        )


def test_paid_by_phone_confirms_at_once_with_method_reference_and_who(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    code = sunset(factory, 2)
    form = {
        "departure": code,
        "tier_adult": "2",
        "phone": "+12025550178",
        "name": "Wei Chen",
        "pay": "now",
        "method": "card_phone",
        "payment_reference": "POS 4471",
    }
    # Less than the deposit ($29.40 of $98) does not confirm, and nothing is kept.
    refused = sales.post("/admin/bookings/new", {**form, "amount": "10"})
    assert "at least the deposit, $29.40" in refused.text
    with factory() as s:
        assert s.scalars(select(Booking)).all() == []
    done = sales.post("/admin/bookings/new", {**form, "amount": "98.00"})
    assert "confirmed: $98 card by phone recorded" in done.text
    with factory() as s:
        b = s.scalars(select(Booking)).one()
        p = s.scalars(select(Payment)).one()
        assert (b.status, b.paid_minor, b.balance_minor) == ("confirmed", 9800, 0)
        assert (p.provider, p.method, p.external_reference, p.status) == (
            "manual",
            "card_phone",
            "POS 4471",
            "paid",
        )
        assert p.recorded_by_id is not None
        assert "payment.recorded" in s.scalars(select(TimelineEvent.event_type)).all()
    (text,) = messages_to(factory, "+12025550178")
    assert "Booking confirmed and paid in full" in text
    page = sales.get(f"/admin/bookings/{b.reference}")
    assert "card by phone" in page.text and "POS 4471" in page.text and "Sam" in page.text


def test_sold_out_departures_are_not_offered_and_a_seat_gone_meanwhile_is_refused(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        hold(s, org, "CITY3", "+12025550131", utcnow(), adults=3)  # CITY3 is full
        s.commit()
    page = sales.get(f"/admin/bookings/new?tour=city-walk&date={day(3)}&to={day(4)}&tier_adult=1")
    assert "CITY4" in page.text and "CITY3" not in page.text
    # Two reps saw CITY4's 3 seats; the other took 2 first.
    with factory() as s:
        hold(s, the_org(s), "CITY4", "+12025550132", utcnow(), adults=2)
        s.commit()
    late = sales.post(
        "/admin/bookings/new",
        {
            "departure": "CITY4",
            "tier_adult": "2",
            "tour": "city-walk",
            "date": str(day(3)),
            "to": str(day(4)),
            "phone": "+12025550179",
            "name": "Kim Lee",
            "dietary": "vegan",
            "pay": "link",
        },
    )
    assert "only 1 seat is left on CITY4" in late.text
    assert "Show what" in late.text  # back on the availability list, with what was typed
    assert "name=Kim+Lee" in late.request.url and "dietary=vegan" in late.request.url
    one = sales.get(late.request.url.replace("tier_adult=2", "tier_adult=1") + "&departure=CITY4")
    assert 'value="Kim Lee"' in one.text and 'value="vegan"' in one.text
    with factory() as s:
        assert s.scalar(select(Customer).where(Customer.phone == "+12025550179")) is None


def test_a_booking_from_a_lead_for_another_tour_carries_the_needs_told_in_chat(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        customer = make_customer(s, org, "+12025550180", utcnow(), name="Lena")
        lead = leads.create_lead(s, org, customer, utcnow(), source="whatsapp")
        leads.add_details(
            s,
            lead,
            "pickup from Hotel Yak please, two of us are vegetarian. my dad uses a wheelchair",
            utcnow(),
            actor="customer",
            source="whatsapp",
        )
        s.commit()
        ref = lead.reference
    code = sunset(factory, 5)
    page = sales.get(f"/admin/bookings/new?lead={ref}&tour=sunset-tour&date={day(5)}&tier_adult=3")
    assert code in page.text
    done = sales.post(
        "/admin/bookings/new",
        {"departure": code, "tier_adult": "3", "phone": "+12025550180", "lead": ref, "pay": "link"},
    )
    assert "held" in done.text
    with factory() as s:
        b = s.scalars(select(Booking)).one()
        assert b.lead.reference == ref
        assert "vegetarian" in b.dietary_notes
        assert "Hotel Yak" in b.pickup_notes
        assert "wheelchair" in b.accessibility_notes


def test_needs_party_and_move_from_the_booking_page(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        b = hold(s, org, "CITY3", "+12025550133", utcnow(), adults=1)
        s.commit()
        ref = b.reference
    url = f"/admin/bookings/{ref}"
    sales.post(
        f"{url}/needs",
        {"dietary": "no nuts (EpiPen)", "accessibility": "", "pickup": "Yak 8:30", "names": "Ana"},
    )
    with factory() as s:
        b = s.scalar(select(Booking).where(Booking.reference == ref))
        assert (b.dietary_notes, b.pickup_notes, b.guest_names) == (
            "no nuts (EpiPen)",
            "Yak 8:30",
            ["Ana"],
        )
    # 3 people on a 3-seat departure that has 2 left besides this booking's own seat: fine.
    done = sales.post(f"{url}/party", {"tier_adult": "3"})
    assert "$25 → $75" in done.text
    too_many = sales.post(f"{url}/party", {"tier_adult": "4"})
    assert "only 0 seats" in too_many.text or "is full" in too_many.text
    with factory() as s:
        assert s.scalar(select(Booking.seats).where(Booking.reference == ref)) == 3
    assert "now for" not in "".join(messages_to(factory, "+12025550133"))
    assert any("$75" in m for m in messages_to(factory, "+12025550133"))
    moved = sales.post(f"{url}/move", {"departure": "CITY4"})
    assert "changed" in moved.text
    with factory() as s:
        b = s.scalar(select(Booking).where(Booking.reference == ref))
        assert b.departure.code == "CITY4" and b.seats == 3
        events = s.scalars(select(TimelineEvent.event_type)).all()
        assert {"booking.moved", "booking.party_changed", "booking.needs_updated"} <= set(events)
    page = sales.get(url)
    assert "CITY4" in page.text and "no nuts" in page.text


def test_a_cancelled_refunded_booking_owes_nothing(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    owner.post(f"/admin/bookings/{booking.reference}/cancel", {"reason": "changed plans"})
    page = owner.get(f"/admin/bookings/{booking.reference}")
    assert "cancelled" in page.text
    assert "balance" not in page.text.lower().split("<h2>payments</h2>")[0]
    with factory() as s:
        b = s.get(Booking, booking.id)
        assert (b.status, b.paid_minor, b.balance_minor) == (BookingStatus.CANCELLED, 0, 0)


def test_customer_profile_edit_and_history(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    url = f"/admin/customers/{booking.customer_id}"
    page = sales.get(url)
    assert "Grace Hopper" in page.text and "<strong>1</strong> booking<" in page.text
    sales.post(
        url,
        {
            "name": "Grace B. Hopper",
            "email": "grace@gmail.com",
            "phone": "+1 202 555 0142",
            "notes": "Prefers mornings",
        },
    )
    with factory() as s:
        c = s.get(Customer, booking.customer_id)
        assert (c.name, c.email, c.phone, c.notes) == (
            "Grace B. Hopper",
            "grace@gmail.com",
            "+12025550142",
            "Prefers mornings",
        )
    bad = sales.post(url, {"name": "Grace", "email": "grace@gmial", "phone": "+12025550142"})
    assert "not an email address" in bad.text
    sales.post(url, {"name": "Grace", "email": "grace@gmial.com", "phone": "+12025550142"})
    assert "typo? grace@gmail.com" in sales.get(url).text
    sales.post(url, {"name": "Grace", "email": "grace@navy.mil", "phone": "+12025550142"})
    assert "typo?" not in sales.get(url).text


def test_desk_routes_need_csrf_and_stay_inside_the_organization(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)
    r = sales.client.post(f"/admin/bookings/{booking.reference}/needs", data={"dietary": "x"})
    assert r.status_code == 400
    assert (
        sales.post(
            "/admin/bookings/new",
            {"departure": "NOPE", "tier_adult": "1", "phone": "+12025550170"},
            follow=False,
        ).status_code
        == 404
    )
    assert sales.get("/admin/bookings/new?tour=no-such-tour").status_code == 404
    assert sales.get("/admin/bookings/new?date=31-02-2027").status_code == 400
    assert (
        sales.post(
            f"/admin/bookings/{booking.reference}/move", {"departure": "NOPE"}, follow=False
        ).status_code
        == 404
    )


def test_the_manifest_shows_names_phones_needs_pickup_and_what_is_owed(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        smith = hold(s, org, "CITY3", "+12025550134", utcnow(), adults=2)
        smith.customer.name = "John Smith"
        smith.guest_names = ["John Smith", "Jane Smith"]
        smith.dietary_notes = "vegetarian (Jane)"
        smith.pickup_notes = "Marriott lobby 8:30"
        smith.status = BookingStatus.CONFIRMED
        smith.paid_minor = 1500  # of $50
        sms_only = hold(s, org, "CITY3", "+12025550135", utcnow(), adults=1)  # no name
        sms_only.accessibility_notes = "wheelchair"
        s.commit()
    page = ops.get("/admin/departures/CITY3/manifest")
    text = page.text
    assert "John Smith" in text and "Jane Smith" in text and "Guest" not in text
    assert 'href="tel:+12025550134"' in text and "+12025550135" in text
    assert 'class="diet">⚠ vegetarian (Jane)' in text and "♿ wheelchair" in text
    assert "Marriott lobby 8:30" in text and "due $35" in text
    assert "1 hotel pickup" in text and "2 unpaid or unconfirmed bookings" in text
    assert "1 accessibility need" in text and "3 guests" in text


def test_search_forgives_typos_national_numbers_and_references_without_prefix(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    booking = a_paid_booking(factory)  # Grace Hopper, +12025550141
    with factory() as s:
        org = the_org(s)
        for n, name in enumerate(("Margaret Wilson", "Gregory House", "Ada Lovelace")):
            make_customer(s, org, f"+1202555016{n}", utcnow(), name=name)
        s.commit()
    for typo, wanted in (("margret wilsn", "Margaret Wilson"), ("Grace Hoper", "Grace Hopper")):
        page = owner.get(f"/admin/search?q={typo}")
        assert wanted in page.text and "Close to" in page.text, typo
    assert "Ada Lovelace" not in owner.get("/admin/search?q=margret wilsn").text
    bare = booking.reference.removeprefix("BK-")
    assert booking.reference in owner.get(f"/admin/search?q={bare.lower()}").text
    assert "Grace Hopper" in owner.get("/admin/search?q=202-555-0141").text


def test_another_organizations_desk_objects_are_404_and_its_callers_unknown(
    owner: StaffClient, factory: sessionmaker[Session], client
) -> None:
    from tests.admin.support import as_staff
    from tests.conftest import import_org
    from tests.factories import catalog_data
    from tests.staff import make_staff

    booking = a_paid_booking(factory)  # organization A's
    with factory() as s:
        lead = leads.create_lead(s, the_org(s), booking.customer, utcnow(), source="sms")
        s.commit()
        lead_ref = lead.reference
    other = catalog_data(
        organization={
            **catalog_data()["organization"],
            "slug": "other-co",
            "name": "Other Co",
            "numbers": ["+15005550009"],
        },
        staff=[],
        guides=[],
    )
    for tour in other["tours"]:
        tour.pop("departures", None)
        tour["schedule"] = []
    with factory() as s:
        other_org = import_org(s, utcnow(), **other)
        make_staff(s, other_org, "owner", "boss@other.example")
    intruder = as_staff(client, "boss@other.example")
    ref, customer = booking.reference, booking.customer_id
    assert intruder.get(f"/admin/bookings/new?lead={lead_ref}").status_code == 404
    assert intruder.get("/admin/bookings/new?tour=sunset-tour&departure=EBC100").status_code == 200
    assert 'id="booking-form"' not in intruder.get("/admin/bookings/new?departure=EBC100").text
    lookup = intruder.get("/admin/customers/lookup?phone=+12025550141").get_json()
    assert lookup == {"found": False}
    for url, form in (
        (f"/admin/bookings/{ref}/needs", {"dietary": "x"}),
        (f"/admin/bookings/{ref}/payment", {"amount": "1", "method": "cash"}),
        (f"/admin/bookings/{ref}/party", {"tier_adult": "1"}),
        (f"/admin/bookings/{ref}/move", {"departure": "EBC100"}),
        (f"/admin/customers/{customer}", {"name": "x"}),
        (
            "/admin/bookings/new",
            {"departure": "EBC100", "tier_adult": "1", "phone": "+12025550170"},
        ),
    ):
        assert intruder.post(url, form, follow=False).status_code == 404, url
    with factory() as s:
        b = s.get(Booking, booking.id)
        assert (b.dietary_notes, b.customer.name) == (None, "Grace Hopper")


def test_a_leads_departures_show_room_and_price_and_quotes_respect_capacity(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        customer = make_customer(s, org, "+12025550183", utcnow(), name="Ravi")
        lead = leads.create_lead(s, org, customer, utcnow(), source="whatsapp")
        lead.tour_id = departure(s, org, "CITY3").tour_id
        lead.party = {"adult": 2}
        hold(s, org, "CITY3", "+12025550136", utcnow(), adults=2)  # 1 seat left of 3
        s.commit()
        ref = lead.reference
    page = sales.get(f"/admin/leads/{ref}")
    assert "(CITY4) · 3 left · $50" in page.text and "(CITY3)" not in page.text
    preview = sales.get(f"/admin/leads/{ref}?preview=1&departure=CITY3&tier_adult=2")
    assert "only 1 seat is left on CITY3" in preview.text and "Send this quote" not in preview.text
    sent = sales.post(f"/admin/leads/{ref}/quote", {"departure": "CITY3", "tier_adult": "2"})
    assert "only 1 seat is left on CITY3" in sent.text
    with factory() as s:
        assert s.scalars(select(Message).where(Message.to_phone == "+12025550183")).all() == []


def test_needs_told_in_the_chat_after_the_hold_reach_the_booking(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = the_org(s)
        customer = make_customer(s, org, "+12025550184", utcnow(), name="Lena")
        lead = leads.create_lead(s, org, customer, utcnow(), source="whatsapp")
        leads.add_details(s, lead, "we are vegetarian", utcnow(), actor="c", source="whatsapp")
        b = hold(s, org, "CITY3", "+12025550184", utcnow(), adults=2)
        b.lead_id = lead.id
        s.commit()
        for text in ("one of us has a peanut allergy", "pick us up at Hotel Yak", "thanks!"):
            leads.add_details(s, lead, text, utcnow(), actor="c", source="whatsapp")
        leads.add_details(
            s, lead, "one of us has a peanut allergy", utcnow(), actor="c", source="whatsapp"
        )
        s.commit()
        b = s.get(Booking, b.id)
        assert b.dietary_notes == "one of us has a peanut allergy"  # vegetarian was before it
        assert b.pickup_notes == "pick us up at Hotel Yak"
    assert "peanut allergy" in sales.get("/admin/departures/CITY3/manifest").text


def test_the_free_list_is_polled_and_changes_when_seats_go_elsewhere(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    query = f"tour=city-walk&date={day(3)}&to={day(4)}&tier_adult=1"
    page = sales.get(f"/admin/bookings/new?{query}")
    assert f'data-refresh-url="/admin/bookings/new/free?{query.replace("&", "&amp;")}"' in page.text
    before = sales.get(f"/admin/bookings/new/free?{query}").get_json()
    assert before == [["CITY3", 3], ["CITY4", 3], ""]
    with factory() as s:
        hold(s, the_org(s), "CITY3", "+12025550137", utcnow(), adults=3)  # the bot sold it
        s.commit()
    assert sales.get(f"/admin/bookings/new/free?{query}").get_json() == [["CITY4", 3], ""]


def test_a_refused_payment_keeps_the_departure_the_customer_and_paid_now(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """A mistyped amount, or less than the deposit, brings the rep back to the same
    departure's form with what was typed and 'Paid now' still chosen: one tap to put it
    right (before: a bare 'Bad Request' page, or the list with the link chosen again)."""
    code = sunset(factory, 2)
    form = {
        "departure": code,
        "tier_adult": "2",
        "tour": "sunset-tour",
        "date": day(2).isoformat(),
        "phone": "+12025550178",
        "name": "Wei Chen",
        "dietary": "no nuts",
        "pay": "now",
        "method": "cash",
        "payment_reference": "R-88",
    }
    for amount, why in (("abc", "'abc' is not an amount"), ("10", "at least the deposit, $29.40")):
        page = sales.post("/admin/bookings/new", {**form, "amount": amount})
        assert page.status_code == 200 and why in html.unescape(page.text), amount
        assert 'id="booking-form"' in page.text  # the chosen departure's form, not the list
        assert f'name="departure" value="{code}"' in page.text
        assert 'value="Wei Chen"' in page.text and 'value="no nuts"' in page.text
        assert re.search(r'value="now" id="pay-now" checked', page.text)
        assert f'value="{amount}"' in page.text and 'value="R-88"' in page.text
        assert re.search(r'<option value="cash" selected>', page.text)
    with factory() as s:
        assert s.scalars(select(Booking)).all() == []


def test_a_caller_whose_only_booking_was_cancelled_is_not_new(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    """Journey 4: Margaret's tour was cancelled (a storm) and she calls. The desk and her
    page say she had a booking, cancelled: not 'new', not 'no bookings yet'."""
    booking = a_paid_booking(factory)
    owner.post(f"/admin/bookings/{booking.reference}/cancel", {"reason": "storm"})
    lookup = owner.get("/admin/customers/lookup?phone=(202) 555-0141").get_json()
    assert lookup["found"] and "no bookings yet" not in lookup["summary"]
    assert "1 booking cancelled" in lookup["summary"]
    page = owner.get(f"/admin/customers/{booking.customer_id}").text
    stats = page[page.index('id="customer-stats"') : page.index("spent</div>")]
    assert "1 cancelled" in stats
    assert ">new<" not in page[: page.index('id="customer-stats"')]


def test_one_tap_days_today_tomorrow_this_weekend_and_the_next_7_days(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """'Sunset tour this Saturday': the rep taps 'This weekend' instead of opening the date
    picker; the tour and party typed so far go with it (the buttons submit the form)."""
    page = sales.get("/admin/bookings/new")
    today = day(0)
    weekend = "Next weekend" if today.weekday() == 6 else "This weekend"  # Sunday: next week's
    for label in ("Today", "Tomorrow", weekend, "Next 7 days"):
        assert f">{label}</button>" in page.text
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    expected = {
        "today": (today, today),
        "tomorrow": (today + timedelta(days=1), today + timedelta(days=1)),
        "weekend": (saturday, saturday + timedelta(days=1)),
        "week": (today, today + timedelta(days=6)),
    }
    for when, (a, b) in expected.items():
        page = sales.get(f"/admin/bookings/new?tour=sunset-tour&tier_adult=3&when={when}")
        assert page.status_code == 200, when
        assert f'name="date" type="date" value="{a.isoformat()}"' in page.text, when
        shown = b.isoformat() if b != a else ""
        assert f'name="to" type="date" value="{shown}"' in page.text, when
        assert "Free for 3 adults · Sunset Tour" in page.text, when
        listed = page.text.split('id="nearest"')[0]  # not the nearest, on other days
        choose = re.findall(r'href="([^"]*departure=[^"]*)"', listed)
        assert all(f"date={a.isoformat()}" in html.unescape(c) for c in choose), when
    assert sales.get("/admin/bookings/new?when=someday").status_code == 400


def test_the_weekend_button_on_each_day_of_the_week() -> None:
    from datetime import date

    from admin.desk import quick_days

    saturday, sunday = date(2026, 12, 12), date(2026, 12, 13)
    for today in (date(2026, 12, 7), date(2026, 12, 11), saturday):  # Monday, Friday, Saturday
        assert quick_days(today, "weekend") == (saturday, sunday)
    assert quick_days(date(2026, 12, 6), "weekend") == (saturday, sunday)  # a Sunday: next week's
    assert quick_days(sunday, "tomorrow") == (date(2026, 12, 14),) * 2
    assert quick_days(sunday, "week") == (sunday, date(2026, 12, 19))


def test_a_hold_is_kept_longer_when_the_customer_asks(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """'Can you keep it till Friday? I'm paid then.' The rep moves the hold's deadline (to
    at most the departure's start, never a lapsed hold's); the sweep then keeps it."""
    from services import bookings as booking_service

    code = sunset(factory, 9)
    sales.post(
        "/admin/bookings/new",
        {"departure": code, "tier_adult": "2", "phone": "+12025550178", "pay": "link"},
    )
    with factory() as s:
        booking = s.scalars(select(Booking)).one()
        org = the_org(s)
        ref, old = booking.reference, booking.hold_expires_at
        start = booking.departure.starts_at
    url = f"/admin/bookings/{ref}/hold-until"
    page = sales.get(f"/admin/bookings/{ref}").text
    assert f'action="{url}"' in page
    until = (old + timedelta(days=3)).astimezone(org.tz).replace(second=0, microsecond=0)
    done = sales.post(url, {"until": until.strftime("%Y-%m-%dT%H:%M")})
    assert f"{ref} is held until {until:%a %d %b %H:%M}" in done.text
    with factory() as s:
        booking = s.get(Booking, booking.id)
        assert booking.hold_expires_at == until
        assert booking_service.expire_due_holds(s, old + timedelta(minutes=1)) == []
        s.commit()
    assert "Hold kept longer" in sales.get(f"/admin/bookings/{ref}").text  # the timeline
    # Refused, in words, with nothing changed: garbage, the past, after the start.
    late = (start + timedelta(hours=1)).astimezone(org.tz)
    for value, why in (
        ("friday", "a date and time"),
        ("2020-01-01T10:00", "still to come"),
        (late.strftime("%Y-%m-%dT%H:%M"), "the departure starts"),
    ):
        page = sales.post(url, {"until": value})
        assert page.status_code == 200 and why in page.text, value
    with factory() as s:
        booking = s.get(Booking, booking.id)
        assert booking.hold_expires_at == until
        booking.hold_expires_at = utcnow() - timedelta(minutes=1)  # lapsed, not yet swept
        s.commit()
    lapsed = sales.post(url, {"until": until.strftime("%Y-%m-%dT%H:%M")})
    assert "hold has lapsed" in lapsed.text


def test_nothing_free_on_the_day_offers_the_nearest_departures_with_room(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """The caller's day is full (or a failed-booking lead's): the nearest departures with
    room for the party are offered at once, each one tap from the booking form."""
    with factory() as s:
        hold(s, the_org(s), "CITY3", "+12025550131", utcnow(), adults=3)  # CITY3 is full
        s.commit()
    page = sales.get(f"/admin/bookings/new?tour=city-walk&date={day(3)}&tier_adult=2")
    assert "Nothing free for this party on these dates" in page.text
    assert "Nearest with room" in page.text and "CITY4" in page.text
    assert "CITY3" not in page.text[page.text.index("Nearest with room") :]
    choose = html.unescape(re.search(r'href="([^"]*departure=CITY4[^"]*)"', page.text)[1])
    assert f"date={day(4).isoformat()}" in choose and "tier_adult=2" in choose
    form = sales.get(choose)
    assert 'id="booking-form"' in form.text and 'name="departure" value="CITY4"' in form.text


def test_a_mistyped_email_is_corrected_in_one_tap_keeping_the_rest(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """Journey 4's quick action: 'mwilson@gmial.com · typo?' becomes mwilson@gmail.com with
    one button; the name, number and notes stay as they were."""
    booking = a_paid_booking(factory)
    url = f"/admin/customers/{booking.customer_id}"
    sales.post(
        url,
        {
            "name": "Margaret Wilson",
            "email": "mwilson@gmial.com",
            "phone": "+12025550141",
            "notes": "Angry: walk cancelled\nCall before 6pm",
        },
    )
    page = sales.get(url).text
    form = re.search(r'<form[^>]*id="fix-email".*?</form>', page, re.S)
    assert form and "Use mwilson@gmail.com" in form[0]
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form[0])
        if n != "csrf_token"
    }
    done = sales.post(url, fields)
    assert "Saved: email." in done.text
    with factory() as s:
        c = s.get(Customer, booking.customer_id)
        assert (c.name, c.email, c.phone, c.notes) == (
            "Margaret Wilson",
            "mwilson@gmail.com",
            "+12025550141",
            "Angry: walk cancelled\nCall before 6pm",
        )
    assert 'id="fix-email"' not in sales.get(url).text


def test_saving_a_customer_with_an_empty_name_or_phone_is_refused_and_changes_nothing(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """The customer form saved with the name (or the number) emptied blanked the customer's
    name; a required field left empty is refused, nothing saved. Notes may be cleared."""
    booking = a_paid_booking(factory)
    url = f"/admin/customers/{booking.customer_id}"
    sales.post(
        url,
        {"name": "Grace Hopper", "email": "", "phone": "+12025550141", "notes": "Mornings"},
    )
    for blank in ({"name": "  "}, {"phone": ""}):
        refused = sales.post(
            url,
            {
                "name": "Grace Hopper",
                "email": "grace@navy.mil",
                "phone": "+1 202 555 0142",
                "notes": "",
                **blank,
            },
        )
        field = next(iter(blank))
        assert f"{field} cannot be left empty" in refused.text.lower(), blank
        with factory() as s:
            c = s.get(Customer, booking.customer_id)
            assert (c.name, c.email, c.phone, c.notes) == (
                "Grace Hopper",
                None,
                "+12025550141",
                "Mornings",
            ), blank
    cleared = sales.post(
        url, {"name": "Grace Hopper", "email": "", "phone": "+12025550141", "notes": ""}
    )
    assert "Saved: notes." in cleared.text
    with factory() as s:
        assert s.get(Customer, booking.customer_id).notes is None


def test_a_party_with_no_adult_or_digits_of_another_script_is_refused(
    sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    """0 adults + 3 children was accepted as a booking's new party and as a desk booking (no
    tour has a setting letting children come alone); '٣' was read as 3."""
    code = sunset(factory, 2)
    with factory() as s:
        b = hold(s, the_org(s), code, "+12025550133", utcnow(), adults=2)
        s.commit()
        ref = b.reference
    url = f"/admin/bookings/{ref}"
    alone = sales.post(f"{url}/party", {"tier_adult": "0", "tier_child": "3"})
    assert "no children alone" in alone.text
    for not_ascii in ("٣", "３", "³"):
        refused = sales.post(f"{url}/party", {"tier_adult": not_ascii}, follow=False)
        assert refused.status_code == 400 and "number of people" in refused.text, not_ascii
    with factory() as s:
        assert s.scalar(select(Booking.party).where(Booking.reference == ref)) == {"adult": 2}
    desk = sales.post(
        "/admin/bookings/new",
        {"departure": code, "tier_child": "2", "phone": "+12025550178", "pay": "link"},
    )
    assert "no children alone" in desk.text
    refused = sales.post(
        "/admin/bookings/new",
        {"departure": code, "tier_adult": "٢", "phone": "+12025550178", "pay": "link"},
        follow=False,
    )
    assert refused.status_code == 400
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 1
    # A child with an adult is still fine.
    assert "changed" in sales.post(f"{url}/party", {"tier_adult": "1", "tier_child": "2"}).text
