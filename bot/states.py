"""The conversation state machine, at a glance.

A turn looks up (state, intent) in TRANSITIONS, falling back to ANY_STATE, and runs the
named handler (bot/handlers.py), which calls the services and sets the next state.
"inform" is a message the NLU could not classify that still names a tour, a date or a
party: an answer or a correction.
Before this table: opt-out keywords, an open waitlist offer (CONFIRM / DECLINE) and the
handoff silence (bot/engine.py).

    idle ──enquire──────────────▶ questions (lead created, open questions asked)
    questions ──inform/other text──▶ questions (answers noted on the lead)
              ──yes──▶ choosing (the dates they gave)
    idle ──check_availability──▶ choosing (numbered departures)     ──▶ full (date full)
                                  └─ no tour named ──▶ need_tour ──(a tour)──▶ choosing
    choosing/confirming/full ──inform──▶ quoted again with the new party, dates or tour
    choosing ──choose_option──▶ confirming (price shown)             ──▶ need_party
    need_party ──(party given)─▶ confirming
    confirming ──affirm/hold/book──▶ held (booking HELD, payment link)
                                     └─ seats gone ──▶ full (booking_failed lead, alternatives)
    full ──1──▶ confirming (nearest alternative)   ──2──▶ idle (on the waitlist)
         ──3──▶ choosing (other dates)
    any ──cancel_booking──▶ confirm_cancel (refund stated) ──yes──▶ idle (cancelled, refunded)
    any ──human_handoff──▶ handoff (bot quiet until MENU)
"""

from __future__ import annotations

from enum import StrEnum

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


# (state, intent) -> handler name. Checked first.
TRANSITIONS: dict[tuple[State, str], str] = {
    (State.QUESTIONS, INFORM): "lead_details",
    (State.QUESTIONS, "nlu_fallback"): "lead_details",
    (State.QUESTIONS, "deny"): "lead_details",
    (State.QUESTIONS, "ask_info"): "detail_or_question",
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
    (State.CONFIRM_CANCEL, "affirm"): "confirm_cancel",
    (State.CONFIRM_CANCEL, "cancel_booking"): "confirm_cancel",
    (State.CONFIRM_CANCEL, "deny"): "keep_booking",
    (State.HELD, "pay"): "payment_link",
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
    "reschedule": "reschedule_request",
    "pay": "payment_link",
    "ask_info": "tour_info",
    "thanks": "thanks",
    "goodbye": "goodbye",
    "affirm": "menu",
    "deny": "menu",
    "choose_option": "menu",
    "nlu_fallback": "menu",
    INFORM: "revise",
}


def handler_for(state: State, intent: str) -> str:
    return TRANSITIONS.get((state, intent)) or ANY_STATE.get(intent, "menu")
