"""Simulated people: customers chatting by SMS and WhatsApp through the signed webhook,
guides texting from the trail, and a sales rep answering from the admin over HTTP."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from models import UNSENT_MESSAGE_STATUSES, Message, MessageStatus, PendingInbound
from soak.standins import Sent, StripeStandIn, TwilioStandIn

SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"
REF = re.compile(r"\bBK-[0-9A-Z]{5}\b")


@dataclass
class Window:
    """The customers' webhook requests that started within a stretch of time."""

    latencies: list[float] = field(default_factory=list)
    failed: int = 0


@dataclass
class Metrics:
    latencies: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # monotonic start of each, in order
    failures: list[float] = field(default_factory=list)  # starts of requests not answered 200
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    journeys: Counter[str] = field(default_factory=Counter)
    sent_sids: dict[str, list[str]] = field(default_factory=dict)  # sid -> first TwiML
    # sid -> how many replies its turn had when the sender read them (TwiML and REST).
    turn_replies: dict[str, int] = field(default_factory=dict)
    # Turns answered through the REST API: when the message was posted (monotonic), and
    # seconds from then to the stand-in accepting its first reply, and its last.
    reply_times: list[tuple[float, float, float]] = field(default_factory=list)
    duplicate_mismatches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str) -> None:
        with self.lock:
            self.journeys[kind] += 1

    def between(self, start: float, end: float) -> Window:
        with self.lock:
            pairs = list(zip(self.started, self.latencies, strict=True))
            failed = sum(1 for at in self.failures if start <= at < end)
        return Window([lat for at, lat in pairs if start <= at < end], failed)


@dataclass
class World:
    app_url: str
    auth_token: str
    stripe: StripeStandIn
    metrics: Metrics
    stop: threading.Event
    days: list[date]
    twilio: TwilioStandIn
    # The soak's database: whether a message's turn is over, and which replies it sent.
    sessions: sessionmaker[Session]
    duplicate_rate: float = 0.05

    @property
    def webhook(self) -> str:
        return f"{self.app_url}/webhooks/twilio/messages"


def post_inbound(
    world: World,
    from_addr: str,
    to_addr: str,
    text: str,
    sid: str | None = None,
    extra: dict[str, str] | None = None,
) -> list[str] | None:
    form = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": from_addr,
        "To": to_addr,
        "Body": text,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
        **(extra or {}),
    }
    signature = RequestValidator(world.auth_token).compute_signature(world.webhook, form)
    start = time.perf_counter()
    began = time.monotonic()
    response = None
    for attempt in range(2):
        try:
            response = requests.post(
                world.webhook, data=form, headers={"X-Twilio-Signature": signature}, timeout=20
            )
            break
        except requests.RequestException as exc:
            # A web process killed mid-request: Twilio delivers the same MessageSid again.
            with world.metrics.lock:
                world.metrics.errors[f"{type(exc).__name__} on delivery {attempt + 1}"] += 1
            time.sleep(1)
    if response is None:
        with world.metrics.lock:
            world.metrics.failures.append(began)
        return None
    elapsed = time.perf_counter() - start
    with world.metrics.lock:
        world.metrics.latencies.append(elapsed)
        world.metrics.started.append(began)
        world.metrics.statuses[response.status_code] += 1
        if response.status_code != 200:
            world.metrics.failures.append(began)
    if response.status_code != 200:
        return None
    replies = [m.text or "" for m in ElementTree.fromstring(response.text).iter("Message")]
    with world.metrics.lock:
        world.metrics.sent_sids.setdefault(form["MessageSid"], replies)
    if random.random() < world.duplicate_rate:  # Twilio retrying the same delivery
        again = post_inbound(world, from_addr, to_addr, text, form["MessageSid"], extra)
        if again is not None and again != replies:
            with world.metrics.lock:
                world.metrics.duplicate_mismatches += 1
    return replies


# Seconds a person waits for a turn's replies: long enough to outlast the Redis fault (the
# sweep enqueues the answers its 30 s left pending) and Twilio's 45 s of failing.
REPLY_WAIT = 120.0


