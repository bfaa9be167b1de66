"""The customer journeys (numbered as in docs/conversations.md), end to end through the
signed webhook, asserting the replies and the database afterwards."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from cli.chat import post_inbound
from config import TestConfig
from models import (
    Booking,
    BookingStatus,
    Conversation,
    Departure,
    Lead,
    Message,
    Organization,
    TimelineEvent,
    WaitlistEntry,
    utcnow,
)
from services import api_tokens, bookings, inventory, jobs, ratelimit
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import catalog_data, departure, hold, make_customer, new_departure

KTM = ZoneInfo("Asia/Kathmandu")


def today() -> date:
    return utcnow().astimezone(KTM).date()


def day(n: int) -> date:
    return today() + timedelta(days=n)


def live_catalog() -> dict:
    """The test catalog with dates relative to today, since the webhook runs on the real clock."""
    data = catalog_data()
    ebc, sunset, city = data["tours"]
    ebc["departures"] = [{"code": "EBC100", "start": f"{day(100)} 06:00", "capacity": 12}]
    sunset["schedule"] = [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "time": "17:30",
            "from": str(day(1)),
            "until": str(day(30)),
            "capacity": 20,
        }
    ]
    city["departures"] = [
        {"code": "CITY3", "start": f"{day(3)} 09:00", "capacity": 3},
        {"code": "CITY4", "start": f"{day(4)} 09:00", "capacity": 3},
    ]
    return data


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    with factory() as s:
        import_org(s, utcnow(), **{k: v for k, v in live_catalog().items()})
    return create_app(config)


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone="+12025550101", name="Ada")


def spoken(d: date) -> str:
    return f"{d.day} {d:%B}"


def test_journey_1_enquiry_creates_an_assigned_lead_and_notifies_the_rep(
    ada: Chat, factory
) -> None:
    reply = ada.say("Hi! I'm interested in the Everest Base Camp Trek for 3 people in March")
    ref = re.search(r"LD-[A-Z0-9]{5}", reply).group(0)
    assert "Everest Base Camp Trek" in reply and "special requirements" in reply
    assert "How many people" not in reply  # already said: 3 people
    with factory() as s:
        lead = s.scalar(select(Lead).where(Lead.reference == ref))
        assert (lead.source, lead.status, lead.party, lead.tour.slug) == (
            "whatsapp",
            "new",
            {"adult": 3},
            "ebc-trek",
        )
        assert lead.preferred_month and lead.preferred_month.endswith("-03")
        assert lead.assigned_to.name == "Sarah Lee"
        conv = s.scalar(select(Conversation))
        assert conv.lead_id == lead.id
        events = [
            e.event_type
            for e in s.scalars(select(TimelineEvent).where(TimelineEvent.object_ref == ref))
        ]
        assert events[:2] == ["lead.created", "lead.assigned"]
    [note] = ada.outbox()
    assert (note.to_phone, note.kind, note.status) == ("+15551230001", "staff", "sent")
    assert ref in note.body and "Everest" in note.body


def test_journey_1_answers_to_the_enquiry_questions_go_on_the_lead(ada: Chat, factory) -> None:
    first = ada.say("Hi! I'm interested in the Everest Base Camp Trek")
    ref = re.search(r"LD-[A-Z0-9]{5}", first).group(0)
    assert "Which dates" in first and "How many people" in first

    answer = ada.say("2 adults and 1 child, vegetarian")
    assert f"noted on your enquiry {ref}" in answer and "didn't catch" not in answer
    assert "Which dates" in answer and "How many people" not in answer  # still open
    assert "All right." in ada.say("no")  # to "any special requirements?": no note
    when = ada.say(f"around {spoken(day(100))}")
    assert "Which dates" not in when and "Reply YES" in when
    with factory() as s:
        lead = s.scalar(select(Lead).where(Lead.reference == ref))
        assert lead.party == {"adult": 2, "child": 1}
        assert lead.preferred_date == day(100)
        assert lead.notes.splitlines()[-2:] == [
            "2 adults and 1 child, vegetarian",
            f"around {spoken(day(100))}",
        ]
        details = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.object_ref == ref, TimelineEvent.event_type == "lead.details_added"
            )
        ).all()
        assert [e.content["text"] for e in details] == [
            "2 adults and 1 child, vegetarian",
            f"around {spoken(day(100))}",
        ]
    assert len(ada.outbox()) == 1  # the rep was told of the lead once, not of every answer

    offered = ada.say("yes")  # "Reply YES and I'll check which departures have room"
    assert "1) Everest Base Camp Trek" in offered and "$2,400 × 2 + $1,800 × 1" in offered


def test_a_new_party_in_the_middle_of_a_quote_is_priced_before_anything_is_held(
    ada: Chat, factory
) -> None:
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    again = ada.say("actually 2 adults and 2 kids")  # while choosing: the list, repriced
    assert "1) Sunset Tour" in again and "$49 × 2 + $29 × 2 = $156" in again
    assert "total $156" in ada.say("1")
    bigger = ada.say("4 adults please")  # while confirming: the same departure, repriced
    assert "4 adults: $49 × 4 = $196" in bigger and "hold 4 seats" in bigger
    yes_but = ada.say("yes, for 5 adults")  # not held at a price they have not seen
    assert "5 adults: $49 × 5 = $245" in yes_but and "BK-" not in yes_but
    with factory() as s:
        assert s.scalar(select(Booking)) is None
    held = ada.say("yes")
    assert "held 5 seats" in held
    with factory() as s:
        booking = s.scalar(select(Booking))
        assert (booking.seats, booking.total_minor) == (5, 24500)
    [note] = ada.outbox()
    assert "holding seats: 5 adults, Sunset Tour" in note.body  # not "yes"


def test_a_shared_location_goes_on_the_enquiry_with_a_map_link(ada: Chat, factory) -> None:
    def share(**pin: str) -> str:
        form = {**ada.form(""), **pin}
        status, replies = post_inbound(ada.client, form, AUTH_TOKEN, BASE_URL)
        assert status == 200
        return "\n".join(replies)

    assert "a team member will see it" in share(Latitude="27.7153", Longitude="85.3123")
    ref = re.search(r"LD-[A-Z0-9]{5}", ada.say("I'm interested in the food tour")).group(0)
    reply = share(
        Latitude="27.715300", Longitude="85.312300", Label="Hotel Yak", Address="Thamel, KTM"
    )
    assert f"added your location to your enquiry {ref}" in reply
    pin = "Hotel Yak, Thamel, KTM https://maps.google.com/?q=27.715300,85.312300"
    with factory() as s:
        assert s.scalar(select(Lead.notes).where(Lead.reference == ref)).endswith(pin)
        assert (
            s.scalar(
                select(Message.body)
                .order_by(Message.id.desc())
                .where(Message.direction == "inbound")
            )
            == pin
        )  # the log shows the pin, not ""
    # Not a location: a bad pin is just an empty message, never an error.
    assert "didn't catch" in share(Latitude="north", Longitude="85")
    assert "didn't catch" in share(Latitude="95", Longitude="85")


def test_the_chat_simulator_replays_a_script_and_shows_what_it_caused(app: Flask, tmp_path) -> None:
    script = tmp_path / "journey.txt"
    script.write_text(
        "Hi! I'm interested in the Everest Base Camp Trek for 3 people\n"
        "/location 27.7153,85.3123 Hotel Yak\n"
    )
    result = app.test_cli_runner().invoke(
        args=["chat", "--from", "+12025550177", "--whatsapp", "--script", str(script)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    ref = re.search(r"LD-[A-Z0-9]{5}", out).group(0)
    assert "> Hi! I'm interested" in out and f"enquiry reference is {ref}" in out
    assert "[outbox sms to +15551230001, sent] New lead" in out  # what the turn caused
    assert f"added your location to your enquiry {ref}" in out  # signed, like Twilio's
    assert "HTTP" not in out


def test_a_group_too_big_to_book_by_chat_becomes_a_lead_for_sales(ada: Chat, factory) -> None:
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    reply = ada.say(f"sunset tour on {spoken(day(6))} for 200 people")
    ref = re.search(r"LD-[A-Z0-9]{5}", reply).group(0)
    assert "A group of 200" in reply and "1) Sunset Tour" not in reply  # not the old 2 adults
    with factory() as s:
        lead = s.scalar(select(Lead).where(Lead.reference == ref))
        assert lead.party == {"adult": 200} and lead.notes.startswith("group of 200 for Sunset")
    [note] = ada.outbox()
    assert "group of 200 for Sunset Tour" in note.body
    more = ada.say("pickup from Hotel Yak please, and some of us are vegetarian")
    assert f"noted on your enquiry {ref}" in more and "Reply YES" not in more
    # A question, not a note: this catalog has no meeting point for it, so a person answers.
    assert "asked Sarah Lee to reply to you here" in ada.say("where do we meet?")


def test_journey_1_returning_customer_is_greeted_by_name_with_history(ada: Chat, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        customer = make_customer(s, org, ada.phone, utcnow(), name="Ada")
        old = inventory.hold_seats(
            s, org, departure(s, org, "EBC100"), customer, {"adult": 1}, utcnow(), source="sms"
        )
        s.commit()
    reply = ada.say("Hello, I'm interested in the sunset tour")
    assert "Welcome back, Ada" in reply
    with factory() as s:
        lead = s.scalar(select(Lead))
        assert lead.context["previous_bookings"] == [old.reference]


def test_journeys_2_and_3_availability_quote_and_hold(ada: Chat, factory) -> None:
    when = day(6)
    reply = ada.say(f"sunset tour on {spoken(when)}, 2 adults 2 kids")
    assert "1) Sunset Tour" in reply and "$49 × 2 + $29 × 2 = $156" in reply
    assert "20 spots left" in reply and "2)" not in reply  # one departure that day
    week = ada.say("any sunset tour next week for 2 adults 2 kids?")
    assert "3)" in week and "4)" not in week  # at most three, numbered
    ada.say(f"sunset tour on {spoken(when)}, 2 adults 2 kids")
    quote = ada.say("1")
    assert "Deposit $46.80" in quote and "total $156" in quote and "hold 4 seats" in quote
    held = ada.say("yes")
    ref = re.search(r"BK-[A-Z0-9]{5}", held).group(0)
    assert "Hold expires" in held and f"{BASE_URL}/pay/{ref}" in held and "$156" in held
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert (booking.status, booking.seats, booking.party) == (
            "held",
            4,
            {"adult": 2, "child": 2},
        )
        assert booking.source == "whatsapp" and booking.lead is not None
        assert booking.departure.starts_at.astimezone(KTM).date() == when
        assert booking.lead.status == "quoted"
    assert ref in ada.say("what's the status of my booking?")
    assert f"/pay/{ref}" in ada.say("how do I pay?")


def test_naming_the_tour_after_being_asked_continues_the_search(ada: Chat) -> None:
    assert "Which tour would you like?" in ada.say("I want to book")
    reply = ada.say("the sunset tour")  # an answer, not a new enquiry
    assert "1) Sunset Tour" in reply and "enquiry reference" not in reply


def test_price_questions_get_every_price_tier(ada: Chat) -> None:
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    reply = ada.say("is there a kids discount?")  # the list alone showed only adult prices
    assert reply.startswith("Prices per person: Adult $49, Child $29.")
    assert "Reply with the number to hold seats" in reply  # the list stays open
    assert "Sunset Tour takes 2h30." in ada.say("how long is the sunset tour?")


def test_a_range_of_dates_lists_every_departure_in_it(ada: Chat) -> None:
    first, last = day(10), day(12)
    span = (
        f"{first.day}-{last.day} {first:%B}"
        if first.month == last.month
        else (f"{spoken(first)} to {spoken(last)}")
    )
    reply = ada.say(f"sunset tour {span} for 2 adults")
    listed = re.findall(r"^\d\) Sunset Tour, \w{3} (\d+) \w{3}", reply, re.MULTILINE)
    assert [int(d) for d in listed] == [first.day, day(11).day, last.day]


def test_journey_4_full_departure_offers_alternatives_and_the_waitlist(ada: Chat, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        s.commit()
    reply = ada.say(f"city walk on {spoken(day(3))} for 2 people")
    assert (
        "fully booked" in reply
        and "1)" in reply
        and "2) Join the waitlist" in reply
        and "3)" in reply
    )
    joined = ada.say("2")
    assert "Position: #1" in joined
    with factory() as s:
        entry = s.scalar(select(WaitlistEntry))
        assert (entry.seats, entry.booking.status, entry.departure.code) == (
            2,
            "waitlisted",
            "CITY3",
        )


def test_journey_4_with_no_nearby_date_offers_other_dates_and_the_waitlist(
    ada: Chat, factory
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        hold(s, org, "CITY4", "+12025550151", utcnow(), 3)
        s.commit()
    reply = ada.say(f"city walk on {spoken(day(3))} for 2 people")
    assert "fully booked" in reply and "1) See other dates" in reply
    assert "2) Join the waitlist" in reply and "Reply 1 or 2." in reply and "3)" not in reply
    assert "no other dates have room" in ada.say("1")
    assert "Position: #1" in ada.say("2")


def test_a_hold_on_a_departure_starting_soon_is_offered_until_its_start(ada: Chat, factory) -> None:
    # Within short_hold_hours (4) of the start: the hold lasts until the start.
    starts = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    with factory() as s:
        org = s.scalar(select(Organization))
        new_departure(s, org, "CITYSOON", starts, 10, like="CITY3")
        s.commit()
    ada.say(f"city walk on {spoken(starts.astimezone(KTM).date())} for 2 people")
    quote = ada.say("1")
    # Ada's number is American: the time says whose clock it is.
    assert f"hold 2 seats until {starts.astimezone(KTM):%a %-d %b %H:%M} Kathmandu time?" in quote
    assert "24 hours" not in quote
    ada.say("yes")
    with factory() as s:
        assert s.scalar(select(Booking.hold_expires_at)) == starts


def test_journey_4_too_few_seats_for_the_party_is_not_called_fully_booked(
    ada: Chat, factory
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        capacity = s.scalar(select(Departure.capacity).where(Departure.code == "CITY3"))
        hold(s, org, "CITY3", "+12025550152", utcnow(), capacity - 1)
        s.commit()
    reply = ada.say(f"city walk on {spoken(day(3))} for 2 people")
    assert "has only 1 spot left, not enough for 2 adults." in reply
    assert "fully booked" not in reply and "2) Join the waitlist" in reply


def test_journey_4_seats_gone_meanwhile_capture_a_failed_booking_lead(ada: Chat, factory) -> None:
    ada.say(f"city walk on {spoken(day(3))} for 2 people")
    assert "hold 2 seats" in ada.say("1")
    with factory() as s:  # someone else is quicker
        org = s.scalar(select(Organization))
        hold(s, org, "CITY3", "+12025550151", utcnow(), 2)
        s.commit()
    reply = ada.say("yes please")
    assert "just taken" in reply and "1)" in reply and "Join the waitlist" in reply
    with factory() as s:
        failed = s.scalar(select(Lead).where(Lead.source == "booking_failed"))
        assert (failed.reason, failed.priority, failed.departure.code) == (
            "slot_unavailable",
            "high",
            "CITY3",
        )
        assert failed.context["failed_departure"] == "CITY3"
        assert s.scalar(select(Booking).where(Booking.customer.has(phone=ada.phone))) is None
    assert any("HIGH PRIORITY" in m.body for m in ada.outbox())
    alternative = ada.say("1")
    assert "CITY" not in alternative and "hold 2 seats" in alternative  # the next day's walk


def test_journey_5_waitlist_offer_confirm_and_timeout_cascade(
    client: FlaskClient, factory, runtime
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        blocker = hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        bookings.confirm_booking(s, org, blocker, utcnow())
        s.commit()
    first = Chat(client, factory, phone="+12025550161", name="Bo")
    second = Chat(client, factory, phone="+12025550162", name="Cy", whatsapp=False)
    for person in (first, second):
        person.say(f"city walk on {spoken(day(3))} for 1")
        assert "Position" in person.say("2")
    with factory() as s:
        org = s.scalar(select(Organization))
        bookings.cancel_and_free_seats(
            s, org, s.get(Booking, blocker.id), utcnow(), reason="changed plans"
        )
        s.commit()
    offers = [m for m in first.outbox() if m.to_phone == first.phone]
    assert len(offers) == 1 and "CONFIRM" in offers[0].body and offers[0].channel == "whatsapp"
    held = first.say("CONFIRM")
    assert "It's yours" in held and "/pay/BK-" in held
    with factory() as s:
        bo = s.scalar(select(Booking).where(Booking.customer.has(phone=first.phone)))
        assert bo.status == BookingStatus.HELD

    # The second in line is offered the next free seat, does not answer, and the offer lapses.
    with factory() as s:
        org = s.scalar(select(Organization))
        bookings.cancel_and_free_seats(
            s, org, s.get(Booking, bo.id), utcnow(), reason="changed plans"
        )
        s.commit()
    assert any(m.to_phone == second.phone and "CONFIRM" in m.body for m in second.outbox())
    result = jobs.run_sweep(runtime, utcnow() + timedelta(hours=3))
    assert len(result["expired_offers"]) == 1
    with factory() as s:
        cy = s.scalar(select(WaitlistEntry).where(WaitlistEntry.customer.has(phone=second.phone)))
        assert cy.status == "expired" and cy.booking.status == "expired"


def test_journey_5_decline_keeps_the_customer_on_the_list(client: FlaskClient, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        blocker = hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        s.commit()
    bo = Chat(client, factory, phone="+12025550161")
    bo.say(f"city walk on {spoken(day(3))} for 1")
    bo.say("2")
    with factory() as s:
        org = s.scalar(select(Organization))
        bookings.cancel_and_free_seats(s, org, s.get(Booking, blocker.id), utcnow(), reason="x")
        s.commit()
    assert "still on the waitlist" in bo.say("DECLINE")
    with factory() as s:
        assert s.scalar(select(WaitlistEntry.status)) in ("waiting", "offered")


def test_journey_6_handoff_flags_notifies_and_goes_quiet(ada: Chat, factory) -> None:
    ada.say("Hi! I'm interested in the food tour for 2")
    reply = ada.say("I need to talk to someone")
    assert "Sarah Lee" in reply
    assert ada.say("hello? anyone?") == ""
    with factory() as s:
        conv = s.scalar(select(Conversation))
        assert conv.handoff and conv.status == "pending" and conv.unread_count == 3
    assert any(
        "asks for a person" in m.body.lower() and m.to_phone == "+15551230001" for m in ada.outbox()
    )
    assert "unsubscribed" in ada.say("STOP")  # commands still work while a person has it
    ada.say("START")
    assert "I can help you" in ada.say("menu")  # and MENU brings the bot back
    assert "Adventure Treks" in ada.say("hi")


RASA = "http://rasa.test:5005"
LONG_ASK = (
    "hi, we are four, two adults, two kids, from Lisbon, staying in Thamel, first time "
    "in Nepal, flying in on Monday, can someone call me"
)


def rasa_reading(request: object) -> tuple[int, dict[str, str], str]:
    """A Rasa server: the whole message an enquiry with a hint of a person, its last part
    a person asked for, any other part nothing in particular."""
    text = json.loads(request.body)["text"]  # type: ignore[attr-defined]
    if text == LONG_ASK:
        ranking = [("enquire", 0.6), ("human_handoff", 0.3)]
    elif "call me" in text:
        ranking = [("human_handoff", 0.9)]
    else:
        ranking = [("inform", 0.5)]
    intent_ranking = [{"name": n, "confidence": c} for n, c in ranking]
    body = {"text": text, "intent": intent_ranking[0], "entities": []}
    return 200, {}, json.dumps(body | {"intent_ranking": intent_ranking})


def test_a_long_message_is_not_read_part_by_part_for_a_person(
    factory: sessionmaker[Session], pg_url: str
) -> None:
    """Each part read again is a call to Rasa: a message of nine parts costs three of them,
    and its last part asking for a person still hands off."""
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL, config.RASA_URL = AUTH_TOKEN, BASE_URL, RASA
    with factory() as s:
        import_org(s, utcnow(), **live_catalog())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rasa:
        rasa.add_callback(responses.POST, f"{RASA}/model/parse", callback=rasa_reading)
        ada = Chat(create_app(config).test_client(), factory, phone="+12025550101", name="Ada")
        reply = ada.say(LONG_ASK)
        parts = [json.loads(c.request.body)["text"] for c in rasa.calls]
    assert "Sarah Lee" in reply  # handed off
    assert len([p for p in parts if p != LONG_ASK and p in LONG_ASK]) == 3, parts


def test_journey_7_status_cancel_and_reschedule_requests(ada: Chat, factory) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = inventory.hold_seats(
            s,
            org,
            departure(s, org, "EBC100"),
            make_customer(s, org, ada.phone, utcnow(), name="Ada"),
            {"adult": 2},
            utcnow(),
            source="sms",
        )
        s.commit()
    ref = booking.reference
    status = ada.say(f"status of {ref}?")
    assert ref in status and "Everest Base Camp Trek" in status and "2 adults" in status
    assert ref in ada.say(
        "is my booking confirmed?"
    )  # the only active booking, no reference needed
    cancel = ada.say("I need to cancel my booking")
    assert ref in cancel and "nothing to refund" in cancel and "Reply YES" in cancel  # asked first
    moved = ada.say(f"can I change the date of {ref} to next month")
    assert "request" in moved
    with factory() as s:
        events = [
            e.event_type
            for e in s.scalars(select(TimelineEvent).where(TimelineEvent.object_ref == ref))
        ]
        assert "booking.cancel_requested" in events and "booking.reschedule_requested" in events
        assert (
            s.get(Booking, booking.id).status == "held"
        )  # a person decides, nothing automatic yet
    assert (
        sum("request for" in m.body for m in ada.outbox()) == 1
    )  # the reschedule; cancel waits for YES
    assert "couldn't find booking BK-2222Z" in ada.say("cancel BK-2222Z")


def test_a_booking_reference_from_another_number_reveals_and_changes_nothing(
    ada: Chat, factory
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        theirs = hold(s, org, "EBC100", "+12025550150", utcnow(), 2).reference
        s.commit()
    for question in (f"status of {theirs}?", f"cancel {theirs}", f"reschedule {theirs}"):
        reply = ada.say(question)
        assert f"couldn't find booking {theirs} for this number" in reply, question
        assert "Everest" not in reply and "$" not in reply
    assert ada.say("yes") and "cancelled" not in ada.say("yes")
    with factory() as s:
        assert s.scalar(select(Booking.status).where(Booking.reference == theirs)) == "held"
        actors = s.scalars(select(TimelineEvent.actor).where(TimelineEvent.object_ref == theirs))
        assert f"customer:{ada.phone}" not in set(actors)
    assert "write from that one" in ada.say("what's the status of my booking?")


def test_journey_8_fallback_menu_and_reset(ada: Chat, factory) -> None:
    ada.say("sunset tour next week for 2")
    assert "I can help you" in ada.say("asdkjh qwe")
    assert "I can help you" in ada.say("restart")
    with factory() as s:
        conv = s.scalar(select(Conversation))
        assert (conv.state, conv.slots) == ("idle", {})


def test_conversation_survives_a_restart_and_another_process(
    ada: Chat, factory, pg_url: str
) -> None:
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    other_process = Chat(create_app(config).test_client(), factory, phone=ada.phone)
    assert "hold 2 seats" in other_process.say("1")


def test_api_conversations_and_messages(ada: Chat, client: FlaskClient, factory) -> None:
    ada.say("Hi! I'm interested in the food tour")
    with factory() as s:
        token = api_tokens.create_token(s, s.scalar(select(Organization)), utcnow())
        s.commit()
    auth = {"Authorization": f"Bearer {token}"}
    convs = client.get("/api/v1/conversations?phone=%2B12025550101", headers=auth).json["items"]
    assert (
        len(convs) == 1 and convs[0]["channel"] == "whatsapp" and convs[0]["lead"].startswith("LD-")
    )
    assert [m["direction"] for m in convs[0]["messages"]] == ["inbound", "outbound"]
    to_rep = client.get("/api/v1/messages?to=%2B15551230001", headers=auth).json["items"]
    assert len(to_rep) == 1 and to_rep[0]["status"] == "sent" and to_rep[0]["kind"] == "staff"
    since = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get(f"/api/v1/messages?since={since}", headers=auth).json["items"] == []
    assert client.get("/api/v1/messages?since=yesterday", headers=auth).status_code == 400


def test_cancelling_by_chat_states_the_refund_then_cancels_on_yes(ada: Chat, factory) -> None:
    from models import Payment
    from services import checkout, payments, settlement

    with factory() as s:
        org = s.scalar(select(Organization))
        booking = inventory.hold_seats(
            s,
            org,
            departure(s, org, "EBC100"),
            make_customer(s, org, ada.phone, utcnow(), name="Ada"),
            {"adult": 1},
            utcnow(),
            source="whatsapp",
        )
        fake = payments.StripeAccount(None)  # the embedded default's fake checkout
        payment, _ = checkout.start_checkout(s, org, booking, "full", utcnow(), BASE_URL, fake)
        settlement.settle(
            s, org, payment, utcnow(), counts=ratelimit.counter(None), stripe=fake, source="fake"
        )
        s.commit()
        ref, paid = booking.reference, booking.paid_minor
    asked = ada.say(f"please cancel {ref}")
    # 100 days before (early-bird price): the default policy gives everything back.
    assert "$2,280 back (100% of $2,280 paid" in asked and "Reply YES" in asked
    assert "stays" in ada.say("no")
    ada.say(f"cancel {ref}")
    done = ada.say("yes")
    assert f"{ref} is cancelled" in done and "$2,280 is on its way back" in done
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert (booking.status, booking.paid_minor) == ("cancelled", 0)
        assert s.scalar(select(Payment.refunded_minor)) == paid
    assert any("Cancellation (done)" in m.body for m in ada.outbox())


def test_a_system_error_during_a_hold_still_answers_and_captures_a_lead(
    ada: Chat, factory, monkeypatch
) -> None:
    from services import inventory as inventory_service

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database hiccup")

    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    ada.say("1")
    monkeypatch.setattr(inventory_service, "hold_seats", broken)
    reply = ada.say("yes")
    assert "something went wrong" in reply and "Nothing was charged" in reply
    with factory() as s:
        lead = s.scalar(select(Lead).where(Lead.source == "booking_failed"))
        assert (lead.reason, lead.priority) == ("booking_error", "high")
        assert s.scalar(select(Booking).where(Booking.customer.has(phone=ada.phone))) is None


# Guests' needs told in the chat (diet, access, pickup), before the hold or after, reach the
# booking and its manifest: customers write them in passing.


def held_booking_in(factory: sessionmaker[Session], reply: str) -> Booking:
    ref = re.search(r"BK-[A-Z0-9]{5}", reply)
    assert ref, reply
    with factory() as s:
        booking = s.scalars(select(Booking).where(Booking.reference == ref[0])).one()
        s.expunge(booking)
        return booking


def test_needs_told_while_enquiring_are_on_the_booking_the_bot_holds(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("hi im interested in the everest base camp trek")
    ada.say("2 adults and 1 child, my son is vegetarian 🙂")
    ada.say("we stay at hotel yak & yeti, can u pick us up?")
    ada.say(f"around {spoken(day(100))}")
    ada.say("yes")
    ada.say("1")
    booking = held_booking_in(factory, ada.say("yes"))
    assert booking.dietary_notes and "vegetarian" in booking.dietary_notes
    assert booking.pickup_notes and "yak" in booking.pickup_notes.lower()
    # Told after the hold: added to the booking, the earlier needs kept.
    ada.say("oh and my mum uses a wheelchair, is that ok?")
    with factory() as s:
        again = s.get_one(Booking, booking.id)
        assert again.accessibility_notes and "wheelchair" in again.accessibility_notes
        assert again.dietary_notes and "vegetarian" in again.dietary_notes


def test_needs_in_the_booking_request_itself_reach_the_booking(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults. one of us is vegan")
    ada.say("1")
    booking = held_booking_in(factory, ada.say("yes"))
    assert booking.dietary_notes and "vegan" in booking.dietary_notes


def _three_sunsets(ada: Chat) -> str:
    first, last = day(10), day(12)
    span = (
        f"{first.day}-{last.day} {first:%B}"
        if first.month == last.month
        else f"{spoken(first)} to {spoken(last)}"
    )
    reply = ada.say(f"when does the sunset tour go {span}?")
    assert "3) Sunset Tour" in reply
    return reply


def test_a_price_question_during_a_list_is_answered_and_the_list_stays(ada: Chat) -> None:
    _three_sunsets(ada)
    reply = ada.say("how much for the kids?")
    assert reply.startswith("Prices per person: Adult $49, Child $29.")
    assert "1) Sunset Tour" not in reply  # not the list again
    assert "Reply with the number to hold seats" in reply
    assert "How many people" in ada.say("2")  # the list is still the one picked from


def test_a_yes_to_a_list_of_several_asks_which_one_by_date(ada: Chat) -> None:
    _three_sunsets(ada)
    reply = ada.say("ok lets book")
    assert reply.startswith("Happy to book. Which departure: 1) ")
    assert f"3) {day(12):%a} {day(12).day} {day(12):%b}" in reply
    assert "Please reply with a number" not in reply
    assert "How many people" in ada.say("3")


def test_listed_prices_say_the_early_bird_they_count(ada: Chat) -> None:
    assert "1) Everest Base Camp Trek" in ada.say("when does the everest trek go? for 2")
    reply = ada.say("how much for the kids?")  # 100 days ahead: 5% off
    assert reply.startswith(
        "Prices per person, with the early-bird 5% off: Adult $2,280, Child $1,710."
    ), reply


def test_hi_then_a_question_is_one_visit_not_welcome_back(ada: Chat, factory) -> None:
    """'hi', then 'what tours do you have?' a moment later was answered 'Welcome back,
    Ada!'; a day later it is a new visit, and welcome back."""
    assert "Hi Ada!" in ada.say("hi")
    asked = ada.say("what tours do you have?")
    assert "Welcome back" not in asked and "Thank you for your interest" in asked, asked
    # The answer to the question, not only questions back.
    assert (
        "1. Which tour would you like? We run: Everest Base Camp Trek, Old City Walk and "
        "Sunset Tour." in asked
    ), asked
    assert "Welcome back" not in ada.say("hello")
    with factory() as s:
        conv = s.scalar(select(Conversation))
        conv.last_inbound_at = utcnow() - timedelta(days=1)
        s.commit()
    assert "Welcome back, Ada! 👋" in ada.say("hello")


def test_the_reps_alert_for_one_person_says_1_person(ada: Chat) -> None:
    ada.say(f"city walk on {spoken(day(3))} for 1 adult")
    ada.say("1")
    ada.say("yes")
    alerts = [m.body for m in ada.outbox() if "New lead" in m.body]
    assert alerts and all("1 person" in a and "1 people" not in a for a in alerts), alerts
