"""One inbound message being handled: what it says and who sent it (Reading, what the rules
in bot/states.py look at), and the turn that answers it (Turn)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot import booking_phrasings, booking_words, keywords, states
from bot.concerns import Concern, concern
from bot.knowledge import Understanding, understand
from bot.states import State
from config import Config
from intents import NLU, ParseResult, context_for_org
from intents.entities import Entity
from intents.entities.party import bare_count
from intents.entities.tours import match_kind, match_tour, match_word
from models import (
    CANCELLABLE_STATUSES,
    EXPECTED_STATUSES,
    Booking,
    Conversation,
    Customer,
    Departure,
    Organization,
    ReminderSent,
    TaskPriority,
    Tour,
    WaitlistEntry,
    WaitlistStatus,
)
from services import knowledge, language, ratelimit, tasks
from services.i18n import Voice, customer_voice
from services.knowledge import clauses
from services.whatsapp_content import Interactive


def party_in(result: ParseResult) -> dict[str, int] | None:
    """The party a message gives ("2 adults and a child", "for 4", "me and 2 friends"), if
    any; None while it is not whole ("just the kids and me": how many children?)."""
    if result.entity("party_incomplete"):
        return None
    adults, children = result.entity("adults"), result.entity("children")
    total = result.entity("party_size")
    if adults or children:
        party = {"adult": int(adults or 0), "child": int(children or 0)}
        if total and int(total) > party["adult"] + party["child"]:
            party["adult"] = int(total) - party["child"]
        return {k: v for k, v in party.items() if v}
    if total:
        return {"adult": int(total)}
    return None


def details_in(result: ParseResult) -> dict[str, Any]:
    """The slots a message gives: tour, one way of saying when, party. A None clears a
    slot the new one replaces."""
    updates: dict[str, Any] = {}
    if result.entity("tour"):
        updates["tour"] = result.entity("tour")
    # One way of saying when at a time: a new one replaces the others. ("week" is the
    # range slot's name in conversations stored before ranges had their own.)
    if result.entity("date_range"):
        updates.update(dates=result.entity("date_range").split("/"), date=None, month=None)
    elif result.entity("date"):
        updates.update(date=result.entity("date"), dates=None, month=None)
    elif result.entity("month"):
        updates.update(month=result.entity("month"), dates=None, date=None)
    if {"dates", "date", "month"} & updates.keys():
        updates["week"] = None
    # The time of day: "18:00", "evening", "the late one". A new day or tour said without
    # one is asked about whole.
    if result.entity("time"):
        updates.update(time=result.entity("time"), daypart=None)
    elif result.entity("daypart"):
        updates.update(daypart=result.entity("daypart"), time=None)
    elif {"dates", "date", "month", "tour"} & updates.keys():
        updates.update(time=None, daypart=None)
    party = party_in(result)
    if party:
        updates["party"] = party
        updates["party_partial"] = None
    elif result.entity("party_incomplete") and result.entity("adults"):
        # "me and the kids": the adults are known; the next "how many?" asks for children.
        updates["party_partial"] = {"adult": int(result.entity("adults"))}
    if result.entity("child_ages"):
        updates["child_ages"] = [int(a) for a in str(result.entity("child_ages")).split(",")]
    return updates


def counted_answer(text: str, partial: dict[str, int] | None) -> dict[str, int] | None:
    """A bare number answering "how many?" ("4", "four"): that many adults, or that many
    children beside the adults already known ("just the kids and me" ... "3")."""
    n = bare_count(text)
    if n is None:
        return None
    if partial:
        return {"adult": int(partial.get("adult", 1)), "child": n}
    return {"adult": n}


HUMAN_HANDOFF = "human_handoff"  # the NLU's intent for "a person, please"
# How likely the whole message must find a person asked for before its parts are read
# ("quero falar com alguém, é sobre o food tour": an enquiry at 0.65, a person at 0.3).
PERSON_HINT = 0.1
PART_END = re.compile(r"[,;]")
# Each part read again is an NLU call (an HTTP request with Rasa): a long message reads
# only its first two parts and its last, where "hi, can I talk to someone? ..." and
# "..., can someone call me?" ask.
PERSON_PARTS = 3

# While one of these asks, a party said is about the quote in progress, not a booking.
_QUOTING = frozenset({State.CHOOSING, State.NEED_PARTY, State.CONFIRMING, State.FULL})
# A returning customer's message this long after their last one is a new visit.
NEW_VISIT_AFTER = timedelta(hours=6)
# A pre-departure reminder's "will you be there?" is answered by a yes within this long.
REMINDER_ANSWERED_WITHIN = timedelta(days=2)


class Reading:
    """A message and what is known of its sender, as the rules see it (states.Facts). Each
    fact is worked out only when a rule asks: STOP never waits for the NLU, and the
    waitlist is queried only for a yes or a no. Nothing here writes."""

    def __init__(
        self,
        session: Session,
        org: Organization,
        nlu: NLU,
        now: datetime,
        *,
        text: str,
        tap: str | None = None,
        media: tuple[str, ...] = (),
        location: bool = False,
        from_guide: bool = False,
        customer: Customer | None = None,
        conversation: Conversation | None = None,
        channel: str = "whatsapp",
        opt_out_type: str | None = None,
        advanced_opt_out: bool = False,
    ) -> None:
        self.session, self.org, self.nlu, self.now = session, org, nlu, now
        self.channel = channel
        # Twilio's OptOutType (STOP, START, HELP): what it did, with Advanced Opt-Out only.
        self.opt_out_type = opt_out_type
        self.advanced_opt_out = advanced_opt_out
        self.text, self.media, self.location = text, media, location
        self.tap_payload = tap  # a tapped button's or list row's payload (ours or not)
        self.from_guide = from_guide
        self.customer, self.conversation = customer, conversation
        self._parsed: dict[str, ParseResult] = {}
        # Wrote on this channel before (a conversation with messages or a lead): known
        # now, before this message is recorded. None: a customer we have not seen.
        self._history = (
            None
            if customer is None
            else conversation is not None
            and (conversation.last_message_at is not None or conversation.lead_id is not None)
        )

    @cached_property
    def keyword(self) -> str:
        return keywords.keyword(self.text)

    @cached_property
    def opts_out(self) -> bool:
        return keywords.opts_out(
            self.keyword,
            channel=self.channel,
            opt_out_type=self.opt_out_type,
            advanced_opt_out=self.advanced_opt_out,
            has_booking=lambda: self.has_booking,
        )

    @property
    def opts_in(self) -> bool:
        return keywords.opts_in(self.keyword, self.opt_out_type)

    @property
    def opted_out(self) -> bool:
        return self.customer is not None and self.customer.opted_out

    @cached_property
    def state(self) -> State:
        conv = self.conversation
        if conv is None:
            return State.IDLE
        if conv.handoff:  # the flag staff see, set with the state
            return State.HANDOFF
        try:
            return State(conv.state)
        except ValueError:  # a state no longer in the machine: start again
            return State.IDLE

    @cached_property
    def tap(self) -> str | None:
        """The action of a tap on one of our buttons or list rows ("hold"); None for typed
        words and for a tap on anything else (read as the words on its button)."""
        return states.tap_action(self.tap_payload)

    @property
    def tap_arg(self) -> str:
        """What the tap is about: a departure's code, a booking's reference, an offer."""
        return states.tap_arg(self.tap_payload)

    @property
    def only_media(self) -> bool:
        return not self.text.strip() and bool(self.media)

    @property
    def with_file(self) -> bool:
        return bool(self.media)

    @cached_property
    def language(self) -> str | None:
        """The customer's language after this message (services/language.py): asked for,
        clearly written in, or what was stored. Tour names are left out: "sunset tour" in
        a Portuguese message is not English."""
        current = self.customer.language if self.customer is not None else None
        if len(self.org.settings.languages) < 2:
            return current  # one language: nothing to detect (language.choose agrees)
        ctx = context_for_org(self.session, self.org, self.now)
        tour = match_tour(self.text, ctx.tours)
        text = self.text if tour is None else self.text[: tour[1]] + " " + self.text[tour[2] :]
        return language.choose(text, self.org.settings.languages, current)

    @cached_property
    def result(self) -> ParseResult:
        return self.parse(self.text)

    @property
    def intent(self) -> str:
        return self.result.intent

    def parse(self, text: str) -> ParseResult:
        """A text read in this message's context (the message, or a sentence of it), in its
        language; "the trek" is the tour when only one tour is a trek."""
        if text in self._parsed:
            return self._parsed[text]  # a sentence read once for its act, again for a rule
        ctx = context_for_org(self.session, self.org, self.now, self.language or "en")
        result = self.nlu.parse(text, ctx)
        if result.entity("tour") is None:
            kind = match_kind(result.text, ctx.tours)
            if kind is None and self.asked_which_tour:
                kind = match_word(result.text, ctx.tours)  # "the food one": which tour
                if kind is not None and self.state == State.CHOOSING and not self.any_tour:
                    kind = kind if kind[0] in self.listed_tours else None
            if kind is not None:
                tour = Entity("tour", kind[0], kind[1], kind[2], extractor="kind")
                entities = sorted([*result.entities, tour], key=lambda e: e.start)
                result = dataclasses.replace(result, entities=entities)
        self._parsed[text] = result
        return result

    @property
    def asked_which_tour(self) -> bool:
        """The bot asked which tour, or listed several tours' departures to choose from."""
        return (
            self.state == State.NEED_TOUR
            or self.pending_question
            or (self.state == State.CHOOSING and (self.any_tour or len(self.listed_tours) > 1))
        )

    @property
    def any_tour(self) -> bool:
        """The list open is a day's list of every tour (bot/departure_lists.whats_on)."""
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        return bool(slots.get("any_tour"))

    @cached_property
    def listed_tours(self) -> frozenset[str]:
        """The tours of the departures the bot's list offers (CHOOSING)."""
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        codes = slots.get("offered") or []
        if not codes:
            return frozenset()
        return frozenset(
            self.session.scalars(
                select(Tour.slug)
                .join(Departure, Departure.tour_id == Tour.id)
                .where(Departure.organization_id == self.org.id, Departure.code.in_(codes))
            )
        )

    def focus(self, result: ParseResult) -> None:
        """From here on the turn handles this part of the message (the request after its
        questions, bot/knowledge.py)."""
        self.__dict__["result"] = result
        self.__dict__.pop("told", None)

    @cached_property
    def understanding(self) -> Understanding:
        """Every act in the message: its questions and the rest (bot/knowledge.py)."""
        return understand(self)

    @property
    def asks(self) -> bool:
        return bool(self.understanding.questions)

    @cached_property
    def asks_for_person(self) -> bool:
        """A person asked for, by the message or by one of its sentences ("posso falar
        com alguém da equipa? tenho dúvidas sobre o trekking"), in any language (of a
        long message, its first two parts and its last: PERSON_PARTS)."""
        if self.intent == HUMAN_HANDOFF:
            return True
        if dict(self.result.ranking).get(HUMAN_HANDOFF, 0.0) < PERSON_HINT:
            return False  # nothing in it reads like asking for a person: no part read again
        parts = [p for c in clauses(self.text) for p in PART_END.split(c) if p.strip()]
        if len(parts) > PERSON_PARTS:
            parts = parts[: PERSON_PARTS - 1] + parts[-1:]
        return len(parts) > 1 and any(self.parse(p).intent == HUMAN_HANDOFF for p in parts)

    @cached_property
    def concern(self) -> Concern | None:
        """A complaint, a refund demanded, a guide who did not come, someone hurt."""
        return concern(self.text)

    @cached_property
    def awaiting_person(self) -> bool:
        """An urgent concern of this conversation no person has answered yet."""
        if self.conversation is None:
            return False
        return tasks.waiting_for_person(self.session, self.conversation) is not None

    @property
    def pending_question(self) -> bool:
        """A question waits for the customer to say which tour it is about."""
        conv = self.conversation
        return conv is not None and bool((conv.slots or {}).get("question"))

    @cached_property
    def asks_what_runs(self) -> bool:
        """ "what do you have on Saturday?", "anything tomorrow for 2?": a day asked, no
        tour in mind (named, chosen before, or booked), and nothing asked of the catalog
        but what there is, when and for how much."""
        if self.intent not in WHAT_RUNS_INTENTS or not self.told & DAY_SLOTS:
            return False
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        if "tour" in self.told or slots.get("tour") or self.has_booking:
            return False
        # "2 adults and 2 kids (7 and 11), what do you have Saturday?": ages of the party.
        topics = WHAT_RUNS_TOPICS | ({knowledge.MIN_AGE} if "party" in self.told else set())
        return all(
            {m.entry.topic for m in question.matches} <= topics
            for question in self.understanding.questions
        )

    @cached_property
    def told(self) -> frozenset[str]:
        return frozenset(k for k, v in details_in(self.result).items() if v is not None)

    @property
    def party_given(self) -> bool:
        return party_in(self.result) is not None or self.counted_answer is not None

    @cached_property
    def counted_answer(self) -> dict[str, int] | None:
        """A bare number, when the bot's last message asked how many people."""
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        if slots.get("asked") != ASKED_PARTY:
            return None
        return counted_answer(self.text, slots.get("party_partial"))

    @property
    def answers_how_many(self) -> bool:
        return self.counted_answer is not None

    @cached_property
    def booking_request(self) -> str | None:
        """What the message asks of a booking the customer has ("add one more person",
        "how do I pay the rest?"): a kind from bot.booking_words, or None."""
        kind = booking_phrasings.request_kind(self.text, self.language)
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        if kind is None and slots.get("invoice_for") and "@" in self.text:
            kind = booking_words.INVOICE  # the company details asked for
        if kind is None:
            return None
        if (
            kind in (booking_words.RECEIPT, booking_words.INVOICE)
            and self.media
            and not states.looks_like_question(self.text)
        ):
            return None  # "this is the receipt from the bank [photo]": the file is one
        if kind in booking_words.NEEDS_BOOKING:
            if booking_words.REF_RE.search(self.text):
                return kind  # named: its handler finds it, or says it is not theirs
            # "make it 3" while a new quote is under way is about that quote.
            if self.state in _QUOTING or not self.has_booking:
                return None
            tour = self.result.entity("tour")
            if kind in (booking_words.ADD, booking_words.REMOVE) and tour:
                # "can I add 1 more to the city walk": their booking on it, or, booked on
                # another tour, "did you mean that one?" (bot/which_booking.py).
                return kind
            # "we are 4, any space on the food tour Saturday?": a new request, not a change.
            if kind in booking_words.PARTY_KINDS and (tour or self.result.entity("date")):
                return None
            if kind == booking_words.WHEN_WHERE and tour and tour not in self.booked_tours:
                return None  # "what time does the city walk start?": a question about it
        elif (
            kind == booking_words.BALANCE
            and not self.has_booking
            and not booking_words.REF_RE.search(self.text)
            and any(q.matches for q in self.understanding.questions)
        ):
            # "can I pay the deposit now and the rest in cash?" before booking: the catalog
            # answers how paying works; "how do I pay the rest?" alone still looks for theirs.
            return None
        return kind

    @cached_property
    def booked_tours(self) -> frozenset[str]:
        """The tours of their bookings and holds still to come."""
        if self.customer is None:
            return frozenset()
        return frozenset(
            self.session.scalars(
                select(Tour.slug)
                .join(Departure, Departure.tour_id == Tour.id)
                .join(Booking, Booking.departure_id == Departure.id)
                .where(
                    Booking.customer_id == self.customer.id,
                    Booking.status.in_(EXPECTED_STATUSES),
                    Departure.starts_at > self.now,
                )
            )
        )

    @cached_property
    def doubt_answer(self) -> str | None:
        """After "did you mean that booking, or a new one?" (bot/which_booking.py):
        "booking", "new", or None (something else: the question lapses)."""
        slots = (self.conversation.slots if self.conversation is not None else None) or {}
        doubt = slots.get("doubt") or {}
        return booking_words.meant(
            self.text,
            reference=self.result.entity("booking_ref"),
            tour=self.result.entity("tour"),
            theirs=doubt.get("refs") or [],
            their_tours=doubt.get("tours") or [],
            new_tour=doubt.get("tour"),
        )

    @cached_property
    def has_booking(self) -> bool:
        """A booking or hold of theirs for a departure still to come."""
        if self.customer is None:
            return False
        found = self.session.scalar(
            select(Booking.id)
            .join(Departure, Departure.id == Booking.departure_id)
            .where(
                Booking.customer_id == self.customer.id,
                Booking.status.in_(EXPECTED_STATUSES),
                Departure.starts_at > self.now,
            )
            .limit(1)
        )
        return found is not None

    @property
    def clear_yes(self) -> bool:
        return booking_words.clear_yes(self.text)

    @property
    def attends(self) -> bool:
        return booking_words.attends(self.text)

    @property
    def clear_no(self) -> bool:
        return booking_words.clear_no(self.text)

    @property
    def option(self) -> object:
        return self.result.entity("option")

    @cached_property
    def waitlist_offer(self) -> WaitlistEntry | None:
        """A freed seat offered to them and not yet expired (the newest)."""
        if self.customer is None:
            return None
        return self.session.scalar(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.customer_id == self.customer.id,
                WaitlistEntry.status == WaitlistStatus.OFFERED,
                WaitlistEntry.offer_expires_at > self.now,
            )
            .order_by(WaitlistEntry.offered_at.desc())
        )

    @property
    def waitlist_offer_open(self) -> bool:
        return self.waitlist_offer is not None

    @cached_property
    def reminded_booking(self) -> Booking | None:
        """The booking whose pre-departure reminder ("will you be there?") is the last
        reminder sent to them, after their last message and in the last two days: what a
        "yes" answers. Still theirs to attend: not cancelled, not started."""
        if self.customer is None or self.conversation is None:
            return None
        since = self.now - REMINDER_ANSWERED_WITHIN
        last_inbound = self.conversation.last_inbound_at
        if last_inbound is not None and last_inbound > since:
            since = last_inbound
        found = self.session.execute(
            select(ReminderSent.kind, Booking)
            .join(Booking, Booking.id == ReminderSent.booking_id)
            .where(
                Booking.organization_id == self.org.id,
                Booking.customer_id == self.customer.id,
                ReminderSent.sent_at > since,
                ReminderSent.sent_at <= self.now,
            )
            .order_by(ReminderSent.sent_at.desc(), ReminderSent.id.desc())
            .limit(1)
        ).first()
        if found is None or found.kind != "pre_departure":
            return None
        booking: Booking = found.Booking
        if booking.status not in CANCELLABLE_STATUSES or booking.departure.starts_at <= self.now:
            return None
        return booking

    @property
    def answers_reminder(self) -> bool:
        return self.reminded_booking is not None

    @cached_property
    def returning(self) -> bool:
        """Wrote on this channel before, or has bookings (asked only when the first is not
        known, since most messages do not need it)."""
        if self._history is None:
            return False
        if self._history:
            return True
        assert self.customer is not None
        booking = self.session.scalar(
            select(Booking.id).where(Booking.customer_id == self.customer.id).limit(1)
        )
        return booking is not None


