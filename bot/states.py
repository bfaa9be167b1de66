"""The conversation state machine, whole: every rule that decides what answers a message.

A message is answered by the first rule in RULES whose guard holds (route()): who is
writing, the words that act before any understanding, silence, attachments, an open
waitlist offer, then the (state, intent) table. A rule names a handler (bot/handlers.py
finds the function by that name). Each handler declares in MOVES the states it may move
the conversation to and the handlers it may pass the message on to instead ("do X
instead"); Turn.goto refuses any other move. "inform" is a message the NLU could not
classify that still names a tour, a date or a party: an answer or a correction. Staff
move the conversation too, from the admin (bot/staff.py, STAFF_MOVES).

Generated from the data below by describe() (`python -m bot.states --write` rewrites this
copy; a test keeps it in sync):

Rules, in order; the first that applies answers the message:
  1. from a guide's phone: a guide command -> guide_command
  2. STOP and the other opt-out words -> opt_out
  3. START: subscribed again -> opt_in
  4. opted out: nothing else is said -> stay_silent
  5. HELP -> send_help
  6. MENU / RESTART: start over -> start_over
  7. a complaint, a refund demanded, a no-show, someone hurt: urgent, to a person -> urgent_handoff
  8. in handoff: a person is answering: the bot stays quiet -> wait_for_person
  9. a tap on a button or list row: its own transition -> the tap's handler (below)
 10. a yes to the reminder just sent: I'll be there -> attending
 11. in confirm_cancel: a clear yes to the cancellation -> confirm_cancel
 12. in confirm_cancel: no: keep the booking -> keep_booking
 13. in confirm_cancel: anything else: it lapses, the message is answered afresh -> lapse_cancel
 14. a file and no words -> file_received
 15. a location pin -> location_pin
 16. AGENT / HUMAN: a person, please -> handoff
     (from here on, the message's tour, dates and party are kept first)
 17. asks for a person, in any sentence (not a receipt, an invoice, the balance) -> handoff
 18. yes or no to an open waitlist offer -> answer_waitlist_offer
 19. in confirm_change: a clear yes, and nothing else, to the change stated -> apply_change
 20. in confirm_change: a clear no to the change stated -> keep_change
 21. in moving: a number from the dates offered for the booking (yes: the only one) -> choose_move
 22. in which_booking: the booking they have (yes, that one, its reference or tour) -> meant_booking
 23. in which_booking: a new booking on the tour they named -> meant_new
 24. about their booking: people, another date, the balance, a receipt, an invoice -> about_booking
     (from here on, the message's tour, dates and party are kept first)
 25. a bare number answering 'how many people?' -> party_answer
 26. in need_party: the party for the chosen departure -> take_party
 27. in choosing: a number from the list -> choose_departure
 28. in idle/need_tour/questions: a day asked, no tour in mind: all tours that day -> whats_on
 29. asks their place on the waitlist -> booking_status
     (from here on, the message's tour, dates and party are kept first)
 30. a party in a booking's words, pricing or with no booking: an answer -> the table as 'inform'
 31. asks a question (answered from the catalog, or passed to a person) -> answer_questions
 32. in choosing: the party for the departures listed, no number picked -> the table as 'inform'
 33. in choosing: the price asked, nothing new said: the listed prices -> list_prices
 34. a complaint waits for a person: cancelling waits too -> complaint_pending
 35. in held/idle/need_tour/questions: CANCEL alone, from someone with a booking -> cancel_request
     (from here on, the message's tour, dates and party are kept first)
 36. names the tour a question was about -> answer_questions
 37. in held: just held, another day or time asked for: the hold moved -> revise
 38. in choosing/confirming/full: a search's new day or party -> the table as 'inform'
 39. an enquiry that names a tour and a day: that day's departures -> check_availability
 40. names a tour, date or party, and no request the table knows: an answer -> the table as 'inform'
 41. in idle: nothing open, only an ok, a yes or a thanks: acknowledged -> acknowledge
     (from here on, the message's tour, dates and party are kept first)
 42. the table: (state, intent), else the intent in any state -> the table

The table, state: intents -> handler:
  questions: inform, nlu_fallback, deny, ask_info -> lead_details
  questions: affirm -> check_availability
  need_tour: enquire, ask_info, inform -> check_availability
  choosing: inform -> revise
  choosing: choose_option, book, hold, affirm -> choose_departure
  need_party: choose_option -> take_party
  confirming: inform -> revise
  confirming: affirm, hold, book, pay -> hold_seats
  confirming: deny -> drop_offer
  full: inform -> revise
  full: choose_option -> full_option
  full: join_waitlist, affirm -> join_waitlist
  full: deny -> drop_offer
  held: affirm, pay -> payment_link
  moving: inform -> move_request

Taps on a WhatsApp button or list row, the payload's action -> handler:
  dep, near -> tap_departure
  hold -> tap_hold
  party -> tap_party
  dates -> tap_other_dates
  wait -> tap_waitlist
  confirm, decline -> tap_offer
  cancel, keep -> tap_cancel
  coming, change, cancelask -> tap_reminder

In any state, intents -> handler (any other intent: menu):
  greet -> greet
  enquire -> enquire
  check_availability, ask_price, book, hold -> check_availability
  join_waitlist -> join_waitlist
  human_handoff -> handoff
  booking_status -> booking_status
  cancel_booking -> cancel_request
  reschedule -> move_request
  pay -> pay_balance
  ask_info -> tour_info
  thanks -> thanks
  goodbye -> goodbye
  affirm, deny, choose_option, nlu_fallback -> menu
  inform -> revise

Handler -> the states it may move to (; instead: what it may pass on to):
  guide_command -> (stays)
  opt_out -> (stays)
  opt_in -> (stays)
  stay_silent -> (stays)
  send_help -> (stays)
  start_over -> idle
  wait_for_person -> (stays)
  urgent_handoff -> handoff
  complaint_pending -> idle
  file_received -> handoff
  location_pin -> (stays)
  greet -> (stays)
  thanks -> (stays)
  acknowledge -> (stays)
  goodbye -> (stays)
  menu -> (stays)
  tour_info -> (stays)
  answer_questions -> (stays); instead: booking_status, cancel_request, check_availability,
      choose_departure, drop_offer, enquire, full_option, goodbye, greet, handoff,
      hold_seats, join_waitlist, lead_details, move_request, pay_balance, payment_link,
      revise, take_party, thanks, tour_info
  handoff -> handoff
  enquire -> questions
  lead_details -> idle; instead: menu
  check_availability -> choosing, confirm_change, confirming, full, held, idle, need_party,
      need_tour, questions; instead: whats_on
  whats_on -> choosing, need_tour
  revise -> confirm_change, confirming, full, idle, need_party, questions; instead:
      check_availability, move_request
  choose_departure -> confirming, full, idle, need_party, questions; instead: hold_seats
  take_party -> confirming, idle, need_party, questions
  list_prices -> (stays)
  party_answer -> (stays); instead: join_waitlist, lead_details, revise, take_party
  hold_seats -> confirming, full, held, idle, need_party, questions; instead:
      check_availability
  drop_offer -> idle
  full_option -> choosing, confirming, idle, need_party, questions; instead: join_waitlist
  join_waitlist -> full, idle
  answer_waitlist_offer -> held
  booking_status -> (stays)
  cancel_request -> confirm_cancel
  confirm_cancel -> idle
  lapse_cancel -> idle; instead: about_booking, acknowledge, answer_questions,
      answer_waitlist_offer, apply_change, attending, booking_status, cancel_request,
      check_availability, choose_departure, choose_move, complaint_pending, drop_offer,
      enquire, file_received, full_option, goodbye, greet, handoff, hold_seats,
      join_waitlist, keep_change, lead_details, list_prices, location_pin, meant_booking,
      meant_new, menu, move_request, opt_in, opt_out, party_answer, pay_balance,
      payment_link, revise, send_help, start_over, stay_silent, take_party, thanks,
      tour_info, urgent_handoff, wait_for_person, whats_on
  keep_booking -> idle
  reschedule_request -> idle
  payment_link -> (stays); instead: pay_balance
  about_booking -> confirm_change, which_booking; instead: move_request, pay_balance
  move_request -> confirm_change, moving, which_booking; instead: reschedule_request
  meant_booking -> confirm_change, idle; instead: move_request
  meant_new -> idle; instead: check_availability
  choose_move -> confirm_change, idle
  apply_change -> confirm_change, idle
  keep_change -> idle
  pay_balance -> (stays)
  tap_departure -> confirming, full, idle, need_party, questions
  tap_hold -> confirming, idle, need_party, questions; instead: hold_seats
  tap_party -> need_party
  tap_other_dates -> choosing
  tap_waitlist -> (stays); instead: join_waitlist
  tap_offer -> held
  tap_cancel -> (stays); instead: confirm_cancel, keep_booking
  tap_reminder -> confirm_cancel
  attending -> idle
  expect_quote_answer -> confirming  [staff, from the admin]
  hand_back -> idle  [staff, from the admin]

The graph: where a message moves a conversation (by which handlers):
  any state -> choosing (check_availability, full_option, tap_other_dates, whats_on),
        confirm_cancel (cancel_request, tap_reminder), confirm_change (about_booking,
        check_availability, move_request, revise), confirming (check_availability,
        choose_departure, full_option, hold_seats, revise, take_party, tap_departure,
        tap_hold), full (check_availability, choose_departure, hold_seats, join_waitlist,
        revise, tap_departure), handoff (file_received, handoff, urgent_handoff), held
        (answer_waitlist_offer, check_availability, hold_seats, tap_offer), idle (attending,
        check_availability, choose_departure, complaint_pending, confirm_cancel, drop_offer,
        full_option, hold_seats, join_waitlist, keep_booking, lead_details,
        reschedule_request, revise, start_over, take_party, tap_departure, tap_hold), moving
        (move_request), need_party (check_availability, choose_departure, full_option,
        hold_seats, revise, take_party, tap_departure, tap_hold, tap_party), need_tour
        (check_availability, whats_on), questions (check_availability, choose_departure,
        enquire, full_option, hold_seats, revise, take_party, tap_departure, tap_hold),
        which_booking (about_booking, move_request)
  idle, also -> choosing (whats_on), confirm_cancel (cancel_request), need_tour (whats_on)
  questions, also -> choosing (check_availability, whats_on), confirm_cancel (cancel_request),
        confirm_change (check_availability), confirming (check_availability), full
        (check_availability), held (check_availability), idle (check_availability,
        lead_details), need_party (check_availability), need_tour (check_availability,
        whats_on), questions (check_availability)
  need_tour, also -> choosing (check_availability, whats_on), confirm_cancel (cancel_request),
        confirm_change (check_availability), confirming (check_availability), full
        (check_availability), held (check_availability), idle (check_availability), need_party
        (check_availability), need_tour (check_availability, whats_on), questions
        (check_availability)
  choosing, also -> choosing (check_availability, whats_on), confirm_change
        (check_availability, move_request, revise), confirming (check_availability,
        choose_departure, hold_seats, revise), full (check_availability, choose_departure,
        hold_seats, revise), held (check_availability, hold_seats), idle (check_availability,
        choose_departure, hold_seats, reschedule_request, revise), moving (move_request),
        need_party (check_availability, choose_departure, hold_seats, revise), need_tour
        (check_availability, whats_on), questions (check_availability, choose_departure,
        hold_seats, revise), which_booking (move_request)
  need_party, also -> confirming (take_party), idle (take_party), need_party (take_party),
        questions (take_party)
  confirming, also -> choosing (check_availability, whats_on), confirm_change
        (check_availability, move_request, revise), confirming (check_availability,
        hold_seats, revise), full (check_availability, hold_seats, revise), held
        (check_availability, hold_seats), idle (check_availability, drop_offer, hold_seats,
        reschedule_request, revise), moving (move_request), need_party (check_availability,
        hold_seats, revise), need_tour (check_availability, whats_on), questions
        (check_availability, hold_seats, revise), which_booking (move_request)
  full, also -> choosing (check_availability, full_option, whats_on), confirm_change
        (check_availability, move_request, revise), confirming (check_availability,
        full_option, revise), full (check_availability, join_waitlist, revise), held
        (check_availability), idle (check_availability, drop_offer, full_option,
        join_waitlist, reschedule_request, revise), moving (move_request), need_party
        (check_availability, full_option, revise), need_tour (check_availability, whats_on),
        questions (check_availability, full_option, revise), which_booking (move_request)
  held, also -> choosing (check_availability, whats_on), confirm_cancel (cancel_request),
        confirm_change (check_availability, move_request, revise), confirming
        (check_availability, revise), full (check_availability, revise), held
        (check_availability), idle (check_availability, reschedule_request, revise), moving
        (move_request), need_party (check_availability, revise), need_tour
        (check_availability, whats_on), questions (check_availability, revise), which_booking
        (move_request)
  handoff, only -> handoff (urgent_handoff), idle (start_over)
  confirm_cancel, only -> choosing (check_availability, full_option, tap_other_dates,
        whats_on), confirm_cancel (cancel_request, tap_reminder), confirm_change
        (about_booking, apply_change, check_availability, choose_move, meant_booking,
        move_request, revise), confirming (check_availability, choose_departure, full_option,
        hold_seats, revise, take_party, tap_departure, tap_hold), full (check_availability,
        choose_departure, hold_seats, join_waitlist, revise, tap_departure), handoff
        (file_received, handoff, urgent_handoff), held (answer_waitlist_offer,
        check_availability, hold_seats, tap_offer), idle (apply_change, attending,
        check_availability, choose_departure, choose_move, complaint_pending, confirm_cancel,
        drop_offer, full_option, hold_seats, join_waitlist, keep_booking, keep_change,
        lapse_cancel, lead_details, meant_booking, meant_new, reschedule_request, revise,
        start_over, take_party, tap_departure, tap_hold), moving (move_request), need_party
        (check_availability, choose_departure, full_option, hold_seats, revise, take_party,
        tap_departure, tap_hold, tap_party), need_tour (check_availability, whats_on),
        questions (check_availability, choose_departure, enquire, full_option, hold_seats,
        revise, take_party, tap_departure, tap_hold), which_booking (about_booking,
        move_request)
  moving, also -> confirm_change (choose_move, move_request), idle (choose_move,
        reschedule_request), moving (move_request), which_booking (move_request)
  confirm_change, also -> confirm_change (apply_change), idle (apply_change, keep_change)
  which_booking, also -> choosing (check_availability, whats_on), confirm_change
        (check_availability, meant_booking, move_request), confirming (check_availability),
        full (check_availability), held (check_availability), idle (check_availability,
        meant_booking, meant_new, reschedule_request), moving (move_request), need_party
        (check_availability), need_tour (check_availability, whats_on), questions
        (check_availability), which_booking (move_request)
"""

