"""WhatsApp customers tap instead of type: departures as a list picker, a price as quick
replies, a hold's payment as link buttons, a waitlist offer and a cancellation as quick
replies, all made through Twilio's Content API (mocked with responses) by `flask whatsapp
sync` and sent through the REST API; taps posted as Twilio signs them go straight to the
state machine; an old tap never acts on what it showed then; SMS, and WhatsApp when the
buttons cannot be shown, get the numbered words."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import count
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import (
    Booking,
    BookingStatus,
    Conversation,
    Departure,
    Message,
    Organization,
    Payment,
    TimelineEvent,
    WaitlistEntry,
    WhatsAppContent,
    utcnow,
)
from services import (
    bookings,
    checkout,
    jobs,
    outbox,
    payments,
    ratelimit,
    reminders,
    settlement,
    whatsapp_content,
    whatsapp_templates,
)
from services.i18n import customer_voice, voice_for
from services.job_queue import JobQueue
from services.runtime import Runtime
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import hold
from tests.test_conversations import day, live_catalog, spoken

ACCOUNT = "AC" + "7" * 32
MESSAGES_API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CONTENT_API = "https://content.twilio.com/v1/Content"


class FakeTwilio:
    """Twilio's Messages and Content APIs as `responses` callbacks: every request kept."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.contents: list[dict[str, Any]] = []
        self.refuse_content = False
        self.refused: list[dict[str, str]] = []
        self.submitted: dict[str, dict[str, str]] = {}
        # WhatsApp's review by a part of the template's name; anything else approved.
        self.reviews: dict[str, tuple[str, str | None]] = {}
        self.asked: list[str] = []  # the SIDs whose review was read
        self.while_asked: Callable[[], None] = lambda: None  # runs as each review is read
        self._sids = count(1)

    def message(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if self.refuse_content and "ContentSid" in form:
            self.refused.append(form)
            error = {"code": 63005, "message": "Channel did not accept given content"}
            return 400, {}, json.dumps({**error, "status": 400})
        self.sent.append(form)
        return 201, {}, json.dumps({"sid": f"SM{next(self._sids):032x}", "status": "queued"})

    def content(self, request: Any) -> tuple[int, dict[str, str], str]:
        created = json.loads(request.body)
        self.contents.append(created)
        sid = f"HX{len(self.contents):032x}"
        return 201, {}, json.dumps({"sid": sid, **created})

    def submit(self, request: Any) -> tuple[int, dict[str, str], str]:
        sid = request.url.split("/Content/")[1].split("/")[0]
        self.submitted[sid] = json.loads(request.body)
        return 201, {}, json.dumps({**self.submitted[sid], "status": "received"})

    def approval(self, request: Any) -> tuple[int, dict[str, str], str]:
        sid = request.url.split("/Content/")[1].split("/")[0]
        self.asked.append(sid)
        self.while_asked()
        name = self.submitted.get(sid, {}).get("name", "")
        status, reason = next(
            ((st, why) for part, (st, why) in self.reviews.items() if part in name),
            ("approved", None),
        )
        review = {"status": status, "rejection_reason": reason, "category": "UTILITY"}
        return 200, {}, json.dumps({"sid": sid, "whatsapp": review})

    def to(self, phone: str) -> list[dict[str, str]]:
        return [m for m in self.sent if m["To"] == f"whatsapp:{phone}" or m["To"] == phone]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, MESSAGES_API, callback=fake.message)
        mock.add_callback(responses.POST, CONTENT_API, callback=fake.content)
        mock.add_callback(
            responses.POST,
            re.compile(rf"{CONTENT_API}/HX\w+/ApprovalRequests/whatsapp"),
            fake.submit,
        )
        mock.add_callback(
            responses.GET, re.compile(rf"{CONTENT_API}/HX\w+/ApprovalRequests"), fake.approval
        )
        yield fake


def config() -> TestConfig:
    config = TestConfig()
    config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN = ACCOUNT, AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    return config


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    with factory() as s:
        import_org(s, utcnow(), **live_catalog())
    return create_app(config())


@pytest.fixture
def synced(app: Flask, twilio: FakeTwilio) -> FakeTwilio:
    result = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert result.exit_code == 0, result.output
    return twilio


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, phone="+12025550101", name="Ada")