def turn_replies(world: World, sid: str) -> list[str | None] | None:
    """None while the turn of inbound message `sid` is not over; then its replies to the
    sender, in the order said: each one's Twilio SID, None for one in the TwiML or not
    sent (opted out, refused). Over: answered (no PendingInbound left: a worker's answer
    deletes it with the turn's commit) and every reply handed to Twilio or given up."""
    with world.sessions() as s:
        inbound = s.execute(
            select(Message.id, Message.from_phone).where(
                Message.provider_sid == sid, Message.direction == "inbound"
            )
        ).first()
        if inbound is None or s.get(PendingInbound, inbound.id) is not None:
            return None
        rows = s.execute(
            select(Message.status, Message.provider_sid)
            .where(Message.reply_to_id == inbound.id, Message.to_phone == inbound.from_phone)
            .order_by(Message.id)
        ).all()
    if any(r.status in UNSENT_MESSAGE_STATUSES for r in rows):
        return None
    return [None if r.status == MessageStatus.REPLY else r.provider_sid for r in rows]


def converse(
    world: World,
    from_addr: str,
    to_addr: str,
    text: str,
    extra: dict[str, str] | None = None,
    wait: float = REPLY_WAIT,
) -> list[Sent | str] | None:
    """Posts a message as Twilio does and waits for its turn to be over: what the sender
    is sent, the TwiML's words first, then each message through the REST API as the
    Twilio stand-in accepted it. None if the webhook did not take it; what came if the
    turn is not over within `wait` seconds (counted)."""
    sid = "SM" + uuid.uuid4().hex
    posted, began = time.time(), time.monotonic()
    twiml = post_inbound(world, from_addr, to_addr, text, sid, extra)
    if twiml is None:
        return None
    deadline = time.monotonic() + wait
    while (sids := turn_replies(world, sid)) is None:
        if time.monotonic() > deadline:
            world.metrics.note(f"turn not over within {wait:.0f} s")
            return list(twiml)
        time.sleep(0.2)
    sent = [world.twilio.by_sid[s] for s in sids if s and s in world.twilio.by_sid]
    with world.metrics.lock:
        world.metrics.turn_replies[sid] = len(sids)
        if sent:
            last = max(m.at for m in sent)
            world.metrics.reply_times.append((began, sent[0].at - posted, last - posted))
    if len(sent) != sum(1 for s in sids if s):
        world.metrics.note("reply recorded as sent but never accepted by Twilio")
    return [*twiml, *sent]


@dataclass
class Customer:
    """One customer. Replies come in the webhook's TwiML or, when workers answer
    (production's default) and whenever a turn has rows or buttons, through the REST API:
    the customer reads them from the Twilio stand-in once the turn is over, and on
    WhatsApp can tap the rows and buttons (a tap posted as Twilio posts one)."""

    world: World
    phone: str
    whatsapp: bool
    choices: list[tuple[str, str]] = field(default_factory=list)  # (payload or link, title)
    content_type: str = ""  # of the last message with choices
    last_tap: tuple[str, str, str] | None = None  # (payload, title, content type)

    @property
    def address(self) -> str:
        return f"whatsapp:{self.phone}" if self.whatsapp else self.phone

    def say(self, text: str, tap: dict[str, str] | None = None, wait: float = REPLY_WAIT) -> str:
        to = f"whatsapp:{WHATSAPP_NUMBER}" if self.whatsapp else SMS_NUMBER
        replies = converse(self.world, self.address, to, text, tap, wait)
        self.choices, self.content_type = [], ""
        if replies is None:
            return ""
        lines = []
        for reply in replies:
            if isinstance(reply, str):
                lines.append(reply)
                continue
            body, choices, kind = self.world.twilio.content_words(reply)
            lines.append(body)
            if choices:
                self.choices, self.content_type = choices, kind
                self.world.metrics.note(f"WhatsApp {kind.removeprefix('twilio/')} received")
                lines += [f"[{n}] {t} -> {value}" for n, (value, t) in enumerate(choices, 1)]
        return "\n".join(lines)

    def offers(self, action: str) -> bool:
        return any(value.startswith(f"tb1:{action}:") for value, _ in self.choices)

    def tap(self, action: str) -> str:
        """Taps a row or button whose payload is tb1:<action>:... (any one of a list's)."""
        value, title = random.choice([c for c in self.choices if c[0].startswith(f"tb1:{action}:")])
        self.last_tap = (value, title, self.content_type)
        self.world.metrics.note(f"tap {action}")
        return self._tap(value, title, self.content_type)

    def tap_again(self) -> str:
        """The last button tapped, tapped again (on the old message, as people do)."""
        assert self.last_tap is not None
        self.world.metrics.note("tap again (stale)")
        return self._tap(*self.last_tap)

    def _tap(self, value: str, title: str, kind: str) -> str:
        # As Twilio posts them: the title as Body; a list row's id as ListId, a quick
        # reply's payload as ButtonPayload.
        if kind == "twilio/list-picker":
            fields = {"ListId": value, "ListTitle": title}
        else:
            fields = {"ButtonPayload": value, "ButtonText": title}
        return self.say(title, tap=fields)

    def pause(self) -> None:
        time.sleep(random.uniform(0.2, 1.5))  # people take a moment to read and type