from __future__ import annotations

import logging
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bot import keywords
from bot.booking_words import BALANCE, INVOICE, RECEIPT

log = logging.getLogger(__name__)

INFORM = "inform"


class State(StrEnum):
    IDLE = "idle"  # nothing in progress
    QUESTIONS = "questions"  # an enquiry's questions asked; answers go on its lead
    NEED_TOUR = "need_tour"  # asked which tour; its name continues the search
    CHOOSING = "choosing"  # numbered departures offered; waiting for a number
    NEED_PARTY = "need_party"  # a departure chosen; waiting for how many people
    CONFIRMING = "confirming"  # departure and party priced; waiting for yes to hold
    FULL = "full"  # the wanted departure is full: 1) nearest 2) waitlist 3) other dates
    HELD = "held"  # seats held; waiting for payment
    HANDOFF = "handoff"  # a person takes over; the bot stays quiet
    CONFIRM_CANCEL = "confirm_cancel"  # refund stated; waiting for yes to cancel
    MOVING = "moving"  # other dates offered for a booking; waiting for a number
    CONFIRM_CHANGE = "confirm_change"  # a booking's change stated with its price; yes makes it
    WHICH_BOOKING = "which_booking"  # asked: the booking they have, or a new one on that tour?


class Facts(Protocol):
    """What the rules look at. bot.turn.Reading works each out only when a rule asks, so
    STOP never waits for the NLU, nor a greeting for the waitlist query."""

    @property
    def from_guide(self) -> bool: ...  # written from an active guide's phone
    @property
    def keyword(self) -> str: ...  # the whole message, upper case, no punctuation
    @property
    def opts_out(self) -> bool: ...  # an opt-out (keywords.opts_out: on SMS, Twilio's)
    @property
    def opts_in(self) -> bool: ...
    @property
    def opted_out(self) -> bool: ...
    @property
    def state(self) -> State: ...  # HANDOFF whenever a person has taken over
    @property
    def text(self) -> str: ...
    @property
    def only_media(self) -> bool: ...  # a file and no words
    @property
    def with_file(self) -> bool: ...  # a file, with or without words
    @property
    def location(self) -> bool: ...  # a shared location pin
    @property
    def intent(self) -> str: ...  # the NLU's
    @property
    def told(self) -> frozenset[str]: ...  # the slots the message gives (tour, date, party)
    @property
    def party_given(self) -> bool: ...
    @property
    def answers_how_many(self) -> bool: ...  # a bare "4" just after "how many people?"
    @property
    def has_booking(self) -> bool: ...  # a booking or hold of theirs still to come
    @property
    def doubt_answer(self) -> str | None: ...  # in which_booking: "booking", "new" or None
    @property
    def booking_request(self) -> str | None: ...  # "add one more person": bot.booking_words
    @property
    def clear_yes(self) -> bool: ...  # "yes", "ok go ahead"; not "yes a manager. now."
    @property
    def clear_no(self) -> bool: ...
    @property
    def option(self) -> object: ...  # "2", "the last one" (-1)
    @property
    def waitlist_offer_open(self) -> bool: ...  # a freed seat offered to them, not expired
    @property
    def attends(self) -> bool: ...  # "yes we'll be there", "ja wir kommen!": a yes, nothing else
    @property
    def answers_reminder(self) -> bool: ...  # their booking's reminder is the last thing said
    @property
    def tap(self) -> str | None: ...  # the action of a tapped button or list row (TAPS)
    @property
    def asks_for_person(self) -> bool: ...  # the message or one of its sentences
    @property
    def asks(self) -> bool: ...  # a question in it (bot/knowledge.py: answered, or for a person)
    @property
    def pending_question(self) -> bool: ...  # a question waits for the tour it is about
    @property
    def asks_what_runs(self) -> bool: ...  # "what do you have Saturday?", no tour in mind
    @property
    def concern(self) -> object: ...  # urgent words (bot/concerns.py): a Concern or None
    @property
    def awaiting_person(self) -> bool: ...  # an urgent concern no person has answered yet