Handler = Callable[["Turn"], None]

# What a message asking what runs on a day is read as, and the catalog topics it may
# touch without being a question about a particular tour.
WHAT_RUNS_INTENTS = frozenset({"enquire", "check_availability", "ask_price", "book", "hold"})
DAY_SLOTS = frozenset({"date", "dates", "month"})
WHAT_RUNS_TOPICS = frozenset({knowledge.DESCRIPTION, knowledge.DEPARTURES, knowledge.PRICES})

# The slot that says what the bot's last message asked; it lasts one turn (Turn.asked).
ASKED_PARTY = "party"


@dataclass
class Turn:
    """The state and slots change in memory during the turn and are written to the
    conversation once, by finish(): one UPDATE per message, not one per query that
    happens to flush in between."""

    session: Session
    org: Organization
    conversation: Conversation
    customer: Customer
    reading: Reading
    now: datetime
    config: Config  # the app's: the public address for links, the secret, Stripe
    replies: list[str] = field(default_factory=list)
    told: set[str] = field(default_factory=set)  # the slots this message gave
    # A reply's choices as WhatsApp rows and buttons, by the reply's index (offer()).
    interactive: dict[int, Interactive] = field(default_factory=dict)
    _state: str = field(init=False)
    _slots: dict[str, Any] = field(init=False)
    _handling: list[str] = field(init=False, default_factory=list)  # handler, then instead
    _tours: dict[str, Tour | None] = field(init=False, default_factory=dict)
    _departures: dict[str, Departure | None] = field(init=False, default_factory=dict)
    _tours_booked: dict[str, str | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._state = self.conversation.state
        self._slots = dict(self.conversation.slots or {})
        # What the last reply asked is an answer's context for this message only.
        self._slots.pop("asked", None)

    def ask(self, what: str) -> None:
        """This reply asks for something (ASKED_PARTY): a bare "4" next answers it."""
        self._slots["asked"] = what

    @property
    def text(self) -> str:
        return self.reading.text

    @property
    def result(self) -> ParseResult:
        return self.reading.result

    @property
    def returning(self) -> bool:
        """The customer wrote to us before this conversation turn."""
        return self.reading.returning

    @property
    def welcome_back(self) -> bool:
        """Back after a while: a returning customer whose last message was not moments ago
        ("hi", then "what tours do you have?" is one visit, not "Welcome back, Tom!")."""
        last = self.conversation.last_inbound_at
        return self.returning and (last is None or self.now - last >= NEW_VISIT_AFTER)

    @cached_property
    def voice(self) -> Voice:
        """How this customer is spoken to: every reply is a sentence of theirs,
        `turn.say(turn.voice._("Hold expires: {when}", when=turn.voice.when(...)))`."""
        return customer_voice(self.org, self.customer)

    def say(self, text: str) -> None:
        self.replies.append(text.strip())

    def offer(self, choices: Interactive | None) -> None:
        """The choices the last reply's words offer, as WhatsApp shows them (a list to pick
        from, buttons to tap); SMS, and WhatsApp when they cannot be shown, get the words."""
        if choices is not None and self.replies:
            self.interactive[len(self.replies) - 1] = choices

    @property
    def state(self) -> State:
        try:
            return State(self._state)
        except ValueError:
            return State.IDLE

    @contextmanager
    def handling(self, handler: str) -> Iterator[None]:
        """The handler at work, whose declared moves (states.MOVES) goto keeps to."""
        self._handling.append(handler)
        try:
            yield
        finally:
            self._handling.pop()

    def instead(self, handler: Handler) -> None:
        """Passes the message on to another handler ("do X instead"), as declared."""
        name = handler.__name__
        states.check_instead(self._handling[-1] if self._handling else None, name)
        with self.handling(name):
            handler(self)

    def goto(self, state: State, **slots: Any) -> None:
        states.check_move(self._handling[-1] if self._handling else None, state)
        self._state = state
        if slots:
            self.remember(**slots)

    def remember(self, **slots: Any) -> None:
        self._slots.update(slots)

    def lapse(self) -> None:
        """A question waiting for a clear yes lapses: the message said something else
        (bot.states.LAPSES)."""
        self._state = State.IDLE
        self._slots.update(change=None, doubt=None)

    def forget_all(self) -> None:
        self._slots = {}

    def slot(self, name: str) -> Any:
        return self._slots.get(name)

    def finish(self) -> list[str]:
        """Writes the new state and slots to the conversation; returns the replies."""
        if self._state != self.conversation.state:
            self.conversation.state = self._state
        if self._slots != (self.conversation.slots or {}):
            # A new dict, so SQLAlchemy sees the JSON change.
            self.conversation.slots = dict(self._slots)
        return self.replies

    def actor(self) -> str:
        return f"customer:{self.customer.phone}"

    def task_for_staff(
        self,
        kind: str,
        title: str,
        *,
        booking: Booking | None = None,
        priority: TaskPriority = TaskPriority.NORMAL,
        extra: str = "",
    ) -> str | None:
        """A task for the rep (or the owner; urgent: ops too) whose text carries the
        customer, the booking (given, else named in the message, else the one they most
        likely mean) or enquiry, and their last messages. Returns who will answer (None:
        our team)."""
        if booking is None:
            booking = tasks.relevant_booking(
                self.session, self.customer, self.now, self.result.entity("booking_ref")
            )
        context = tasks.staff_context(
            self.session, self.org, self.customer, self.conversation, self.now, booking=booking
        )
        _, names = tasks.create(
            self.session,
            self.org,
            self.customer,
            self.now,
            kind=kind,
            title=title,
            context=context,
            conversation=self.conversation,
            counts=ratelimit.counter(self.config.REDIS_URL),
            priority=priority,
            actor=self.actor(),
            source=self.conversation.channel,
            extra=extra,
        )
        return names[0] if names else None

    # --- what the customer has told us, this message first, then earlier ones --------

    def absorb_entities(self) -> set[str]:
        """Keeps what this message says (tour, date, month, week, party) for later turns;
        returns the names of the slots it gave."""
        updates = details_in(self.result)
        if "party" not in updates and self.reading.counted_answer is not None:
            updates.update(party=self.reading.counted_answer, party_partial=None)
        if updates:
            self.remember(**updates)
        self.told = {name for name, value in updates.items() if value is not None}
        return self.told

    def party_from_message(self) -> dict[str, int] | None:
        return party_in(self.result) or self.reading.counted_answer

    def tour(self) -> Tour | None:
        # Kept for the turn: the session's identity map holds objects only weakly, and the
        # handlers ask for the same tour and departure several times.
        slug = self.slot("tour") or self._booked_tour()
        if not slug:
            return None
        if slug not in self._tours:
            # Usually it is the tour of a departure this turn already loaded.
            for dep in self._departures.values():
                if dep is not None and dep.tour.slug == slug:
                    self._tours[slug] = dep.tour
                    return dep.tour
            self._tours[slug] = self.session.scalar(
                select(Tour).where(Tour.organization_id == self.org.id, Tour.slug == slug)
            )
        return self._tours[slug]

    def _booked_tour(self) -> str | None:
        """No tour said yet: the tour of the customer's coming booking, which their
        messages are read against ("is it vegetarian friendly?" with a food-tour hold)."""
        if "booked" not in self._tours_booked:
            slug = None
            if self.reading.has_booking:
                slug = self.session.scalar(
                    select(Tour.slug)
                    .join(Departure, Departure.tour_id == Tour.id)
                    .join(Booking, Booking.departure_id == Departure.id)
                    .where(
                        Booking.customer_id == self.customer.id,
                        Booking.status.in_(EXPECTED_STATUSES),
                        Departure.starts_at > self.now,
                    )
                    .order_by(Departure.starts_at)
                    .limit(1)
                )
            self._tours_booked["booked"] = slug
        return self._tours_booked["booked"]

    def party(self) -> dict[str, int] | None:
        party = self.slot("party")
        return dict(party) if party else None

    def wanted_dates(self) -> tuple[date | None, date | None]:
        if span := self.slot("dates") or self.slot("week"):
            first, last = span
            return date.fromisoformat(first), date.fromisoformat(last)
        if self.slot("date"):
            day = date.fromisoformat(self.slot("date"))
            return day, day
        if self.slot("month"):
            year, month = (int(p) for p in self.slot("month").split("-"))
            first = date(year, month, 1)
            next_first = date(year + (month == 12), month % 12 + 1, 1)
            return first, next_first - timedelta(days=1)
        return None, None

    def departure(self, code: str | None) -> Departure | None:
        if not code:
            return None
        if code not in self._departures:
            # With its tour and prices: every handler that takes a departure quotes it.
            self._departures[code] = (
                self.session.scalars(
                    select(Departure)
                    .where(Departure.organization_id == self.org.id, Departure.code == code)
                    .options(joinedload(Departure.tour).joinedload(Tour.price_tiers))
                )
                .unique()
                .one_or_none()
            )
        return self._departures[code]
