"""Handlers for an enquiry: the lead is made and its open questions asked (dates, party,
special requirements); the answers go on the lead for the rep."""

from __future__ import annotations

from bot.general import menu, tour_names
from bot.lead_capture import ensure_lead, note_details, open_lead, update_lead_context
from bot.states import State
from bot.turn import ASKED_PARTY, Turn
from services.pricing import MAX_PARTY, party_size


def enquire(turn: Turn) -> None:
    voice = turn.voice
    lead, _ = ensure_lead(turn)
    tour = turn.tour()
    thanks = voice._(
        "Thank you for your interest in {what}! Your enquiry reference is {reference}.",
        what=tour.name if tour else voice._("our tours"),
        reference=lead.reference,
    )
    if turn.welcome_back and turn.customer.name:
        thanks = voice._("Welcome back, {name}!", name=turn.customer.name) + " " + thanks
    lines = [
        thanks,
        voice._("{rep} will get back to you shortly.", rep=lead.assigned_to.name)
        if lead.assigned_to
        else voice._("Our team will get back to you shortly."),
    ]
    questions = _open_questions(turn)
    if tour is None:
        # "what tours do you have?": the answer, not only questions back.
        questions.insert(
            0, voice._("Which tour would you like? We run: {tours}.", tours=tour_names(turn))
        )
    questions.append(voice._("Any special requirements (diet, pickup, fitness)?"))
    lines.append(voice._("Meanwhile, could you tell me:"))
    lines += [f"{i}. {q}" for i, q in enumerate(questions, 1)]
    turn.say("\n".join(lines))
    turn.goto(State.QUESTIONS)


def _open_questions(turn: Turn) -> list[str]:
    questions = []
    if turn.wanted_dates() == (None, None):
        questions.append(turn.voice._("Which dates suit you (or how flexible are you)?"))
    if not turn.party():
        questions.append(turn.voice._("How many people, and any children?"))
        turn.ask(ASKED_PARTY)
    return questions


def lead_details(turn: Turn) -> None:
    """Answers to the enquiry's questions ("2 adults, 1 child, vegetarian"): onto the lead
    in the customer's words, for the rep; then whatever is still open."""
    lead = open_lead(turn)
    if lead is None:  # won, lost or unbound meanwhile: nothing to add them to
        turn.goto(State.IDLE)
        turn.instead(menu)
        return
    if not turn.text.strip():  # an empty message (a sticker, a bad pin) answers nothing
        turn.instead(menu)
        return
    if turn.result.intent == "deny":  # "no" / "none" is an answer, not a note
        update_lead_context(turn, lead)
    else:
        note_details(turn, lead)
    voice = turn.voice
    if turn.result.intent == "deny":
        lines = [voice._("All right.")]
    elif lead.assigned_to:
        lines = [
            voice._(
                "Thanks, noted on your enquiry {reference} for {rep}.",
                reference=lead.reference,
                rep=lead.assigned_to.name,
            )
        ]
    else:
        lines = [
            voice._(
                "Thanks, noted on your enquiry {reference} for our team.",
                reference=lead.reference,
            )
        ]
    questions = _open_questions(turn)
    if questions:
        lines.append(" ".join(questions))
    elif turn.tour() is not None and party_size(turn.party() or {}) <= MAX_PARTY:
        lines.append(voice._("Reply YES and I'll check which departures have room."))
    lines.append(voice._("Reply MENU for anything else."))
    turn.say("\n".join(lines))