# --- the rules, in order ---------------------------------------------------------------

TABLE = "(the table)"  # a rule's handler: handler_for(state, intent)
TAP = "(the tap)"  # a rule's handler: TAPS[the tapped payload's action]
GUIDE_COMMAND = "guide_command"  # bot/guides.py, for a guide's message (no conversation)

# After an enquiry's questions, "pickup from Hotel Yak, two of us are vegetarian" reads to
# the NLU like a question about pickup and diet: only a question is answered as one.
QUESTION_START = re.compile(
    r"^\s*(what|when|where|which|who|why|how|is|are|do|does|did|can|could|will|would|"
    r"should|may|any)\b",
    re.IGNORECASE,
)
# The intents a bare number can come with while numbered departures are offered.
NUMBER_INTENTS = frozenset(
    {"nlu_fallback", "choose_option", "book", "hold", "affirm", "check_availability"}
)
# Read that way too when no question is asked: "ok we'll take the next date" (reschedule),
# "whichever is soonest" (ask_info); not "what does option 2 include?".
PICK_INTENTS = frozenset({"reschedule", "ask_info"})


# "what number am I in the queue?", "where am I on the waiting list?"
WAITLIST_PLACE = re.compile(
    r"\b(?:queue|wait(?:ing)?[\s-]?list|in line|my (?:place|position|number))\b", re.IGNORECASE
)


