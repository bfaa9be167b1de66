"""Complaints, urgency, the dangerous yes, handoffs with context and files (issue 17, 7 and
8), through the signed webhook against the demo catalog: an urgent task for the rep and
ops with the booking and the customer's words, the customer told who answers and when,
nothing cancelled or refunded by the bot until a person has answered, and a pending "reply
YES to cancel" that lapses on anything but a clear yes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from bot.concerns import Urgency, concern
from config import TestConfig
from models import (
    Booking,
    BookingStatus,
    Conversation,
    Departure,
    Organization,
    StaffUser,
    Task,
    TaskPriority,
    Tour,
    utcnow,
)
from services import checkout, inbox, inventory, ratelimit, settlement
from services.demo import load_demo
from services.payments import StripeAccount
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.factories import make_customer

SARAH, OPS, OWNER = "+15551230001", "+15551230002", "+15551230000"
PHONE = "+447911123456"
FAKE = StripeAccount(None)


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    with factory() as s:
        load_demo(s, utcnow())
        s.commit()
    return create_app(config)


@pytest.fixture
def chat(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone=PHONE, name="Tom")


def paid_booking(factory: sessionmaker[Session], *, starts_in: timedelta) -> str:
    """A confirmed, fully paid sunset tour booking for Tom, starting `starts_in` from now."""
    now = utcnow()
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        tour = s.scalars(select(Tour).where(Tour.slug == "sunset-tour")).one()
        dep = Departure(
            organization_id=org.id,
            tour_id=tour.id,
            code="SUNTEST",
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=2),
            capacity=20,
        )
        s.add(dep)
        customer = make_customer(s, org, PHONE, now, name="Tom")
        then = min(now, dep.starts_at) - timedelta(days=1)
        booking = inventory.hold_seats(s, org, dep, customer, {"adult": 2}, then, source="whatsapp")
        payment, _ = checkout.start_checkout(s, org, booking, "full", then, BASE_URL, FAKE)
        settlement.settle(
            s,
            org,
            payment,
            then,
            counts=ratelimit.counter(None),
            stripe=FAKE,
            source=payment.provider,
        )
        s.commit()
        return booking.reference


def tasks_of(factory: sessionmaker[Session]) -> list[Task]:
    with factory() as s:
        return list(s.scalars(select(Task).order_by(Task.id)))


def status_of(factory: sessionmaker[Session], reference: str) -> str:
    with factory() as s:
        return s.scalars(select(Booking.status).where(Booking.reference == reference)).one()


def staff_texts(chat: Chat, since: int = 0) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in chat.outbox(since):
        if m.kind == "staff":
            out.setdefault(m.to_phone, []).append(m.body)
    return out


def test_the_issue_s_instructor_no_show_is_an_urgent_handoff_and_nothing_is_cancelled(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(minutes=-20))
    reply = chat.say(
        "The instructor did not come!! We waited 30 min. I want to cancel and get a refund"
    )
    assert "Reply YES" not in reply and "Under our policy" not in reply  # no cancel offer
    assert "within 15 minutes" in reply  # when
    assert "I've told Priya Thapa" in reply  # who: the demo's ops person, by name
    [task] = tasks_of(factory)
    assert task.priority == TaskPriority.URGENT and task.kind == "complaint"
    texts = staff_texts(chat)
    assert set(texts) >= {OPS}  # ops, and the rep or the owner
    alert = texts[OPS][0]
    assert ref in alert and "Sunset Tour" in alert and "2 adults" in alert
    assert "Tom" in alert and PHONE in alert
    assert "\u201cThe instructor did not come!!" in alert  # the customer's words, quoted
    # The issue's dangerous yes: nothing cancels the paid booking.
    chat.say("yes a manager. now.")
    assert status_of(factory, ref) == BookingStatus.CONFIRMED


def test_after_menu_a_complaint_still_blocks_cancelling_until_a_person_answers(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    chat.say("this is unacceptable, the booking page charged me twice")
    chat.say("MENU")
    reply = chat.say(f"cancel {ref}")
    assert "Nothing has been cancelled" in reply and "Reply YES" not in reply
    chat.say("yes")
    assert status_of(factory, ref) == BookingStatus.CONFIRMED
    # A person answers in the inbox: from then on the customer may cancel again.
    with factory() as s:
        conv = s.scalars(select(Conversation)).one()
        org = s.scalars(select(Organization)).one()
        staff = s.scalars(select(StaffUser).where(StaffUser.phone == SARAH)).one()
        inbox.reply(s, org, conv, staff, "Sorry Tom, we are refunding the double charge", utcnow())
        s.commit()
    chat.say("MENU")
    assert "Reply YES to cancel" in chat.say(f"cancel {ref}")


@pytest.mark.parametrize(
    "words",
    [
        "my son fell and hurt his leg on the steps, we need help",
        "there has been an accident with the jeep",
    ],
)
def test_injury_or_safety_tells_the_customer_to_call_emergency_services_and_pages_ops(
    chat: Chat, factory: sessionmaker[Session], words: str
) -> None:
    paid_booking(factory, starts_in=timedelta(minutes=-30))
    reply = chat.say(words)
    assert "emergency" in reply
    assert OPS in staff_texts(chat)
    assert tasks_of(factory)[0].priority == TaskPriority.URGENT


@pytest.mark.parametrize(
    "words",
    [
        "we've been waiting 40 minutes at the boat station and nobody came",
        "where is our guide??",
        "the driver never showed up",
    ],
)
def test_a_guide_or_driver_who_did_not_come_is_urgent(
    chat: Chat, factory: sessionmaker[Session], words: str
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(minutes=-15))
    reply = chat.say(words)
    assert "within 15 minutes" in reply
    assert any(ref in body for body in staff_texts(chat)[OPS])


def test_anger_without_a_booking_still_reaches_a_person_with_the_words(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    reply = chat.say("WORST SERVICE EVER!!! nobody answers my emails")
    assert "reply to you here" in reply
    [task] = tasks_of(factory)
    assert "nobody answers my emails" in task.details


@pytest.mark.parametrize(
    "words",
    [
        "what if someone gets hurt?",
        "is it safe for kids?",
        "what happens if the guide doesn't show up?",
    ],
)
def test_a_question_about_safety_is_not_an_emergency(words: str) -> None:
    assert concern(words) is None


def test_concerns_are_read_by_meaning() -> None:
    assert concern("the instructor didn't show up")
    assert concern("I want my money back").urgency == Urgency.REFUND  # type: ignore[union-attr]
    assert concern("we're stuck at the pickup point, no one here").urgency == Urgency.NO_SHOW  # type: ignore[union-attr]
    assert concern("thanks, best tour ever") is None


def test_a_pending_cancellation_lapses_on_anything_but_a_clear_yes(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    assert "Reply YES to cancel" in chat.say(f"I need to cancel {ref}")
    reply = chat.say("yes but can we move it to next week instead?")
    assert f"I haven't cancelled {ref}" in reply
    chat.say("yes")  # the earlier question is gone: this yes confirms nothing
    assert status_of(factory, ref) == BookingStatus.CONFIRMED


def test_a_clear_yes_still_cancels(chat: Chat, factory: sessionmaker[Session]) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    assert "Reply YES to cancel" in chat.say(f"cancel {ref} please")
    assert "is cancelled" in chat.say("Yes, cancel it")
    assert status_of(factory, ref) == BookingStatus.CANCELLED


def test_asking_for_a_person_carries_the_context(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    chat.say("hi, question about my booking")
    chat.say("I need to talk to someone")
    [alert] = [b for bodies in staff_texts(chat).values() for b in bodies]
    assert ref in alert and "Sunset Tour" in alert and "2 adults" in alert
    assert "question about my booking" in alert  # the last messages, not just the last one


def test_a_voice_note_is_acknowledged_honestly_and_a_person_gets_the_link(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    from cli.chat import post_inbound

    chat = Chat(client, factory, phone=PHONE, name="Tom")
    form = chat.form("")
    form.update(
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="audio/ogg",
    )
    form["MessageSid"] = "MM" + form["MessageSid"][2:]
    status, replies = post_inbound(client, form, AUTH_TOKEN, BASE_URL)
    assert status == 200
    reply = "\n".join(replies)
    assert "can't open" in reply and "reply to you here" in reply
    [task] = tasks_of(factory)
    assert task.kind == "media"
    texts = [b for bodies in staff_texts(chat).values() for b in bodies]
    with factory() as s:
        conv_id = s.scalar(select(Conversation.id))
    # The conversation in the admin inbox (where the file is shown and played), never
    # Twilio's address, which needs the account's credentials.
    assert any(f"Open in the inbox: {BASE_URL}/admin/inbox/{conv_id}" in t for t in texts)
    assert not any("api.twilio.com" in t for t in texts)
    assert "api.twilio.com" not in task.details


def test_a_cancellation_alert_names_the_booking_tour_date_party_and_payments(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    chat.say("hello")
    chat.say(f"please cancel {ref}")
    chat.say("yes")
    texts = [b for bodies in staff_texts(chat).values() for b in bodies]
    [alert] = [t for t in texts if "Cancellation" in t]
    assert "Sunset Tour" in alert and "2 adults" in alert and PHONE in alert
    assert "(cancelled" in alert and "\n" not in alert
    assert "\u201cplease cancel" in alert  # the earlier message, quoted


def test_a_new_lead_alert_says_what_the_enquiry_is_about(chat: Chat) -> None:
    chat.say("Hi! I'm interested in the Everest Base Camp Trek for 3 people")
    texts = [b for bodies in staff_texts(chat).values() for b in bodies]
    [alert] = [t for t in texts if t.startswith("New lead")]
    assert "Everest Base Camp Trek" in alert.split("·")[-1] and "3 people" in alert


def test_words_with_a_photo_are_about_the_photo_a_person_gets_it(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    from cli.chat import post_inbound

    chat = Chat(client, factory, phone=PHONE, name="Tom")
    form = chat.form("is this the right place?")
    form.update(NumMedia="1", MediaUrl0="https://api.twilio.com/x/Media/ME2")
    form["MessageSid"] = "MM" + form["MessageSid"][2:]
    _, replies = post_inbound(client, form, AUTH_TOKEN, BASE_URL)
    reply = "\n".join(replies)
    assert "can't open" in reply and "I can help you" not in reply  # not the menu
    assert [t.kind for t in tasks_of(factory)] == ["media"]


@pytest.mark.parametrize(
    ("words", "content_type"),
    [
        ("here is my passport copy for the trek permit", "application/pdf"),
        ("hi! here you go 🙂", "image/jpeg"),
        ("thanks, this is the receipt from the bank", "image/png"),
    ],
)
def test_words_that_only_describe_a_file_get_no_tour_card_or_greeting(
    client: FlaskClient, factory: sessionmaker[Session], words: str, content_type: str
) -> None:
    from cli.chat import post_inbound

    chat = Chat(client, factory, phone=PHONE, name="Tom")
    form = chat.form(words)
    form.update(
        NumMedia="1", MediaUrl0="https://api.twilio.com/x/Media/ME3", MediaContentType0=content_type
    )
    form["MessageSid"] = "MM" + form["MessageSid"][2:]
    _, replies = post_inbound(client, form, AUTH_TOKEN, BASE_URL)
    reply = "\n".join(replies)
    assert "can't open" in reply, reply
    assert "Prices per person" not in reply and "This is" not in reply, reply
    assert [t.kind for t in tasks_of(factory)] == ["media"]


def test_writing_again_before_anyone_answered_an_urgent_message_is_acknowledged(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    paid_booking(factory, starts_in=timedelta(minutes=-20))
    chat.say("the guide never came, we are still waiting at the boat station")
    again = chat.say("hello??? anyone?")
    assert "will reply here within 15 minutes" in again
    assert len(tasks_of(factory)) == 1  # not a second alert


def test_a_complaint_and_a_question_get_the_apology_and_the_answer(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    reply = chat.say(
        "I got charged TWICE for my deposit, not happy. also do I need travel insurance?"
    )
    assert "sorry" in reply.lower() and "helicopter rescue" in reply
    assert tasks_of(factory)[0].kind == "complaint"


def test_a_person_asked_for_mid_quote_gets_an_enquiry_reference_and_a_rep(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    chat.say("sunset tour saturday for 2 adults")
    reply = chat.say("can I talk to a real person please")
    assert "Sarah Lee" in reply or "Ben Carter" in reply  # the rep, by name
    [alert] = [b for bodies in staff_texts(chat).values() for b in bodies]
    assert "LD-" in alert and "Sunset Tour" in alert and "2 people" in alert


def _sms(client: FlaskClient, factory: sessionmaker[Session], text: str, **extra: str) -> str:
    from cli.chat import post_inbound

    chat = Chat(client, factory, phone=PHONE, name="Tom", whatsapp=False)
    form = chat.form(text)
    form.update(extra)
    status, replies = post_inbound(client, form, AUTH_TOKEN, BASE_URL)
    assert status == 200
    return "\n".join(replies)


def opted_out(factory: sessionmaker[Session]) -> bool:
    from models import Customer

    with factory() as s:
        return s.scalars(select(Customer.opted_out).where(Customer.phone == PHONE)).one()


@pytest.mark.parametrize("extra", [{}, {"OptOutType": "STOP"}])
def test_cancel_by_sms_opts_out_at_twilio_so_a_person_is_asked_to_call_and_nothing_is_cancelled(
    client: FlaskClient, factory: sessionmaker[Session], extra: dict[str, str]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=5))
    # Twilio's default opt-out word: it has blocked our texts, so no reply can reach them.
    assert _sms(client, factory, "CANCEL", **extra) == ""
    assert opted_out(factory)
    assert status_of(factory, ref) == BookingStatus.CONFIRMED
    [task] = tasks_of(factory)
    assert task.priority == TaskPriority.URGENT and task.kind == "opt_out"
    assert ref in task.title and "call" in task.title and "Nothing was cancelled" in task.title
    texts = [b for bodies in staff_texts(Chat(client, factory)).values() for b in bodies]
    assert any(ref in t and "URGENT" in t for t in texts), texts


def test_stop_by_sms_or_cancel_without_a_booking_opt_out_without_a_task(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    assert _sms(client, factory, "cancel") == ""
    assert opted_out(factory) and not tasks_of(factory)


def test_cancel_on_whatsapp_from_someone_with_a_booking_asks_about_the_booking(
    chat: Chat, factory: sessionmaker[Session]
) -> None:
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    chat.say("hi")  # (a first message of one word not in any list is read as French)
    reply = chat.say("CANCEL")
    assert ref in reply and "Reply YES" in reply, reply  # the refund stated, nothing done
    assert not opted_out(factory)
    assert status_of(factory, ref) == BookingStatus.CONFIRMED


def test_with_advanced_opt_out_twilio_s_opt_out_type_decides(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    from extensions import app_config

    app_config(client.application).TWILIO_ADVANCED_OPT_OUT = True
    ref = paid_booking(factory, starts_in=timedelta(days=10))
    _sms(client, factory, "hello")
    # CANCEL dropped from the Messaging Service's opt-out words: it is about the booking.
    reply = _sms(client, factory, "Cancel")
    assert ref in reply and "Reply YES" in reply, reply
    assert not opted_out(factory)
    # Its own opt-out word, in whatever language: Twilio says STOP.
    assert _sms(client, factory, "PARAR", OptOutType="STOP") == ""
    assert opted_out(factory)


@pytest.mark.parametrize(
    "words",
    [
        # Found by review: read as the cancellation policy asked, not a refund demanded.
        "will you refund us if you cant run the tour? we paid and you cancelled",
        "Is the refund coming? if you don't pay me back today I will dispute the charge",
        "can we get our money back if they cancel the trek? we already paid",
    ],
)
def test_a_refund_demanded_beside_a_condition_is_still_urgent(words: str) -> None:
    assert concern(words).urgency == Urgency.REFUND  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "words",
    ["can i get my money back if i cancel", "will I get a refund if my wife gets sick?"],
)
def test_money_back_if_we_cancel_is_the_policy_asked(words: str) -> None:
    assert concern(words) is None