def content_sid(factory: sessionmaker[Session], kind: str, language: str = "en") -> str:
    with factory() as s:
        return s.scalar(
            select(WhatsAppContent.content_sid).where(
                WhatsAppContent.kind == kind, WhatsAppContent.language == language
            )
        )


def last_to(twilio: FakeTwilio, phone: str) -> dict[str, str]:
    return twilio.to(phone)[-1]


def variables(sent: dict[str, str]) -> dict[str, str]:
    return json.loads(sent["ContentVariables"])


# --- the content -----------------------------------------------------------------------


def test_sync_makes_each_kind_in_twilios_shapes_once(app: Flask, twilio: FakeTwilio) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["whatsapp", "sync"])
    assert first.exit_code == 0, first.output
    kinds = whatsapp_content.content_kinds() + [
        whatsapp_templates.kind_of(p) for p in whatsapp_templates.PURPOSES
    ]
    assert f"{len(kinds)} created" in first.output and len(twilio.contents) == len(kinds)
    by_name = {c["friendly_name"]: c for c in twilio.contents}

    picker = by_name["tourbot_departures_3_en"]
    assert picker["language"] == "en"
    assert picker["types"]["twilio/list-picker"] == {
        "body": "{{1}}",
        "button": "See times",
        "items": [
            {"id": "{{2}}", "item": "{{3}}", "description": "{{4}}"},
            {"id": "{{5}}", "item": "{{6}}", "description": "{{7}}"},
            {"id": "{{8}}", "item": "{{9}}", "description": "{{10}}"},
        ],
    }
    assert set(picker["variables"]) == {str(n) for n in range(1, 11)}
    quick = by_name["tourbot_quote_en"]["types"]["twilio/quick-reply"]
    assert quick["actions"] == [
        {"type": "QUICK_REPLY", "title": "Hold seats", "id": "{{2}}"},
        {"type": "QUICK_REPLY", "title": "Change party", "id": "{{3}}"},
        {"type": "QUICK_REPLY", "title": "Other dates", "id": "{{4}}"},
    ]
    pay = by_name["tourbot_pay_en"]["types"]["twilio/call-to-action"]
    assert pay["actions"] == [
        {"type": "URL", "title": "Pay deposit", "url": f"{BASE_URL}/{{{{2}}}}"},
        {"type": "URL", "title": "Pay in full", "url": f"{BASE_URL}/{{{{3}}}}"},
    ]
    assert all(len(a["title"]) <= 20 for c in twilio.contents for a in _actions(c))

    again = runner.invoke(args=["whatsapp", "sync"])
    assert again.exit_code == 0 and "0 created" in again.output
    assert len(twilio.contents) == len(kinds)  # nothing made twice


def _actions(content: dict[str, Any]) -> list[dict[str, str]]:
    ((_, spec),) = content["types"].items()
    return list(spec.get("actions", []))


def test_a_kind_twilio_refuses_is_reported_and_stays_text(
    app: Flask, twilio: FakeTwilio, ada: Chat, factory
) -> None:
    with responses.RequestsMock() as refusing:
        refusing.add(
            responses.POST, CONTENT_API, json={"code": 20001, "message": "bad"}, status=400
        )
        result = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert result.exit_code == 1 and "failed" in result.output
    with factory() as s:
        assert s.scalar(select(func.count(WhatsAppContent.id))) == 0
    reply = ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    assert "Reply with the number" in reply  # the words, in the TwiML, as before


# --- a journey by taps -----------------------------------------------------------------