def looks_like_question(text: str) -> bool:
    return text.rstrip().endswith("?") or QUESTION_START.match(text) is not None


def answers_offer(m: Facts) -> bool:
    # The waitlist query only when the message could be a yes or a no.
    return (
        m.keyword in keywords.OFFER_YES | keywords.OFFER_NO or m.intent in ("affirm", "deny")
    ) and m.waitlist_offer_open


def _always(m: Facts) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    name: str  # what it is, in words
    then: str  # a handler's name, or TABLE
    when: Callable[[Facts], bool] = _always
    states: frozenset[State] | None = None  # only in these states; None: in any
    # The tour, dates and party the message gives are kept in the slots before the
    # handler runs (Turn.absorb_entities).
    keeps_details: bool = False
    intent: str | None = None  # for TABLE: look up this intent instead of the message's


_NAMED_REQUESTS = frozenset({RECEIPT, INVOICE, BALANCE})
# "change my booking from 2 to 3": a booking named, theirs or not (which_booking says
# when none is found for the number).
A_BOOKING = re.compile(
    r"\b(?:booking|reservation|reserva|r[eé]servation|resa|buchung|reservierung)\b", re.IGNORECASE
)


def names_a_booking(text: str) -> bool:
    return A_BOOKING.search(text) is not None


# What the NLU reads as about a booking one has, and the states of a search or price.
ABOUT_A_BOOKING = frozenset({"booking_status", "reschedule"})
PRICING = frozenset({State.CHOOSING, State.NEED_PARTY, State.CONFIRMING, State.FULL})


def _in(*states: State) -> frozenset[State]:
    return frozenset(states)


