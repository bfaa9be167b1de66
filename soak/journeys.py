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
from twilio.request_validator import RequestValidator

from soak.standins import StripeStandIn

SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"
REF = re.compile(r"\bBK-[0-9A-Z]{5}\b")


@dataclass
class Metrics:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    journeys: Counter[str] = field(default_factory=Counter)
    sent_sids: dict[str, list[str]] = field(default_factory=dict)  # sid -> first replies
    duplicate_mismatches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str) -> None:
        with self.lock:
            self.journeys[kind] += 1


@dataclass
class World:
    app_url: str
    auth_token: str
    stripe: StripeStandIn
    metrics: Metrics
    stop: threading.Event
    days: list[date]
    duplicate_rate: float = 0.05

    @property
    def webhook(self) -> str:
        return f"{self.app_url}/webhooks/twilio/messages"


def post_inbound(
    world: World, from_addr: str, to_addr: str, text: str, sid: str | None = None
) -> list[str] | None:
    form = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": from_addr,
        "To": to_addr,
        "Body": text,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(world.auth_token).compute_signature(world.webhook, form)
    start = time.perf_counter()
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
        return None
    elapsed = time.perf_counter() - start
    with world.metrics.lock:
        world.metrics.latencies.append(elapsed)
        world.metrics.statuses[response.status_code] += 1
    if response.status_code != 200:
        return None
    replies = [m.text or "" for m in ElementTree.fromstring(response.text).iter("Message")]
    with world.metrics.lock:
        world.metrics.sent_sids.setdefault(form["MessageSid"], replies)
    if random.random() < world.duplicate_rate:  # Twilio retrying the same delivery
        again = post_inbound(world, from_addr, to_addr, text, sid=form["MessageSid"])
        if again is not None and again != replies:
            with world.metrics.lock:
                world.metrics.duplicate_mismatches += 1
    return replies


@dataclass
class Customer:
    world: World
    phone: str
    whatsapp: bool

    def say(self, text: str) -> str:
        prefix = "whatsapp:" if self.whatsapp else ""
        to = WHATSAPP_NUMBER if self.whatsapp else SMS_NUMBER
        replies = post_inbound(self.world, prefix + self.phone, prefix + to, text)
        return "\n".join(replies or [])

    def pause(self) -> None:
        time.sleep(random.uniform(0.2, 1.5))  # people take a moment to read and type


def spoken(day: date) -> str:
    return f"{day.day} {day:%B}"


def book_and_pay(c: Customer, tour: str = "sunset tour", adults: int = 2) -> str | None:
    day = random.choice(c.world.days)
    options = c.say(f"{tour} on {spoken(day)}, {adults} adults")
    if "1)" not in options:
        return None
    c.pause()
    quote = c.say("1")
    if "YES" not in quote and "hold" not in quote.lower():
        return None
    c.pause()
    held = c.say("yes")
    ref = REF.search(held)
    if not ref or "/pay/" not in held:
        c.world.metrics.note("hold failed (seats gone)")
        return None
    c.world.metrics.note("held")
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
        c.say("we are 14 people")
    elif kind == "waitlist":
        day = random.choice(world.days[:3])
        reply = c.say(f"city walk on {spoken(day)} for 3 people")
        if "waitlist" in reply.lower():
            c.pause()
            joined = c.say("2")
            if "Position" in joined:
                world.metrics.note("joined waitlist")
        elif "1)" in reply:
            c.pause()
            c.say("1")
            c.pause()
            held = c.say("yes")
            ref = REF.search(held)
            if ref and "/pay/" in held:
                world.metrics.note("held")
                pay(world, held)
    elif kind in ("book", "book_cancel", "status"):
        ref = book_and_pay(c)
        if ref and kind == "status":
            c.pause()
            c.say("what's the status of my booking?")
        if ref and kind == "book_cancel":
            c.pause()
            asked = c.say(f"cancel {ref}")
            if "YES" in asked:
                c.pause()
                if "cancelled" in c.say("YES").lower():
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
        reply = post_inbound(world, phone, SMS_NUMBER, text)
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
