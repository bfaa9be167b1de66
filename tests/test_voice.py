"""Every customer-facing sentence goes through Voice and the message catalogs: the committed
catalogs have every sentence the code says, and conversations in another language (a
pseudo-translation of every sentence, tests/pseudo_locale.py) get no English sentence, in
their replies or in the notifications sent to them."""

from __future__ import annotations

import ast
import html
import re
import string
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from cli import messages
from config import TestConfig
from models import Booking, Guide, Incident, Organization, StaffUser, Tour, utcnow
from services import (
    approvals,
    availability,
    bookings,
    cancellations,
    checkout,
    i18n,
    incidents,
    inventory,
    leads,
    operations,
    payments,
    ratelimit,
    reminders,
    sales,
    settlement,
)
from tests import pseudo_locale
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import departure, hold, make_customer
from tests.test_conversations import day, live_catalog, spoken

LANGUAGE = "de"


def test_the_committed_catalogs_have_every_sentence_the_code_says() -> None:
    assert messages.stale() == [], "run make messages and commit translations/"


def test_every_placeholder_is_named() -> None:
    """A translator moves "{when}" where their language puts it; "{}" or "{0}" cannot move."""
    with messages.TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    unnamed = [
        form
        for message in template
        if message.id
        for form in (message.id if isinstance(message.id, tuple) else [message.id])
        for _, field, _, _ in string.Formatter().parse(form)
        if field is not None and not field.isidentifier()
    ]
    assert unnamed == []


# --- what is said to a customer is built from the catalog --------------------------------

ROOT = Path(__file__).resolve().parent.parent
# Everything the bot says to customers (guides are staff: bot/guides.py answers them).
CUSTOMER_CODE = [p for p in sorted((ROOT / "bot").glob("*.py")) if p.name != "guides.py"]
CUSTOMER_CODE += sorted((ROOT / "services").glob("*.py")) + sorted((ROOT / "pages").glob("*.py"))
# English formatting of times, money and statuses: staff's, never a customer's.
ENGLISH_FORMATS = {"local_time", "format_money", "status_label"}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _english(node: ast.expr) -> list[ast.AST]:
    """The parts of an expression that put English in front of a customer: a string with
    words in it, or an English time or amount, anywhere but the msgid of a Voice._/n_."""
    found: list[ast.AST] = []

    def walk(child: ast.AST) -> None:
        if isinstance(child, ast.Call) and _name(child.func) in {"_", "n_"}:
            for keyword in child.keywords:  # the msgids are the catalog's; the values not
                walk(keyword.value)
            return
        if isinstance(child, ast.Call) and _name(child.func) in ENGLISH_FORMATS:
            found.append(child)
        if isinstance(child, ast.Constant):
            if isinstance(child.value, str) and any(ch.isalpha() for ch in child.value):
                found.append(child)
            return
        if isinstance(child, ast.JoinedStr):
            literal = "".join(v.value for v in child.values if isinstance(v, ast.Constant))
            if any(ch.isalpha() for ch in literal):
                found.append(child)
                return
        for grandchild in ast.iter_child_nodes(child):
            walk(grandchild)

    walk(node)
    return found


def _said(call: ast.Call) -> ast.expr | None:
    """What a call says to a customer: turn.say(text), notify.to_customer(s, o, c, body)."""
    name = _name(call.func)
    if name == "say" and call.args:
        return call.args[0]
    if name == "to_customer":
        body = [k.value for k in call.keywords if k.arg == "body"]
        return body[0] if body else (call.args[3] if len(call.args) > 3 else None)
    return None


def test_replies_and_notifications_are_built_from_the_catalog() -> None:
    """turn.say and notify.to_customer take sentences from Voice: no English literal,
    f-string or English-formatted time or amount in what they are given (the journeys
    below check the sentences built elsewhere and passed in)."""
    found = []
    for path in CUSTOMER_CODE:
        for call in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(call, ast.Call) and (said := _said(call)) is not None:
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:60]}"
                    for node in _english(said)
                ]
    assert found == []