def spoken(day: date) -> str:
    return f"{day.day} {day:%B}"


def book_and_pay(c: Customer, tour: str = "sunset tour", adults: int = 2) -> str | None:
    day = random.choice(c.world.days)
    return hold_and_pay(c, c.say(f"{tour} on {spoken(day)}, {adults} adults"), adults)


def hold_and_pay(c: Customer, offered: str, adults: int) -> str | None:
    """From the bot's answer to a request: picks a departure (taps a row, or the nearest
    date to a full one, or types 1), sometimes changes the party first, holds (taps Hold
    seats, or types yes) and pays by the link, as most do. On WhatsApp some tap the Hold
    button again afterwards."""
    quote = offered
    if c.offers("near"):  # the date asked is full: its nearest one
        c.pause()
        quote = c.tap("near")
    elif c.offers("dep"):
        c.pause()
        quote = c.tap("dep")
    elif "1)" in offered:
        c.pause()
        quote = c.say("1")
    if c.offers("party") and random.random() < 0.15:
        c.pause()
        c.tap("party")
        c.pause()
        adults += 1
        quote = c.say(f"{adults} adults")
    if not c.offers("hold") and "YES" not in quote and "hold" not in quote.lower():
        c.world.metrics.note("no quote")
        return None
    c.pause()
    held = c.tap("hold") if c.offers("hold") else c.say("yes")
    ref = REF.search(held)
    if not ref or "/pay/" not in held:
        c.world.metrics.note("hold failed (seats gone)")
        return None
    c.world.metrics.note("held")
    if c.last_tap and c.last_tap[0].startswith("tb1:hold:") and random.random() < 0.2:
        c.pause()
        again = c.tap_again()  # must not hold a second time
        c.world.metrics.note(
            "stale Hold answered with the same booking"
            if ref[0] in again
            else "stale Hold answered otherwise"
        )
    if random.random() < 0.15:
        c.world.metrics.note("left to lapse")
        return ref[0]
    pay(c.world, held)
    return ref[0]


PAY_LINK = re.compile(r"/pay/BK-[A-Z0-9]+/[\w-]+")


def pay(world: World, message: str) -> None:
    """Pays by the link in the message, as the customer would."""
    link = PAY_LINK.search(message)
    if not link:
        world.metrics.note("no pay link in the message")
        return
    session = requests.Session()
    try:
        session.get(f"{world.app_url}{link[0]}", timeout=20)
        response = session.post(
            f"{world.app_url}{link[0]}",
            data={"kind": "deposit"},
            allow_redirects=False,
            timeout=20,
        )
    except requests.RequestException:
        world.metrics.note("payment page error")
        return
    location = response.headers.get("Location", "")
    match = re.search(r"/pay/(cs_test_\w+)", location)
    if response.status_code != 303 or not match:
        world.metrics.note(f"checkout not started ({response.status_code})")
        return
    world.stripe.pay(match[1])
    world.metrics.note("paid")