RULES: tuple[Rule, ...] = (
    # Who is writing: guides are staff, their messages are commands (bot/guides.py),
    # logged without a conversation. Everyone else is a customer.
    Rule("from a guide's phone: a guide command", GUIDE_COMMAND, lambda m: m.from_guide),
    # Words that act before any understanding (bot/keywords.py).
    # On SMS Twilio has already blocked an opt-out (its words, or its OptOutType); on
    # WhatsApp, CANCEL from someone with a booking is about the booking (below).
    Rule("STOP and the other opt-out words", "opt_out", lambda m: m.opts_out),
    Rule("START: subscribed again", "opt_in", lambda m: m.opts_in),
    Rule("opted out: nothing else is said", "stay_silent", lambda m: m.opted_out),
    Rule("HELP", "send_help", lambda m: m.keyword in keywords.HELP),
    Rule("MENU / RESTART: start over", "start_over", lambda m: m.keyword in keywords.RESET),
    # Someone hurt, a guide who did not come, a refund demanded, anger: a person, now
    # (bot/complaints.py); in a handoff too, unless a person is already on an urgent one.
    Rule(
        "a complaint, a refund demanded, a no-show, someone hurt: urgent, to a person",
        "urgent_handoff",
        lambda m: m.concern is not None and not (m.state == State.HANDOFF and m.awaiting_person),
    ),
    # A person has taken over: only the words above reach the bot.
    Rule(
        "a person is answering: the bot stays quiet", "wait_for_person", states=_in(State.HANDOFF)
    ),
    # A tap on a WhatsApp button or list row goes straight to its own transition, no NLU;
    # each tap handler checks the tap is about what is open now (TAPS).
    Rule("a tap on a button or list row: its own transition", TAP, lambda m: m.tap is not None),
    # "Will you be there?" (the pre-departure reminder, the last thing said to them): a
    # typed yes is the "I'll be there" button, whatever was open before the reminder (a
    # hold since paid, an old cancellation question). Not while a waitlist offer waits.
    Rule(
        "a yes to the reminder just sent: I'll be there",
        "attending",
        lambda m: m.attends and m.answers_reminder and not m.waitlist_offer_open,
    ),
    # "Reply YES to cancel" takes a clear yes or no; anything else lets it lapse.
    Rule(
        "a clear yes to the cancellation",
        "confirm_cancel",
        lambda m: m.keyword in keywords.CLEAR_YES or m.clear_yes,
        states=_in(State.CONFIRM_CANCEL),
    ),
    Rule(
        "no: keep the booking",
        "keep_booking",
        lambda m: m.keyword in keywords.CLEAR_NO or m.clear_no,
        states=_in(State.CONFIRM_CANCEL),
    ),
    Rule(
        "anything else: it lapses, the message is answered afresh",
        "lapse_cancel",
        states=_in(State.CONFIRM_CANCEL),
    ),
    Rule("a file and no words", "file_received", lambda m: m.only_media),
    Rule("a location pin", "location_pin", lambda m: m.location),
    Rule("AGENT / HUMAN: a person, please", "handoff", lambda m: m.keyword in keywords.AGENT),
    # "can I talk to someone? I have questions about the trek": a person, with the tour
    # kept for their context, before the rest of the message is answered by the bot.
    # "can I have a receipt please" reads to the classifiers like asking for a person: a
    # receipt, an invoice or the balance named outright is answered as asked.
    Rule(
        "asks for a person, in any sentence (not a receipt, an invoice, the balance)",
        "handoff",
        lambda m: m.asks_for_person and m.booking_request not in _NAMED_REQUESTS,
        keeps_details=True,
    ),
    Rule("yes or no to an open waitlist offer", "answer_waitlist_offer", answers_offer),
    # A booking's change waits for a clear yes; anything else lets it lapse (LAPSES).
    Rule(
        "a clear yes, and nothing else, to the change stated",
        "apply_change",
        lambda m: m.clear_yes,
        states=_in(State.CONFIRM_CHANGE),
    ),
    Rule(
        "a clear no to the change stated",
        "keep_change",
        lambda m: m.clear_no,
        states=_in(State.CONFIRM_CHANGE),
    ),
    Rule(
        "a number from the dates offered for the booking (yes: the only one)",
        "choose_move",
        lambda m: isinstance(m.option, int) or m.clear_yes,
        states=_in(State.MOVING),
    ),
    # "Did you mean your booking, or a new one?" (bot/which_booking.py); anything else
    # lets the question lapse (LAPSES).
    Rule(
        "the booking they have (yes, that one, its reference or tour)",
        "meant_booking",
        lambda m: m.doubt_answer == "booking",
        states=_in(State.WHICH_BOOKING),
    ),
    Rule(
        "a new booking on the tour they named",
        "meant_new",
        lambda m: m.doubt_answer == "new",
        states=_in(State.WHICH_BOOKING),
    ),
    # The customer's bookings come first (bot/my_bookings.py).
    Rule(
        "about their booking: people, another date, the balance, a receipt, an invoice",
        "about_booking",
        lambda m: m.booking_request is not None,
    ),
    # From here on, what the message says (tour, dates, party) is kept first.
    Rule(
        "a bare number answering 'how many people?'",
        "party_answer",
        lambda m: m.answers_how_many,
        keeps_details=True,
    ),
    Rule(
        "the party for the chosen departure",
        "take_party",
        lambda m: m.party_given,
        states=_in(State.NEED_PARTY),
        keeps_details=True,
    ),
    Rule(
        "a number from the list",
        "choose_departure",
        lambda m: (
            isinstance(m.option, int)
            and (m.intent in NUMBER_INTENTS or (m.intent in PICK_INTENTS and not m.asks))
        ),
        states=_in(State.CHOOSING),
        keeps_details=True,
    ),
    # Before the questions: "o que há para fazer amanhã?" asks for the day's list, not for
    # the catalog's description of a tour the customer has not chosen.
    Rule(
        "a day asked, no tour in mind: all tours that day",
        "whats_on",
        lambda m: m.asks_what_runs,
        states=_in(State.IDLE, State.NEED_TOUR, State.QUESTIONS),
        keeps_details=True,
    ),
    Rule(
        "asks their place on the waitlist",
        "booking_status",
        lambda m: looks_like_question(m.text) and WAITLIST_PLACE.search(m.text) is not None,
    ),
    # "somos eu e minha esposa" (to the NLU a booking's status: "my"), "se puede cambiar a
    # 2 adultos y 1 niño?" with a price open (to the NLU a booking moved): the party of the
    # search or the price under way, when there is no booking it could be about.
    Rule(
        "a party in a booking's words, pricing or with no booking: an answer",
        TABLE,
        lambda m: (
            m.intent in ABOUT_A_BOOKING
            and m.party_given
            and (m.state in PRICING or not (m.has_booking or names_a_booking(m.text)))
        ),
        keeps_details=True,
        intent=INFORM,
    ),
    # Questions first, whatever the state (a quote stays open); the rest of the message
    # (a request, a correction) goes on to the table from there (bot/knowledge.py).
    Rule(
        "asks a question (answered from the catalog, or passed to a person)",
        "answer_questions",
        lambda m: m.asks,
        keeps_details=True,
    ),
    # "ok 2 adults 1 kid (9)", "wait my sister is coming too, so 3 of us": the list priced
    # again for them, whatever intent the words suggest (not a waitlist, not a pick).
    Rule(
        "the party for the departures listed, no number picked",
        TABLE,
        lambda m: m.party_given and not isinstance(m.option, int),
        states=_in(State.CHOOSING),
        keeps_details=True,
        intent=INFORM,
    ),
    # "how much for the kids?": the listed departures' prices per person; the list stays.
    Rule(
        "the price asked, nothing new said: the listed prices",
        "list_prices",
        lambda m: m.intent == "ask_price" and not m.told,
        states=_in(State.CHOOSING),
    ),
    Rule(
        "a complaint waits for a person: cancelling waits too",
        "complaint_pending",
        lambda m: (
            (m.intent == "cancel_booking" or m.keyword == keywords.CANCEL) and m.awaiting_person
        ),
    ),
    # Not an opt-out here (WhatsApp; SMS with CANCEL dropped from Advanced Opt-Out).
    Rule(
        "CANCEL alone, from someone with a booking",
        "cancel_request",
        lambda m: m.keyword == keywords.CANCEL and m.has_booking,
        states=_in(State.IDLE, State.QUESTIONS, State.NEED_TOUR, State.HELD),
    ),
    Rule(
        "names the tour a question was about",
        "answer_questions",
        lambda m: m.pending_question and m.told == frozenset({"tour"}),
        keeps_details=True,
    ),
    # "actually can we do saturday instead? and one of us is gluten free" reads as a search;
    # just after a hold it is that hold moved (a yes makes it), never a second hold.
    Rule(
        "just held, another day or time asked for: the hold moved",
        "revise",
        lambda m: (
            m.intent in ("check_availability", "ask_price", "book", "hold")
            and bool(m.told)
            and m.told <= {"date", "dates", "month", "week", "time", "daypart"}
        ),
        states=_in(State.HELD),
        keeps_details=True,
    ),
    # "can we do next saturday instead?", "what about saturday then" while departures are
    # on offer: another day for this search (read as a move or an enquiry), not a booking
    # to move (there is none) nor a new lead.
    Rule(
        "a search's new day or party",
        TABLE,
        lambda m: (
            m.intent in ("reschedule", "enquire")
            and bool(m.told)
            and m.told <= {"date", "dates", "month", "week", "time", "daypart", "party"}
        ),
        states=_in(State.CHOOSING, State.CONFIRMING, State.FULL),
        keeps_details=True,
        intent=INFORM,
    ),
    Rule(
        "an enquiry that names a tour and a day: that day's departures",
        "check_availability",
        lambda m: m.intent == "enquire" and {"tour", "date"} <= m.told,
        keeps_details=True,
    ),
    Rule(
        "names a tour, date or party, and no request the table knows: an answer",
        TABLE,
        # "bonjour, food tour pour 2 adultes": a greeting with a request in it.
        lambda m: (
            bool(m.told) and (handler_for(m.state, m.intent) == OTHERWISE or m.intent == "greet")
        ),
        keeps_details=True,
        intent=INFORM,
    ),
    # "ok 👍", "vale gracias", "si, ahi estaremos" after "Great, see you on…": a line back,
    # not the menu. A yes to something open is read by the rules above or the table (its
    # state is not IDLE).
    Rule(
        "nothing open, only an ok, a yes or a thanks: acknowledged",
        "acknowledge",
        lambda m: (
            not m.pending_question
            and (
                keywords.acknowledges(m.text)
                or (m.intent == "affirm" and not m.told and not looks_like_question(m.text))
            )
        ),
        states=_in(State.IDLE),
    ),
    Rule("the table: (state, intent), else the intent in any state", TABLE, keeps_details=True),
)