def test_the_english_check_catches_what_it_should() -> None:
    def check(source: str) -> int:
        return len(_english(_said(ast.parse(source).body[0].value)))  # type: ignore[attr-defined]

    assert check('turn.say(f"Held until {when}")') == 1
    assert check('turn.say("Sorry, " + reason)') == 1
    assert check('turn.say(voice._("Held until {when}", when=local_time(org, at)))') == 1
    assert check('notify.to_customer(s, org, c, "\\n".join([a, "Reply YES"]), now)') == 1
    assert check('turn.say(voice._("Held until {when}", when=voice.when(at)) + "\\n" + m)') == 0
    assert check('turn.say(f"{i}. {question}")') == 0


# --- conversations in a language whose every sentence is marked --------------------------


@pytest.fixture
def pseudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[frozenset[str]]:
    """The pseudo-translation installed as the organization's language; yields the English
    words no reply may contain."""
    catalog = pseudo_locale.write_catalog(tmp_path, LANGUAGE)
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    i18n.translations.cache_clear()
    data = live_catalog()
    own_words = [data["organization"]["name"], "Ada", "Bo"]
    own_words += [s["name"] for s in data["staff"]]
    own_words += [t["name"] for t in data["tours"]] + [
        t.get("meeting_point", "") for t in data["tours"]
    ]
    yield pseudo_locale.english_words(catalog, own_words)
    i18n.translations.cache_clear()


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session], pseudo: frozenset[str]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["languages"] = [LANGUAGE]
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config)


class Spoken(Chat):
    """A customer whose every reply, and every notification to them, is checked."""

    english: frozenset[str] = frozenset()

    def say(self, text: str) -> str:
        reply = super().say(text)
        problems = pseudo_locale.unspoken(reply, self.english)
        assert not problems, f"{text!r} was answered {reply!r}: {problems}"
        return reply

    def notified(self) -> list[str]:
        bodies = [m.body for m in self.outbox() if m.to_phone == self.phone]
        for body in bodies:
            problems = pseudo_locale.unspoken(body, self.english)
            assert not problems, f"notification {body!r}: {problems}"
        return bodies


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session], pseudo: frozenset[str]) -> Spoken:
    chat = Spoken(client, factory, phone="+12025550101", name="Ada")
    chat.english = pseudo
    return chat


def marked(reply: str) -> bool:
    return pseudo_locale.OPEN in reply


def test_the_checks_catch_english(pseudo: frozenset[str]) -> None:
    """The two ways English slips through, caught (so the journeys below can fail)."""
    voice = i18n.Voice(LANGUAGE)
    assert pseudo_locale.unspoken(voice._("Reply MENU for anything else."), pseudo) == []
    assert pseudo_locale.unspoken("Reply MENU for anything else.", pseudo)
    inside = voice._(
        "Shall I hold {n} seat {period}? Reply YES to hold.", n=2, period="for 24 hours"
    )
    assert pseudo_locale.unspoken(inside, pseudo) == ["English words: ['hours']"]


def test_enquiry_search_quote_hold_status_and_payment_link(ada: Spoken) -> None:
    assert marked(ada.say("hi"))
    assert marked(ada.say("Hi! I'm interested in the Everest Base Camp Trek"))
    ada.say("2 adults and 1 child, vegetarian")
    ada.say("no")
    ada.say(f"around {spoken(day(100))}")
    ada.say("yes")
    ada.say(f"sunset tour on {spoken(day(6))}")
    ada.say("is there a kids discount?")
    ada.say("1")
    ada.say("2 adults 2 kids")
    held = ada.say("yes")
    ref = re.search(r"BK-[A-Z0-9]{5}", held).group(0)
    ada.say(f"status of {ref}?")
    ada.say("how do I pay?")
    ada.say("how long is the sunset tour?")
    ada.say("can I change the date of my booking to next month")
    ada.say("which tours do you have?")
    ada.say("thanks")
    ada.say("bye")