def customer_journey(world: World, n: int) -> None:
    c = Customer(world, f"+1202{8000000 + n:07d}", whatsapp=n % 2 == 0)
    kind = random.choices(
        ["book", "book_cancel", "waitlist", "enquiry", "handoff", "status"],
        [35, 10, 20, 15, 10, 10],
    )[0]
    world.metrics.note(f"journey: {kind}")
    if kind == "enquiry":
        c.say("Hi! I'm interested in the sunset tour for 3 people next month")
        c.pause()
        c.say("thanks!")
    elif kind == "handoff":
        c.say("Hello, can I talk to someone about a private group?")
        c.pause()
        c.say("we are 14 people")  # a person answers, when they can
    elif kind == "waitlist":
        day = random.choice(world.days[:3])
        reply = c.say(f"city walk on {spoken(day)} for 3 people")
        if c.offers("wait") or "waitlist" in reply.lower():
            c.pause()
            joined = c.tap("wait") if c.offers("wait") else c.say("2")
            if "Position" in joined:
                world.metrics.note("joined waitlist")
        else:
            hold_and_pay(c, reply, 3)
    elif kind in ("book", "book_cancel", "status"):
        ref = book_and_pay(c)
        if ref and kind == "status":
            c.pause()
            c.say("what's the status of my booking?")
        if ref and kind == "book_cancel":
            c.pause()
            asked = c.say(f"cancel {ref}")
            if c.offers("cancel") or "YES" in asked:
                c.pause()
                done = c.tap("cancel") if c.offers("cancel") else c.say("YES")
                if "cancelled" in done.lower():
                    world.metrics.note("cancelled")


def guide_day(world: World, phone: str, code: str) -> None:
    """CHECKIN, ISSUE, UPDATE, a resolving UPDATE, CHECKOUT; each repeated sometimes."""
    for text in (
        f"CHECKIN {code}",
        f"ISSUE {code} guest twisted an ankle on the stairs",
        f"UPDATE {code} taxi on the way to the trailhead",
        f"UPDATE {code} all good now, resolved",
        f"CHECKOUT {code}",
    ):
        if world.stop.is_set():
            return
        reply = converse(world, phone, SMS_NUMBER, text)
        world.metrics.note(f"guide {text.split()[0]}" + (" ok" if reply else " no answer"))
        time.sleep(random.uniform(2, 6))


def staff_replies(world: World, email: str, password: str) -> None:
    """A sales rep answering conversations that wait for a person, from the admin."""
    http = requests.Session()
    try:
        page = http.get(f"{world.app_url}/admin/login", timeout=20)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        http.post(
            f"{world.app_url}/admin/login",
            data={"email": email, "password": password, "csrf_token": token[1] if token else ""},
            timeout=20,
        )
    except requests.RequestException:
        world.metrics.note("staff login failed")
        return
    while not world.stop.wait(3):
        try:
            inbox = http.get(f"{world.app_url}/admin/inbox?status=pending", timeout=20)
            if inbox.status_code != 200:
                world.metrics.note(f"staff inbox {inbox.status_code}")
                continue
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', inbox.text)
            for conv_id in re.findall(r'data-conversation="(\d+)"', inbox.text)[:3]:
                sent = http.post(
                    f"{world.app_url}/admin/inbox/{conv_id}/reply",
                    data={
                        "body": "Hi, this is Sam from the team. How can I help?",
                        "csrf_token": csrf[1] if csrf else "",
                    },
                    timeout=20,
                )
                world.metrics.note(
                    "staff reply" + ("" if sent.status_code == 200 else f" {sent.status_code}")
                )
        except requests.RequestException:
            world.metrics.note("staff request error")