# --- taps: a WhatsApp button or list row's payload -> handler -----------------------------

# A payload is "tb1:<action>:<what>" (services.whatsapp_content.payload): the action picks
# the handler, which checks that <what> (a departure, a quote, an offer, a booking) is
# still what is open before doing anything; a tap on an old message gets a clear answer.
TAPS: dict[str, str] = {
    "dep": "tap_departure",  # a departure from a list
    "near": "tap_departure",  # the nearest date to a full one
    "hold": "tap_hold",  # yes to a price: hold the seats
    "party": "tap_party",  # a price, for another party
    "dates": "tap_other_dates",  # a price or a full date: other dates
    "wait": "tap_waitlist",  # a full date: its waitlist
    "confirm": "tap_offer",  # a waitlist offer: yes
    "decline": "tap_offer",  # a waitlist offer: no
    "cancel": "tap_cancel",  # yes, cancel the booking
    "keep": "tap_cancel",  # no, keep it
    "coming": "tap_reminder",  # the pre-departure reminder: I'll be there
    "change": "tap_reminder",  # ... I need to change (a task for the rep)
    "cancelask": "tap_reminder",  # ... cancel booking (the refund stated, then yes)
}
TAP_PREFIX = "tb1:"


def _tap_parts(payload: str | None) -> tuple[str, str] | None:
    if not payload or not payload.startswith(TAP_PREFIX):
        return None
    action, _, arg = payload[len(TAP_PREFIX) :].partition(":")
    return (action, arg) if action in TAPS and arg else None


def tap_action(payload: str | None) -> str | None:
    parts = _tap_parts(payload)
    return parts[0] if parts else None


def tap_arg(payload: str | None) -> str:
    parts = _tap_parts(payload)
    return parts[1] if parts else ""


# --- the (state, intent) table ---------------------------------------------------------

# (state, intent) -> handler name. Checked first.
TRANSITIONS: dict[tuple[State, str], str] = {
    (State.QUESTIONS, INFORM): "lead_details",
    (State.QUESTIONS, "nlu_fallback"): "lead_details",
    (State.QUESTIONS, "deny"): "lead_details",
    (State.QUESTIONS, "ask_info"): "lead_details",  # a statement; questions: see RULES
    (State.QUESTIONS, "affirm"): "check_availability",
    (State.NEED_TOUR, "enquire"): "check_availability",
    (State.NEED_TOUR, "ask_info"): "check_availability",
    (State.NEED_TOUR, INFORM): "check_availability",
    (State.CHOOSING, INFORM): "revise",
    (State.CONFIRMING, INFORM): "revise",
    (State.FULL, INFORM): "revise",
    (State.CHOOSING, "choose_option"): "choose_departure",
    (State.CHOOSING, "book"): "choose_departure",
    (State.CHOOSING, "hold"): "choose_departure",
    (State.CHOOSING, "affirm"): "choose_departure",
    (State.NEED_PARTY, "choose_option"): "take_party",
    (State.CONFIRMING, "affirm"): "hold_seats",
    (State.CONFIRMING, "hold"): "hold_seats",
    (State.CONFIRMING, "book"): "hold_seats",
    (State.CONFIRMING, "pay"): "hold_seats",
    (State.CONFIRMING, "deny"): "drop_offer",
    (State.FULL, "choose_option"): "full_option",
    (State.FULL, "join_waitlist"): "join_waitlist",
    (State.FULL, "affirm"): "join_waitlist",
    (State.FULL, "deny"): "drop_offer",
    (State.HELD, "affirm"): "payment_link",
    (State.HELD, "pay"): "payment_link",
    (State.MOVING, INFORM): "move_request",  # "Sunday then?": dates again
}

# intent -> handler name, in any state without a specific transition.
ANY_STATE: dict[str, str] = {
    "greet": "greet",
    "enquire": "enquire",
    "check_availability": "check_availability",
    "ask_price": "check_availability",
    "book": "check_availability",
    "hold": "check_availability",
    "join_waitlist": "join_waitlist",
    "human_handoff": "handoff",
    "booking_status": "booking_status",
    "cancel_booking": "cancel_request",
    "reschedule": "move_request",
    "pay": "pay_balance",
    "ask_info": "tour_info",
    "thanks": "thanks",
    "goodbye": "goodbye",
    "affirm": "menu",
    "deny": "menu",
    "choose_option": "menu",
    "nlu_fallback": "menu",
    INFORM: "revise",
}
OTHERWISE = "menu"  # an intent neither table knows


def handler_for(state: State, intent: str) -> str:
    return TRANSITIONS.get((state, intent)) or ANY_STATE.get(intent, OTHERWISE)


@dataclass(frozen=True)
class Route:
    rule: Rule
    handler: str


# Handlers whose answer to words alone (the menu, a tour's card, a greeting) would miss
# the point when a file comes with them: "is this the right place? [photo]", "here is my
# passport copy for the trek permit [pdf]" are about the file, for a person.
DESCRIBE_A_FILE = frozenset({"menu", "tour_info", "greet", "thanks", "goodbye", "acknowledge"})


def route(m: Facts) -> Route:
    """The first rule that applies, and the handler it names (words that describe a file
    sent with them: the file's handler)."""
    for rule in RULES:
        if (rule.states is None or m.state in rule.states) and rule.when(m):
            if rule.then == TAP:
                return Route(rule, TAPS[str(m.tap)])
            handler = rule.then
            if handler == TABLE:
                handler = handler_for(m.state, rule.intent or m.intent)
            if handler in DESCRIBE_A_FILE and m.with_file:
                handler = "file_received"
            return Route(rule, handler)
    raise AssertionError("the last rule applies to every message")


# --- the moves each handler may make ---------------------------------------------------


@dataclass(frozen=True)
class Moves:
    to: frozenset[State] = frozenset()  # the states it may move the conversation to
    instead: frozenset[str] = frozenset()  # the handlers it may pass the message on to


def may(*to: State, instead: tuple[str, ...] = ()) -> Moves:
    return Moves(frozenset(to), frozenset(instead))


# Offering a departure (quoting.propose): priced -> CONFIRMING, no party yet -> NEED_PARTY, a group
# too big for one booking -> QUESTIONS (a lead for sales), gone -> IDLE.
_PROPOSE = (State.CONFIRMING, State.NEED_PARTY, State.QUESTIONS, State.IDLE)