def test_full_departures_the_waitlist_and_its_offer(
    ada: Spoken, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        blocker = hold(s, org, "CITY3", "+12025550150", utcnow(), 3)
        s.commit()
    ada.say(f"city walk on {spoken(day(3))} for 2 people")
    ada.say("2")
    with factory() as s:
        org = s.scalar(select(Organization))
        hold(s, org, "CITY4", "+12025550151", utcnow(), 3)
        s.commit()
    ada.say(f"city walk on {spoken(day(3))} for 1")
    ada.say("1")  # no other dates with room
    ada.say("3")
    with factory() as s:
        org = s.scalar(select(Organization))
        bookings.cancel_and_free_seats(s, org, s.get(Booking, blocker.id), utcnow(), reason="x")
        s.commit()
    [offer] = ada.notified()
    assert marked(offer)
    assert marked(ada.say("CONFIRM"))


def test_cancelling_with_a_refund_handoff_and_keywords(
    ada: Spoken, factory: sessionmaker[Session]
) -> None:
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
            s, org, payment, utcnow(), stripe=fake, counts=ratelimit.counter(None), source="fake"
        )
        s.commit()
        ref = booking.reference
    assert len(ada.notified()) == 1  # the payment's confirmation
    ada.say(f"please cancel {ref}")
    ada.say("no")
    ada.say(f"cancel {ref}")
    assert marked(ada.say("yes"))
    ada.say("cancel BK-2222Z")
    ada.say("what's the status of my booking?")
    ada.say("asdkjh qwe")
    ada.say("HELP")
    ada.say(f"sunset tour on {spoken(day(6))} for 200 people")
    ada.say("I need to talk to someone")
    ada.say("STOP")
    ada.say("START")
    ada.say("menu")