def test_a_booking_made_by_taps(synced: FakeTwilio, ada: Chat, factory) -> None:
    assert ada.say(f"sunset tour from {spoken(day(2))} to {spoken(day(4))} for 2 adults") == ""
    listed = last_to(synced, ada.phone)
    assert listed["From"] == "whatsapp:+14155238886"
    assert listed["ContentSid"] == content_sid(factory, "departures_3")
    rows = variables(listed)
    assert rows["1"].startswith("Sunset Tour for 2 adults:")
    codes = [f"SUN{day(n):%m%d}" for n in (2, 3, 4)]
    assert [rows["2"], rows["5"], rows["8"]] == [f"tb1:dep:{c}" for c in codes]
    # Ada's number is American: whose clock it is, beside the row's day and time.
    assert rows["4"] == "17:30 Kathmandu time · 20 spots left · $98"
    assert rows["3"] == f"{day(2):%a %-d %b} 17:30"
    assert ada.shown[0].choices[0].title == rows["3"]

    assert ada.tap(2) == ""  # the second row
    quoted = variables(last_to(synced, ada.phone))
    assert last_to(synced, ada.phone)["ContentSid"] == content_sid(factory, "quote")
    assert "$49 × 2 = $98" in quoted["1"] and "Reply YES" not in quoted["1"]
    assert quoted["2"] == f"tb1:hold:{codes[1]}/adult2"

    ada.tap("tb1:hold:" + codes[1] + "/adult2")  # "Hold seats"
    with factory() as s:
        booking = s.scalar(select(Booking))
        assert (booking.status, booking.departure.code, booking.seats) == ("held", codes[1], 2)
    paying = last_to(synced, ada.phone)
    assert paying["ContentSid"] == content_sid(factory, "pay")
    pay = variables(paying)
    link = payments.pay_url(booking, BASE_URL).removeprefix(f"{BASE_URL}/")
    assert pay["2"] == f"{link}?pay=deposit" and pay["3"] == f"{link}?pay=full"
    assert booking.reference in pay["1"] and "Deposit $29.40 or pay in full $98." in pay["1"]
    # The log keeps the words, as a reply to the tap, sent once.
    with factory() as s:
        tap = s.scalar(
            select(Message).where(Message.direction == "inbound").order_by(Message.id.desc())
        )
        assert tap.body == "Hold seats"
        sent = s.scalars(select(Message).where(Message.reply_to_id == tap.id)).all()
        assert [m.status for m in sent] == ["sent"] and "Payment link:" in sent[0].body

    # Each pay button opens the page with its choice first, ready to press; opening it
    # (or a link preview fetching it) pays nothing.
    for button, kind, other in ((pay["2"], "deposit", "full"), (pay["3"], "full", "deposit")):
        page = ada.client.get(f"/{button}").text
        buttons = re.findall(r'<button name="kind" value="(\w+)"([^>]*)>', page)
        assert buttons == [(kind, ' class="chosen" autofocus'), (other, "")], buttons
    plain = ada.client.get(f"/{link}?pay=everything").text
    assert 'class="chosen"' not in plain and '<button name="kind" value="deposit">' in plain
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_days_list_of_several_tours_names_the_tour_in_each_row(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    """ "what do you have on <day>?": rows of different tours would all read "Sat 12 Dec ...";
    each row's title is its tour, its description the day and time, room and price."""
    assert ada.say(f"what do you have {spoken(day(3))}? 2 of us") == ""
    rows = variables(last_to(synced, ada.phone))
    assert last_to(synced, ada.phone)["ContentSid"] == content_sid(factory, "departures_2")
    assert [rows["3"], rows["6"]] == ["Old City Walk", "Sunset Tour"]
    when = f"{day(3):%a %-d %b}"
    assert rows["4"] == f"{when} 09:00 · 09:00 Kathmandu time · 3 spots left · $50"
    assert rows["7"] == f"{when} 17:30 · 17:30 Kathmandu time · 20 spots left · $98"
    assert ada.tap(2) == ""
    quoted = variables(last_to(synced, ada.phone))
    assert "Sunset Tour" in quoted["1"] and "$49 × 2 = $98" in quoted["1"]


def test_sms_gets_the_numbered_words(synced: FakeTwilio, client: FlaskClient, factory) -> None:
    cy = Chat(client, factory, phone="+12025550162", whatsapp=False)
    reply = cy.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    assert "1) Sunset Tour" in reply and "Reply with the number" in reply
    assert "Shall I hold 2 seats" in cy.say("1") and "Done!" in cy.say("yes")
    assert not [m for m in synced.to(cy.phone) if "ContentSid" in m]


def test_typed_answers_keep_working_with_buttons_shown(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    assert ada.say("1") == ""
    assert "ContentSid" in last_to(synced, ada.phone)
    ada.say("yes please")
    with factory() as s:
        assert s.scalar(select(Booking.status)) == BookingStatus.HELD


def test_change_party_and_other_dates_buttons(synced: FakeTwilio, ada: Chat, factory) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    assert "How many people?" in ada.tap(2)  # "Change party": words, in the TwiML
    ada.say("3 adults")
    requote = variables(last_to(synced, ada.phone))
    assert "$49 × 3 = $147" in requote["1"] and requote["2"].endswith("/adult3")
    ada.tap(3)  # "Other dates"
    others = variables(last_to(synced, ada.phone))
    assert others["1"].startswith("Other dates with room:")
    assert requote["2"].split(":")[2].split("/")[0] not in {others["2"], others["5"], others["8"]}


def test_the_words_go_when_whatsapp_refuses_the_buttons(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    synced.refuse_content = True
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    words = last_to(synced, ada.phone)
    assert "ContentSid" not in words and "1) Sunset Tour" in words["Body"]
    assert [m["ContentSid"] for m in synced.refused] == [content_sid(factory, "departures_1")]
    with factory() as s:
        row = s.scalar(select(Message).where(Message.kind == "reply").order_by(Message.id.desc()))
        assert (row.status, row.template_sid, row.attempts) == ("sent", None, 2)


def test_a_repeated_webhook_sends_the_buttons_once(
    synced: FakeTwilio, ada: Chat, client: FlaskClient
) -> None:
    from cli.chat import post_inbound

    form = ada.form(f"sunset tour on {spoken(day(2))} for 2 adults")
    assert post_inbound(client, form, AUTH_TOKEN, BASE_URL) == (200, [])
    before = len(synced.to(ada.phone))
    assert post_inbound(client, form, AUTH_TOKEN, BASE_URL) == (200, [])
    assert len(synced.to(ada.phone)) == before == 1


def test_the_chat_simulator_shows_every_reply_of_a_turn_with_a_list(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    """A turn with rows sends all its replies through the outbox; `flask chat --whatsapp`
    showed only the rows, not the answer before them (found chatting: the question seemed
    unanswered)."""
    from cli.chat import shown_since

    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults. how long is it?")
    with factory() as s:
        shown = shown_since(s, 0, words=True)
    assert shown[0].body.startswith("Sunset Tour takes"), shown
    assert shown[-1].choices and "Sunset Tour for 2 adults" in shown[-1].body


# --- old taps --------------------------------------------------------------------------


def test_an_old_hold_button_never_holds_another_quote(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    old_hold = variables(last_to(synced, ada.phone))["2"]
    ada.say("make it 4 adults")  # a new quote replaces it
    assert ada.tap_payload(old_hold, "Hold seats") == ""
    said, requoted = synced.to(ada.phone)[-2:]  # in order, through the outbox
    assert "That price is no longer open" in said["Body"]
    assert "$49 × 4 = $196" in variables(requoted)["1"]
    with factory() as s:
        assert s.scalar(select(func.count(Booking.id))) == 0


def test_tapping_hold_twice_holds_once(synced: FakeTwilio, ada: Chat, factory) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    hold_button = variables(last_to(synced, ada.phone))["2"]
    ada.tap_payload(hold_button, "Hold seats")
    again = ada.tap_payload(hold_button, "Hold seats")
    assert "You already have BK-" in again
    with factory() as s:  # paid meanwhile: the old button still makes no second booking
        org = s.scalar(select(Organization))
        bookings.confirm_booking(s, org, s.scalar(select(Booking)), utcnow())
        s.commit()
    paid = ada.tap_payload(hold_button, "Hold seats")
    assert ": confirmed – Sunset Tour" in paid
    with factory() as s:
        assert s.scalar(select(func.count(Booking.id))) == 1


def test_a_departure_tapped_after_it_filled_up_is_not_quoted(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    ada.say(f"city walk on {spoken(day(3))} for 2 people")
    with factory() as s:
        org = s.scalar(select(Organization))
        hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        s.commit()
    assert ada.tap_payload("tb1:dep:CITY3", "Thu 09:00", list_row=True) == ""
    full = last_to(synced, ada.phone)
    assert full["ContentSid"] == content_sid(factory, "full")
    assert "fully booked" in variables(full)["1"]
    assert variables(full)["3"] == "tb1:wait:CITY3"
    ada.tap(2)  # "Join waitlist"
    with factory() as s:
        entry = s.scalar(select(WaitlistEntry))
        assert (entry.departure.code, entry.seats) == ("CITY3", 2)


def test_a_cancelled_departure_tapped_is_said_to_be_gone(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    with factory() as s:
        s.get(
            Departure, s.scalar(select(Departure.id).where(Departure.code == "CITY4"))
        ).status = "cancelled"
        s.commit()
    reply = ada.tap_payload("tb1:dep:CITY4", "Fri 09:00", list_row=True)
    assert "no longer available" in reply
    with factory() as s:
        assert s.scalar(select(func.count(Booking.id))) == 0


def test_waitlist_offer_buttons_and_an_expired_one(
    synced: FakeTwilio, client: FlaskClient, factory
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        blocker = hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        bookings.confirm_booking(s, org, blocker, utcnow())
        s.commit()
    bo = Chat(client, factory, phone="+12025550161", name="Bo")
    bo.say(f"city walk on {spoken(day(3))} for 1")
    bo.tap(2)  # Join waitlist
    with factory() as s:
        org = s.scalar(select(Organization))
        bookings.cancel_and_free_seats(s, org, s.get(Booking, blocker.id), utcnow(), reason="x")
        outbox.commit_and_send(s, JobQueue.of(Runtime(config(), factory)))
        entry = s.scalar(select(WaitlistEntry))
    offer = last_to(synced, bo.phone)
    assert offer["ContentSid"] == content_sid(factory, "offer")
    assert variables(offer)["2"] == f"tb1:confirm:{entry.id}"
    assert (
        "Reply CONFIRM" not in variables(offer)["1"] and "A spot opened up" in variables(offer)["1"]
    )

    with factory() as s:  # the offer lapses before Bo taps
        s.get(WaitlistEntry, entry.id).offer_expires_at = utcnow() - timedelta(minutes=1)
        s.commit()
    reply = bo.tap_payload(f"tb1:confirm:{entry.id}", "Confirm")
    assert "expired" in reply
    with factory() as s:
        assert s.get(WaitlistEntry, entry.id).booking.status == "waitlisted"

    with factory() as s:  # open again: Confirm holds it
        s.get(WaitlistEntry, entry.id).offer_expires_at = utcnow() + timedelta(hours=1)
        s.commit()
    assert bo.tap_payload(f"tb1:confirm:{entry.id}", "Confirm") == ""
    assert last_to(synced, bo.phone)["ContentSid"] in (
        content_sid(factory, "pay"),
        content_sid(factory, "pay_full"),
    )
    with factory() as s:
        assert s.get(WaitlistEntry, entry.id).booking.status == "held"


def test_cancel_buttons_act_only_while_asked(synced: FakeTwilio, ada: Chat, factory) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    ada.say("yes")
    with factory() as s:
        ref = s.scalar(select(Booking.reference))
    ada.say(f"cancel {ref}")
    asked = last_to(synced, ada.phone)
    assert asked["ContentSid"] == content_sid(factory, "cancel")
    assert variables(asked)["2"] == f"tb1:cancel:{ref}"
    ada.say(f"sunset tour on {spoken(day(5))} for 2 adults")  # the question is left behind
    reply = ada.tap_payload(f"tb1:cancel:{ref}", "Yes, cancel")
    assert "Nothing was changed" in reply
    with factory() as s:
        assert s.scalar(select(Booking.status)) == "held"
    ada.say(f"cancel {ref}")
    ada.tap(1)  # "Yes, cancel", while asked
    with factory() as s:
        assert s.scalar(select(Booking.status)) == "cancelled"
    again = ada.tap_payload(f"tb1:cancel:{ref}", "Yes, cancel")
    assert f"{ref} is cancelled; nothing was changed." in again


def test_a_tap_on_a_button_that_is_not_ours_is_read_as_its_words(
    synced: FakeTwilio, ada: Chat
) -> None:
    assert "Which tour would you like?" in ada.tap_payload("promo-2026", "Check availability")


# --- templates per purpose and language; the two-way reminder ----------------------------


def test_templates_are_submitted_for_approval_and_their_review_kept(
    app: Flask, twilio: FakeTwilio, factory
) -> None:
    twilio.reviews = {
        "hold_expiring": ("pending", None),
        "balance_due": ("rejected", "INVALID_FORMAT"),
    }
    result = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert result.exit_code == 0, result.output
    by_name = {c["friendly_name"]: c for c in twilio.contents}
    reminder = by_name["tourbot_pre_departure_en"]["types"]["twilio/quick-reply"]
    assert reminder["body"] == (
        "Hi {{1}}, your {{2}} starts {{3}} ({{4}}). Meeting point: {{5}}. Will you be there?"
    )
    assert [a["title"] for a in reminder["actions"]] == [
        "I'll be there",
        "I need to change",
        "Cancel booking",
    ]
    balance = by_name["tourbot_balance_due_en"]["types"]["twilio/text"]["body"]
    assert not balance.startswith("{{") and not balance.endswith("}}")  # WhatsApp's rule
    assert {v["category"] for v in twilio.submitted.values()} == {"UTILITY"}
    assert len(twilio.submitted) == len(whatsapp_templates.PURPOSES)
    assert "template template_hold_expiring/en: pending" in result.output
    assert "template template_balance_due/en: rejected (INVALID_FORMAT)" in result.output

    twilio.reviews = {}  # reviewed meanwhile
    again = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert "template template_hold_expiring/en: approved" in again.output
    assert len(twilio.submitted) == len(whatsapp_templates.PURPOSES)  # not submitted twice
    with factory() as s:
        statuses = set(
            s.scalars(
                select(WhatsAppContent.approval_status).where(
                    WhatsAppContent.kind.like("template_%")
                )
            )
        )
    assert statuses == {"approved"}


def _confirmed_booking(ada: Chat, factory) -> str:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.say("1")
    ada.say("yes")
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking))
        bookings.confirm_booking(s, org, booking, utcnow())
        # Booked a while ago: a reminder due when a booking is confirmed is not sent.
        booking.confirmed_at = utcnow() - timedelta(days=10)
        s.commit()
        return booking.reference


def _remind(factory, last_inbound_hours_ago: float) -> None:
    with factory() as s:
        conv = s.scalar(select(Conversation))
        conv.last_inbound_at = utcnow() - timedelta(hours=last_inbound_hours_ago)
        s.commit()
        reminders.send_due_reminders(s, utcnow(), BASE_URL)
        outbox.commit_and_send(s, JobQueue.of(Runtime(config(), factory)))


def test_the_reminder_outside_the_window_uses_its_approved_template_and_taps_answer_it(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    ref = _confirmed_booking(ada, factory)
    _remind(factory, last_inbound_hours_ago=30)
    template = content_sid(factory, "template_pre_departure")
    reminder = next(m for m in synced.to(ada.phone) if m.get("ContentSid") == template)
    filled = variables(reminder)
    assert (filled["1"], filled["2"], filled["4"]) == ("Ada", "Sunset Tour", ref)
    assert filled["6"] == f"tb1:coming:{ref}" and filled["8"] == f"tb1:cancelask:{ref}"

    assert "see you on" in ada.tap_payload(f"tb1:coming:{ref}", "I'll be there")
    with factory() as s:
        events = list(s.scalars(select(TimelineEvent.event_type)))
    assert "booking.attendance_confirmed" in events
    changed = ada.tap_payload(f"tb1:change:{ref}", "I need to change")
    assert "change of date request" in changed
    assert any("Change of date" in m.body for m in ada.outbox())  # the rep is told
    assert ada.tap_payload(f"tb1:cancelask:{ref}", "Cancel booking") == ""  # with its buttons
    asked = variables(last_to(synced, ada.phone))
    assert f"Cancel {ref}" in asked["1"] and asked["2"] == f"tb1:cancel:{ref}"
    with factory() as s:
        assert s.scalar(select(Booking.status)) == "confirmed"  # nothing cancelled yet


def test_the_reminder_waits_for_staff_while_its_template_is_not_approved(
    app: Flask, twilio: FakeTwilio, ada: Chat, factory
) -> None:
    twilio.reviews = {"pre_departure": ("pending", None)}
    app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    _confirmed_booking(ada, factory)
    _remind(factory, last_inbound_hours_ago=30)
    with factory() as s:
        reminder = s.scalar(
            select(Message).where(Message.kind == "notification", Message.body.like("Hi! Your%"))
        )
        assert (reminder.status, reminder.template_sid) == ("needs_template", None)


def test_the_reminder_inside_the_window_has_its_buttons_whatever_the_review(
    app: Flask, twilio: FakeTwilio, ada: Chat, factory
) -> None:
    twilio.reviews = {"pre_departure": ("pending", None)}
    app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    ref = _confirmed_booking(ada, factory)
    _remind(factory, last_inbound_hours_ago=1)
    template = content_sid(factory, "template_pre_departure")
    sent = next(m for m in twilio.to(ada.phone) if m.get("ContentSid") == template)
    assert variables(sent)["7"] == f"tb1:change:{ref}"


def test_every_button_and_list_title_fits_whatsapp_in_every_language() -> None:
    """WhatsApp cuts a button's title at 20 characters: translations must fit too."""
    for language in ("en", "pt", "es", "fr", "de"):
        voice = voice_for("Asia/Kathmandu", [language], language=language)
        made = [
            whatsapp_content.definition(kind, language, voice, BASE_URL)
            for kind in whatsapp_content.content_kinds()
        ] + [
            whatsapp_templates.definition(purpose, language, voice)
            for purpose in whatsapp_templates.PURPOSES
        ]
        for content in made:
            ((_, spec),) = content["types"].items()
            titles = [a["title"] for a in spec.get("actions", [])] + [spec.get("button", "")]
            too_long = [t for t in titles if len(t) > whatsapp_content.BUTTON_TITLE_LIMIT]
            assert not too_long, (content["friendly_name"], too_long)


def test_the_sweep_refreshes_reviews_still_pending_every_15_minutes(
    app: Flask, twilio: FakeTwilio, factory
) -> None:
    """Without anyone running `flask whatsapp sync` again, a template approved meanwhile is
    recorded as approved within 15 minutes, one rejected with its reason; one already
    decided is not asked about again, nor one asked about less than 15 minutes ago."""
    twilio.reviews = {"hold_expiring": ("pending", None), "day_of": ("received", None)}
    assert app.test_cli_runner().invoke(args=["whatsapp", "sync"]).exit_code == 0
    runtime = Runtime(config(), factory)

    def asked() -> int:
        return len(twilio.asked)

    def reviews() -> dict[str, tuple[str | None, str | None]]:
        with factory() as s:
            rows = s.scalars(select(WhatsAppContent).where(WhatsAppContent.kind.like("template_%")))
            return {f"{c.kind}/{c.language}": (c.approval_status, c.approval_reason) for c in rows}

    under_review = {k: v for k, v in reviews().items() if v[0] != "approved"}
    assert under_review["template_hold_expiring/en"] == ("pending", None)
    assert under_review["template_day_of/en"] == ("received", None)
    twilio.reviews = {"day_of": ("rejected", "INVALID_FORMAT")}  # WhatsApp decided meanwhile
    before = asked()

    jobs.run_sweep(runtime)  # the sync asked a moment ago: not again yet
    assert asked() == before
    assert reviews()["template_hold_expiring/en"] == ("pending", None)

    with factory() as s:  # 16 minutes later
        for content in s.scalars(select(WhatsAppContent)):
            if content.approval_checked_at:
                content.approval_checked_at -= timedelta(minutes=16)
        s.commit()
    jobs.run_sweep(runtime)
    assert asked() == before + len(under_review)  # only those under review
    after = reviews()
    assert {after[k] for k in under_review if "hold_expiring" in k} == {("approved", None)}
    assert {after[k] for k in under_review if "day_of" in k} == {("rejected", "INVALID_FORMAT")}


def test_a_review_refresh_asks_twilio_outside_any_transaction_and_overlaps_harmlessly(
    app: Flask, twilio: FakeTwilio, factory: sessionmaker[Session], engine: Engine
) -> None:
    """Up to 50 requests of up to 10 s each: no transaction (and no connection out of the
    pool) is held meanwhile, and a second run starting while the first asks leaves the
    templates the first claimed alone (each is asked once)."""
    twilio.reviews = {"tourbot_": ("pending", None)}  # every template
    assert app.test_cli_runner().invoke(args=["whatsapp", "sync"]).exit_code == 0
    with factory() as s:
        for content in s.scalars(select(WhatsAppContent)):
            if content.approval_checked_at:
                content.approval_checked_at -= timedelta(minutes=16)
        s.commit()
        under_review = s.scalars(
            select(WhatsAppContent.content_sid).where(WhatsAppContent.approval_status == "pending")
        ).all()
    assert under_review
    runtime = Runtime(config(), factory)
    twilio.reviews, twilio.asked = {}, []  # approved meanwhile
    in_transaction: list[int] = []
    overlapping: list[list[str]] = []

    def while_asked() -> None:
        with engine.connect() as conn:
            in_transaction.append(
                conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND state LIKE 'idle in transaction%'"
                    )
                )
            )
        if not overlapping:  # a second run while the first waits on Twilio
            overlapping.append(whatsapp_templates.refresh_reviews_job(runtime))

    twilio.while_asked = while_asked
    changed = whatsapp_templates.refresh_reviews_job(runtime)
    assert in_transaction == [0] * len(under_review)
    assert overlapping == [[]]  # the second run found everything claimed
    assert sorted(twilio.asked) == sorted(under_review)  # each asked once
    assert len(changed) == len(under_review)
    with factory() as s:
        statuses = s.scalars(
            select(WhatsAppContent.approval_status).where(
                WhatsAppContent.content_sid.in_(under_review)
            )
        ).all()
    assert set(statuses) == {"approved"}


# The reminder's "Will you be there?" answered by typing, as many customers do, in each
# language; "ja wir kommen!" read to the NLU as cancelling, "oui on sera là" as a yes to a
# hold long paid, "yes we'll be there" as nothing at all.
REMINDER_ANSWERS = {
    "en": ("+447911123456", "hi", "yes we'll be there"),
    "pt": ("+351912345678", "olá, bom dia", "sim, lá estaremos 🙂"),
    "es": ("+34612345678", "hola, buenos días", "Sí, allí estaremos. ¡Gracias!"),
    "fr": ("+33612345678", "bonjour", "oui on sera là 👍"),
    "de": ("+4915112345678", "hallo, guten Tag", "ja wir kommen!"),
}


@pytest.mark.parametrize("language", list(REMINDER_ANSWERS))
def test_a_typed_yes_to_the_reminder_is_i_will_be_there_in_every_language(
    synced: FakeTwilio, client: FlaskClient, factory, language: str
) -> None:
    phone, hello, yes = REMINDER_ANSWERS[language]
    with factory() as s:
        org = s.scalar(select(Organization))
        org.settings_json = {**org.settings_json, "languages": ["en", "pt", "es", "fr", "de"]}
        s.commit()
    customer = Chat(client, factory, phone=phone, name="Sam")
    customer.say(hello)
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = hold(s, org, "CITY3", phone, utcnow(), 2, source="whatsapp")
        bookings.confirm_booking(s, org, booking, utcnow() - timedelta(days=10))
        conv = s.scalar(select(Conversation))
        # As after a hold in the chat, paid since: the conversation still says "held".
        conv.state, conv.slots = "held", {"booking": booking.reference}
        ref, voice = booking.reference, customer_voice(org, booking.customer)
        assert voice.language == language
        seen = voice._(
            "Great, see you on {when}! Reply here if anything changes.",
            when=voice.when(booking.departure.starts_at),
        )
        s.commit()
    _remind(factory, last_inbound_hours_ago=1)

    assert customer.say(yes) == seen
    with factory() as s:
        assert s.scalar(select(Booking.status).where(Booking.reference == ref)) == "confirmed"
        assert "booking.attendance_confirmed" in s.scalars(select(TimelineEvent.event_type))
        assert s.scalar(select(Conversation.state)) == "idle"
    # Said again, it no longer answers the reminder (their message came after it).
    assert customer.say(yes) != seen


def test_ok_after_paying_a_hold_is_where_the_booking_stands_not_no_seats_on_hold(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    ada.tap(1)  # Hold seats
    fake = payments.StripeAccount(None)
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking))
        payment, _ = checkout.start_checkout(s, org, booking, "full", utcnow(), BASE_URL, fake)
        settlement.settle(
            s, org, payment, utcnow(), stripe=fake, counts=ratelimit.counter(None), source="fake"
        )
        ref = booking.reference
        s.commit()
    reply = ada.say("ok 👍")
    assert "no seats on hold" not in reply
    assert reply == f"{ref} is paid in full ($98). Nothing more to pay.", reply


def test_a_tap_while_a_person_has_the_conversation_is_answered_and_changes_nothing(
    synced: FakeTwilio, ada: Chat, factory
) -> None:
    """A voice note mid-quote goes to a person (the bot stays quiet); the quote's Hold
    button tapped after it held nothing and got no answer at all."""
    ada.say(f"sunset tour on {spoken(day(2))} for 2 adults")
    ada.tap(1)
    assert ada.shown[-1].choices[0].title == "Hold seats"
    form = ada.form("")
    form.update(
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="audio/ogg",
    )
    assert "can't open" in ada._post(form)
    reply = ada.tap(1)  # Hold seats, on the quote before the voice note
    assert reply == (
        "A person from our team is looking after this conversation and will reply here; "
        "nothing was changed. (Reply MENU to talk to me again.)"
    ), reply
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0
        assert s.scalar(select(Conversation.state)) == "handoff"
    assert ada.say("yes please") == ""  # typed words still wait for the person