# handler name -> its moves. A handler that does not move leaves the state as it was.
MOVES: dict[str, Moves] = {
    GUIDE_COMMAND: may(),  # guides have no conversation
    "opt_out": may(),
    "opt_in": may(),
    "stay_silent": may(),
    "send_help": may(),
    "start_over": may(State.IDLE),
    "wait_for_person": may(),
    "urgent_handoff": may(State.HANDOFF),
    "complaint_pending": may(State.IDLE),
    "file_received": may(State.HANDOFF),
    "location_pin": may(),
    "greet": may(),
    "thanks": may(),
    "acknowledge": may(),
    "goodbye": may(),
    "menu": may(),
    "tour_info": may(),
    # The rest of the message goes to the handler the table names for it.
    "answer_questions": may(
        instead=tuple(sorted((set(TRANSITIONS.values()) | set(ANY_STATE.values())) - {"menu"}))
    ),
    "handoff": may(State.HANDOFF),
    "enquire": may(State.QUESTIONS),
    # The lead was closed meanwhile, or an empty message: the menu instead.
    "lead_details": may(State.IDLE, instead=("menu",)),
    # A day they already hold: that booking named (HELD), or a new party offered as its
    # change (CONFIRM_CHANGE); the one departure at the time asked: quoted (_PROPOSE).
    # No tour in mind, a day asked: every tour's departures that day (whats_on).
    "check_availability": may(
        State.NEED_TOUR,
        State.CHOOSING,
        State.FULL,
        State.HELD,
        State.CONFIRM_CHANGE,
        *_PROPOSE,
        instead=("whats_on",),
    ),
    # A list across tours -> CHOOSING; nothing with room that day -> NEED_TOUR.
    "whats_on": may(State.CHOOSING, State.NEED_TOUR),
    # Only the party changed: the same departure priced again; else a new search.
    # "the 6pm one" of a list: chosen (FULL when it has no room).
    # Just held, a new date or party: the hold moved or changed (a yes makes it).
    "revise": may(
        *_PROPOSE,
        State.FULL,
        State.CONFIRM_CHANGE,
        instead=("check_availability", "move_request"),
    ),
    # A full departure picked from a day's list: FULL's choices.
    # "ok hold" / "book it" of the one listed (or the day said): held (hold_seats).
    "choose_departure": may(*_PROPOSE, State.FULL, instead=("hold_seats",)),
    "take_party": may(*_PROPOSE),
    "list_prices": may(),  # the list stays open
    # Goes on with what asked: the quote, the waitlist, the enquiry, else a search.
    "party_answer": may(instead=("take_party", "join_waitlist", "lead_details", "revise")),
    # Nothing chosen to hold: a search instead; seats just gone: FULL's choices.
    "hold_seats": may(State.HELD, State.FULL, *_PROPOSE, instead=("check_availability",)),
    "drop_offer": may(State.IDLE),
    # 1) the nearest date 2) the waitlist, instead 3) other dates.
    "full_option": may(*_PROPOSE, State.CHOOSING, instead=("join_waitlist",)),
    "join_waitlist": may(State.FULL, State.IDLE),  # FULL: asked how many people
    "answer_waitlist_offer": may(State.HELD),
    "booking_status": may(),
    "cancel_request": may(State.CONFIRM_CANCEL),
    "confirm_cancel": may(State.IDLE),
    # The message is answered afresh, by whatever handles it in a new conversation.
    "lapse_cancel": may(State.IDLE),  # instead: whatever a fresh message reaches (below)
    "keep_booking": may(State.IDLE),
    "reschedule_request": may(State.IDLE),
    "payment_link": may(instead=("pay_balance",)),
    # The request's handler by kind: a change stated -> CONFIRM_CHANGE.
    # A tour named they have no booking on: WHICH_BOOKING (bot/which_booking.py).
    "about_booking": may(
        State.CONFIRM_CHANGE, State.WHICH_BOOKING, instead=("move_request", "pay_balance")
    ),
    # Dates offered -> MOVING, or the one date named -> CONFIRM_CHANGE; none with room:
    # staff asked instead.
    "move_request": may(
        State.MOVING,
        State.CONFIRM_CHANGE,
        State.WHICH_BOOKING,
        instead=("reschedule_request",),
    ),
    # The request, about the booking they have (its change stated), or a new booking.
    "meant_booking": may(State.CONFIRM_CHANGE, State.IDLE, instead=("move_request",)),
    "meant_new": may(State.IDLE, instead=("check_availability",)),
    "choose_move": may(State.CONFIRM_CHANGE, State.IDLE),
    # Made -> IDLE; the price moved meanwhile: stated again.
    "apply_change": may(State.IDLE, State.CONFIRM_CHANGE),
    "keep_change": may(State.IDLE),
    "pay_balance": may(),
    # Taps (bot/taps.py): a stale tap is answered and moves nothing.
    "tap_departure": may(*_PROPOSE, State.FULL),
    "tap_hold": may(*_PROPOSE, instead=("hold_seats",)),
    "tap_party": may(State.NEED_PARTY),
    "tap_other_dates": may(State.CHOOSING),
    "tap_waitlist": may(instead=("join_waitlist",)),
    "tap_offer": may(State.HELD),
    "tap_cancel": may(instead=("confirm_cancel", "keep_booking")),
    "tap_reminder": may(State.CONFIRM_CANCEL),
    "attending": may(State.IDLE),
}

# A cancellation that lapses passes the message to whatever answers it in a fresh
# conversation: any customer handler but the cancellation's own answers.
_FRESH = (
    {r.then for r in RULES if r.then not in (TABLE, GUIDE_COMMAND, TAP)}  # taps come first
    | set(TRANSITIONS.values())
    | set(ANY_STATE.values())
    | {OTHERWISE}
) - {"confirm_cancel", "keep_booking", "lapse_cancel"}
MOVES["lapse_cancel"] = may(State.IDLE, instead=tuple(sorted(_FRESH)))

# A state waiting for a clear yes, and the handlers that answer it: any other handler
# finds the question lapsed (Turn.lapse: back to idle, the pending change forgotten)
# before it runs, so a yes in a later message confirms nothing.
LAPSES: dict[State, frozenset[str]] = {
    State.CONFIRM_CHANGE: frozenset({"apply_change", "keep_change"}),
    State.WHICH_BOOKING: frozenset({"meant_booking", "meant_new"}),
}