def test_replies_to_an_english_customer_carry_no_marks(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """The organization offers English too and Ada's language is English: the fallback
    language is not forced on her."""
    with factory() as s:
        org = s.scalar(select(Organization))
        org.settings_json = {**org.settings_json, "languages": [LANGUAGE, "en"]}
        make_customer(s, org, "+12025550101", utcnow(), name="Ada").language = "en"
        s.commit()
    reply = Chat(client, factory, phone="+12025550101", name="Ada").say("hi")
    assert "I can help you" in reply and not marked(reply)


def test_every_notification_to_a_customer_is_spoken(
    ada: Spoken, factory: sessionmaker[Session]
) -> None:
    """Each service that tells a customer something, in turn; then every message queued to
    Ada is checked."""
    now = utcnow()
    fake, counts = payments.StripeAccount(None), ratelimit.counter(None)
    with factory() as s:
        org = s.scalar(select(Organization))
        ada_customer = make_customer(s, org, ada.phone, now, name="Ada")
        staff = s.scalar(select(StaffUser).where(StaffUser.phone.is_not(None)))
        guide = s.scalar(select(Guide))

        def held(code: str, **party: int) -> Booking:
            return inventory.hold_seats(
                s, org, departure(s, org, code), ada_customer, party, now, source="whatsapp"
            )

        # Paid in part: the confirmation (with its balance), a resend, then the reminders of
        # the departure, of the balance (due a day before: still ahead), and of a hold about
        # to lapse.
        # Ada holds many bookings here: the caps on unpaid holds are not what is tested.
        org.settings_json = {
            **org.settings_json,
            "balance_due_days": 1,
            "unpaid_holds_per_customer": 50,
            "unpaid_seats_per_customer": 999,
        }
        city = held("CITY3", adult=1)
        payment, _ = checkout.start_checkout(s, org, city, "deposit", now, BASE_URL, fake)
        settlement.settle(s, org, payment, now, stripe=fake, counts=counts, source="fake")
        # Booked a while ago: a reminder due when a booking is confirmed is not sent.
        city.confirmed_at = now - timedelta(days=10)
        payments.resend_confirmation(s, org, city, now, base_url=BASE_URL)
        lapsing = held("CITY4", adult=1)
        payments.resend_confirmation(s, org, lapsing, now, base_url=BASE_URL)
        later = lapsing.hold_expires_at - timedelta(hours=1)
        assert sum(reminders.send_due_reminders(s, later, BASE_URL).values()) == 3
        # A payment refused, and one that came after its seats were gone.
        failing, _ = checkout.start_checkout(s, org, lapsing, "full", now, BASE_URL, fake)
        settlement._failed(s, org, failing, {}, now, counts)
        settlement._lost_seats(s, org, lapsing, now, counts)

        # The owner approves one hold and declines another; a third times out.
        for approve in (True, False, None):
            booking = held("EBC100", adult=1)
            approvals.request_approval(s, org, booking, now, secret="x" * 32, base_url=BASE_URL)
            if approve is None:
                approvals.tell_timed_out(s, org, booking, now)
            else:
                approvals.decide(
                    s, org, booking, approve, now, base_url=BASE_URL, nonce=booking.approval_nonce
                )

        # A rep's quote and hold, from the admin.
        lead = leads.create_lead(s, org, ada_customer, now, source="whatsapp")
        sunset = availability.search(
            s, org, now, tour=s.scalar(select(Tour).where(Tour.slug == "sunset-tour")), limit=2
        )
        sales.send_quote(s, org, lead, sunset[0].departure, {"adult": 2}, now, staff=staff)
        sales.hold_for_lead(
            s, org, lead, sunset[1].departure, {"adult": 1}, now, staff=staff, base_url=BASE_URL
        )

        # The trip: the guide checks in, ops pass on an incident, the guide checks out.
        trip = city.departure
        trip.guide_id = guide.id
        started = trip.starts_at - timedelta(minutes=5)
        operations.check_in(s, org, guide, trip, started)
        incidents.report_issue(s, org, guide, trip, "the bus is late", started)
        incident = s.scalar(select(Incident))
        incidents.ops_update(
            s, org, incident, "bus delayed, new ETA 10:30", started, tell_customers=True
        )
        operations.check_out(s, org, guide, trip, "all good", started + timedelta(hours=3))

        # A whole departure cancelled: a paid booking and an unpaid one.
        paid = held("EBC100", adult=1)
        payment, _ = checkout.start_checkout(s, org, paid, "full", now, BASE_URL, fake)
        settlement.settle(s, org, payment, now, stripe=fake, counts=counts, source="fake")
        held("EBC100", child=1)
        cancellations.cancel_departure(s, org, paid.departure, "heavy snow", now, stripe=fake)
        s.commit()
    told = ada.notified()
    assert len(told) >= 20 and all(marked(body) for body in told)


def _page_text(page: bytes) -> str:
    """What a person reads on a page: its title and body text, without markup or styles."""
    markup = re.sub(r"(?s)<style.*?</style>", " ", page.decode())
    return html.unescape(re.sub(r"<[^>]+>", "\n", markup))


def test_the_pay_pages_speak_the_customers_language(
    ada: Spoken, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = hold(s, org, "CITY3", ada.phone, utcnow(), 2)
        s.commit()
        link = urlparse(payments.pay_url(booking, BASE_URL)).path
    pages = [client.get(link)]
    assert b'lang="de"' in pages[0].data
    started = client.post(link, data={"kind": "deposit"})
    fake = started.headers["Location"]
    pages += [client.get(fake), client.post(fake), client.post(fake), client.get(f"{link}/done")]
    pages.append(client.post(link, data={"kind": "deposit"}))  # nothing left to pay as deposit
    for page in pages:
        # A page shows values on their own (the tour, the date): its words are checked.
        text = _page_text(page.data)
        assert pseudo_locale.OPEN in text, page.request.path
        assert pseudo_locale.english_in(text, ada.english) == [], (page.request.path, text)
