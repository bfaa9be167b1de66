"""Every handler bot/states.py names, by name, and the module it lives in. A handler says
something and may move the conversation (only where states.MOVES allows); it never commits
(the webhook does, once, for the whole turn)."""

from __future__ import annotations

from bot import (
    attachments,
    booking,
    booking_requests,
    complaints,
    departure_lists,
    enquiries,
    general,
    holding,
    keyword_answers,
    knowledge,
    my_bookings,
    states,
    taps,
    waitlist,
    which_booking,
)
from bot.states import Route
from bot.turn import Handler, Turn

HANDLERS: dict[str, Handler] = {
    # keyword_answers: words that act before any understanding
    "opt_out": keyword_answers.opt_out,
    "opt_in": keyword_answers.opt_in,
    "stay_silent": keyword_answers.stay_silent,
    "send_help": keyword_answers.send_help,
    "start_over": keyword_answers.start_over,
    # attachments
    "file_received": attachments.file_received,
    "location_pin": attachments.location_pin,
    # general
    "greet": general.greet,
    "thanks": general.thanks,
    "acknowledge": general.acknowledge,
    "goodbye": general.goodbye,
    "menu": general.menu,
    "tour_info": general.tour_info,
    "answer_questions": knowledge.answer_questions,
    "handoff": general.handoff,
    "wait_for_person": general.wait_for_person,
    # complaints: urgent handoffs, and never a harmful yes
    "urgent_handoff": complaints.urgent_handoff,
    "complaint_pending": complaints.complaint_pending,
    "lapse_cancel": complaints.lapse_cancel,
    # enquiries
    "enquire": enquiries.enquire,
    "lead_details": enquiries.lead_details,
    # booking: search, quote, hold
    "check_availability": booking.check_availability,
    "revise": booking.revise,
    "choose_departure": booking.choose_departure,
    "take_party": holding.take_party,
    "list_prices": booking.list_prices,
    "party_answer": holding.party_answer,
    "hold_seats": holding.hold_seats,
    "full_option": holding.full_option,
    "drop_offer": holding.drop_offer,
    "whats_on": departure_lists.whats_on,
    # waitlist
    "join_waitlist": waitlist.join_waitlist,
    "answer_waitlist_offer": waitlist.answer_waitlist_offer,
    # booking_requests: the customer's existing bookings
    "booking_status": booking_requests.booking_status,
    "cancel_request": booking_requests.cancel_request,
    "confirm_cancel": booking_requests.confirm_cancel,
    "keep_booking": booking_requests.keep_booking,
    "reschedule_request": booking_requests.reschedule_request,
    "payment_link": booking_requests.payment_link,
    # my_bookings: read against the customer's bookings
    "about_booking": my_bookings.about_booking,
    "move_request": my_bookings.move_request,
    "choose_move": my_bookings.choose_move,
    "apply_change": my_bookings.apply_change,
    "keep_change": my_bookings.keep_change,
    "pay_balance": my_bookings.pay_balance,
    # which_booking: "did you mean the booking you have, or a new one?"
    "meant_booking": which_booking.meant_booking,
    "meant_new": which_booking.meant_new,
    # taps: a WhatsApp button or list row, straight to its transition
    "tap_departure": taps.tap_departure,
    "tap_hold": taps.tap_hold,
    "tap_party": taps.tap_party,
    "tap_other_dates": taps.tap_other_dates,
    "tap_waitlist": taps.tap_waitlist,
    "tap_offer": taps.tap_offer,
    "tap_cancel": taps.tap_cancel,
    "tap_reminder": taps.tap_reminder,
    "attending": taps.attending,
}


def answer(turn: Turn, route: Route) -> list[str]:
    """Runs the handler the route names; returns the replies."""
    answers = states.LAPSES.get(turn.state)
    if answers is not None and route.handler not in answers:
        turn.lapse()
    if route.rule.keeps_details:
        turn.absorb_entities()
    with turn.handling(route.handler):
        HANDLERS[route.handler](turn)
    if turn.reading.media and route.handler not in WITHOUT_FILE_NOTICE:
        # Words and a file: the words are answered, the file goes to a person.
        name = attachments.pass_files_on(turn)
        turn.say(
            turn.voice._("I've passed your file to {name}.", name=name)
            if name
            else turn.voice._("I've passed your file to our team.")
        )
    return turn.finish()


# Handlers that deal with the file themselves, or must say nothing.
WITHOUT_FILE_NOTICE = frozenset(
    {"file_received", "stay_silent", "opt_out", "wait_for_person", "urgent_handoff"}
)