# What staff do from the admin (bot/staff.py), in whatever state the conversation is.
STAFF_MOVES: dict[str, Moves] = {
    "expect_quote_answer": may(State.CONFIRMING),  # a quote sent: YES holds it
    "hand_back": may(State.IDLE),  # resolved in the inbox: the bot answers again
}


class UndeclaredMove(Exception):
    pass


# Tests set this (tests/conftest.py): an undeclared move is a bug there. In production it
# is logged and made anyway: the reply already given asks for the answer that state
# expects, and refusing would misroute the customer's next message to protect a diagram.
STRICT = False


def check_move(handler: str | None, state: State) -> None:
    moves = MOVES.get(handler or "") or STAFF_MOVES.get(handler or "")
    if moves is not None and state in moves.to:
        return
    problem = f"{handler or 'no handler'} moved a conversation to {state}, not declared in MOVES"
    if STRICT:
        raise UndeclaredMove(problem)
    log.error(problem)


def check_instead(handler: str | None, other: str) -> None:
    moves = MOVES.get(handler or "")
    if moves is not None and other in moves.instead:
        return
    problem = f"{handler or 'no handler'} passed a message on to {other}, not declared in MOVES"
    if STRICT:
        raise UndeclaredMove(problem)
    log.error(problem)


# --- the graph, from the data above ----------------------------------------------------


def _passed_on(names: set[str]) -> set[str]:
    """The handlers, and every handler they may pass the message on to."""
    names, todo = set(names), list(names)
    while todo:
        for other in MOVES[todo.pop()].instead - names:
            names.add(other)
            todo.append(other)
    return names


def _takes_all(rule: Rule, state: State) -> bool:
    return rule.when is _always and rule.states is not None and state in rule.states


def handlers_in(state: State) -> set[str]:
    """The handlers a message can reach in this state: the rules up to the first that takes
    every message in it, the table, and whatever those pass the message on to."""
    names: set[str] = set()
    for rule in RULES:
        if rule.states is not None and state not in rule.states:
            continue
        if rule.then == TABLE:
            names |= {h for (s, _), h in TRANSITIONS.items() if s == state}
            names |= set(ANY_STATE.values()) | {OTHERWISE}
        elif rule.then == TAP:
            names |= set(TAPS.values())
        else:
            names.add(rule.then)
        if rule.when is _always:  # takes every message from here
            break
    return _passed_on(names)


def leads_to(state: State) -> set[State]:
    """Where a customer's message can move a conversation in this state (staying is
    always possible)."""
    return {to for name in handlers_in(state) for to in MOVES[name].to} - {state}


def _edges(origin: str, names: set[str]) -> list[str]:
    """ "origin -> state (the handlers that move there), ...", wrapped."""
    by_target: dict[State, list[str]] = {}
    for name in sorted(_passed_on(names)):
        for to in MOVES[name].to:
            by_target.setdefault(to, []).append(name)
    text = ", ".join(f"{to} ({', '.join(by)})" for to, by in sorted(by_target.items()))
    return textwrap.wrap(f"{origin} -> {text or '(stays)'}", 92, subsequent_indent="      ")


def describe() -> str:
    """The rules, the table, the moves and the resulting graph, as text."""
    out = ["Rules, in order; the first that applies answers the message:"]
    keeping = False
    for n, rule in enumerate(RULES, 1):
        if rule.keeps_details and not keeping:
            out.append("     (from here on, the message's tour, dates and party are kept first)")
        keeping = rule.keeps_details
        where = f"in {'/'.join(sorted(rule.states))}: " if rule.states else ""
        then = {TABLE: "the table", TAP: "the tap's handler (below)"}.get(rule.then, rule.then)
        if rule.intent:
            then += f" as '{rule.intent}'"
        out.append(f"{n:>3}. {where}{rule.name} -> {then}")
    out += ["", "The table, state: intents -> handler:"]
    for state in State:
        by_handler: dict[str, list[str]] = {}
        for (s, intent), name in TRANSITIONS.items():
            if s == state:
                by_handler.setdefault(name, []).append(intent)
        for name, intents in by_handler.items():
            out.append(f"  {state}: {', '.join(intents)} -> {name}")
    out += ["", "Taps on a WhatsApp button or list row, the payload's action -> handler:"]
    by_tap: dict[str, list[str]] = {}
    for action, name in TAPS.items():
        by_tap.setdefault(name, []).append(action)
    out += [f"  {', '.join(actions)} -> {name}" for name, actions in by_tap.items()]
    out += ["", f"In any state, intents -> handler (any other intent: {OTHERWISE}):"]
    by_handler = {}
    for intent, name in ANY_STATE.items():
        by_handler.setdefault(name, []).append(intent)
    out += [f"  {', '.join(intents)} -> {name}" for name, intents in by_handler.items()]
    out += ["", "Handler -> the states it may move to (; instead: what it may pass on to):"]
    for name, moves in {**MOVES, **STAFF_MOVES}.items():
        line = f"  {name} -> {', '.join(sorted(moves.to)) or '(stays)'}"
        if moves.instead:
            line += f"; instead: {', '.join(sorted(moves.instead))}"
        line += "  [staff, from the admin]" if name in STAFF_MOVES else ""
        out += textwrap.wrap(line, 92, subsequent_indent="      ")
    out += ["", "The graph: where a message moves a conversation (by which handlers):"]
    anywhere = {r.then for r in RULES if r.states is None and r.then not in (TABLE, TAP)}
    anywhere |= set(ANY_STATE.values()) | {OTHERWISE} | set(TAPS.values())
    out += [f"  {line}" for line in _edges("any state", anywhere)]
    for state in State:
        if any(_takes_all(rule, state) for rule in RULES):
            out += [f"  {line}" for line in _edges(f"{state}, only", handlers_in(state))]
            continue
        own = {
            r.then for r in RULES if r.states and state in r.states and r.then not in (TABLE, TAP)
        }
        own |= {h for (s, _), h in TRANSITIONS.items() if s == state}
        if own:
            out += [f"  {line}" for line in _edges(f"{state}, also", own)]
    return "\n".join(out)


def _write_docstring() -> None:
    """Replaces the generated part of this module's docstring with describe()."""
    path = Path(__file__)
    source = path.read_text()
    start = source.index(_GENERATED_AFTER) + len(_GENERATED_AFTER)
    end = source.index('"""', start)
    path.write_text(source[:start] + describe() + "\n" + source[end:])


_GENERATED_AFTER = "keeps it in sync):\n\n"

if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _write_docstring()
    else:
        print(describe())
