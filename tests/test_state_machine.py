"""The conversation state machine as data (bot/states.py): every handler it names exists,
every state is reachable and has a way out, the rules route in their order, undeclared
moves are refused, and nothing outside bot/ moves a conversation."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import booking_words, keywords, states
from bot.concerns import concern
from bot.handlers import HANDLERS
from bot.states import State
from bot.turn import Turn

ROOT = Path(__file__).resolve().parent.parent
# The bot's private part of a conversation: what it is waiting for and what it was told.
BOT_ATTRIBUTES = {"state", "slots", "handoff"}
OUTSIDE_BOT = ("admin", "api", "cli", "demo", "pages", "services", "webhooks")


def _assigned_attributes(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        while targets:
            target = targets.pop()
            if isinstance(target, ast.Tuple | ast.List):
                targets += target.elts
            elif isinstance(target, ast.Attribute) and target.attr in BOT_ATTRIBUTES:
                found.append((node.lineno, target.attr))
    return found


def test_only_the_bot_writes_a_conversations_state_slots_and_handoff() -> None:
    """Staff actions that ready the bot for an answer go through bot/staff.py, so the
    state names and slots stay the bot's to change."""
    writes = [
        f"{path.relative_to(ROOT)}:{line} sets .{attr}"
        for folder in OUTSIDE_BOT
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, attr in _assigned_attributes(path)
    ]
    assert writes == []


# --- the machine as data ----------------------------------------------------------------


def _named_by_the_machine() -> set[str]:
    names = {rule.then for rule in states.RULES if rule.then not in (states.TABLE, states.TAP)}
    names |= set(states.TRANSITIONS.values()) | set(states.ANY_STATE.values())
    names |= set(states.TAPS.values())
    names |= {states.OTHERWISE} | set(states.MOVES)
    names |= {other for moves in states.MOVES.values() for other in moves.instead}
    return names


def test_every_handler_the_machine_names_exists_and_declares_its_moves() -> None:
    named = _named_by_the_machine()
    # Guides' commands are bot/guides.py's, run by the engine without a conversation.
    assert named - {states.GUIDE_COMMAND} == set(HANDLERS)
    assert named == set(states.MOVES)
    # Turn.instead checks a hand-over by the function's name: it must be the table's.
    assert [name for name, fn in HANDLERS.items() if fn.__name__ != name] == []


def test_handlers_pass_a_message_on_only_through_turn_instead() -> None:
    """A direct call would move the conversation under the caller's declared moves, and
    the hand-over would be missing from the graph."""
    direct = [
        f"{path.name}:{node.lineno} calls {node.func.id}"
        for path in sorted((ROOT / "bot").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in HANDLERS
    ]
    assert direct == []


def test_every_state_is_reachable_from_idle_and_has_a_way_back() -> None:
    def reachable(start: State) -> set[State]:
        seen, todo = {start}, [start]
        while todo:
            for to in states.leads_to(todo.pop()) - seen:
                seen.add(to)
                todo.append(to)
        return seen

    assert reachable(State.IDLE) == set(State)
    for state in State:
        assert states.leads_to(state), f"{state} has no way out"
        assert State.IDLE in reachable(state), f"{state} never gets back to idle"
    # A person's takeover: only the words before it (MENU) lead anywhere.
    assert states.handlers_in(State.HANDOFF) == {
        states.GUIDE_COMMAND,
        "opt_out",
        "opt_in",
        "stay_silent",
        "send_help",
        "start_over",
        # Someone hurt or a guide who did not come while waiting: a person, now.
        "urgent_handoff",
        "wait_for_person",
    }


def test_the_module_docstring_shows_the_machine_as_it_is() -> None:
    assert states.__doc__ is not None
    assert states.describe() in states.__doc__, "run python -m bot.states --write"


# --- routing ------------------------------------------------------------------------------


@dataclass
class Said:
    """Facts for route(); the NLU's and the waitlist's raise unless given, so a test shows
    which rules decide without them."""

    text: str = ""
    state: State = State.IDLE
    from_guide: bool = False
    opted_out: bool = False
    only_media: bool = False
    with_file: bool = False
    location: bool = False
    nlu: tuple[str, frozenset[str], bool, object] | None = None  # intent, told, party, option
    offer: bool | None = None
    answers_how_many: bool = False  # a bare number just after "how many people?"
    booking_request: str | None = None  # bot.booking_words's kind, read against a booking
    has_booking: bool = False
    channel: str = "whatsapp"
    opt_out_type: str | None = None  # Twilio's OptOutType
    advanced_opt_out: bool = False

    @property
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
    def clear_yes(self) -> bool:
        return booking_words.clear_yes(self.text)

    @property
    def clear_no(self) -> bool:
        return booking_words.clear_no(self.text)

    @property
    def attends(self) -> bool:
        return booking_words.attends(self.text)

    tap: str | None = None  # a tapped button's action
    question: bool = False  # a question in it (bot/knowledge.py reads it with the NLU)
    person: bool = False  # one of its sentences asks for a person (the whole may not)
    pending_question: bool = False
    awaiting_person: bool = False  # an urgent concern no person has answered yet
    answers_reminder: bool = False  # the pre-departure reminder is the last thing said
    what_runs: bool = False  # a day asked, no tour in mind (bot/turn.py reads it with the NLU)

    @property
    def asks_what_runs(self) -> bool:
        self._nlu()
        return self.what_runs

    @property
    def concern(self) -> object:
        return concern(self.text)  # words only: no NLU

    @property
    def keyword(self) -> str:
        return keywords.keyword(self.text)

    def _nlu(self) -> tuple[str, frozenset[str], bool, object]:
        if self.nlu is None:
            raise AssertionError(f"the NLU was asked about {self.text!r}")
        return self.nlu

    @property
    def intent(self) -> str:
        return self._nlu()[0]

    @property
    def told(self) -> frozenset[str]:
        return self._nlu()[1]

    @property
    def party_given(self) -> bool:
        return self._nlu()[2]

    @property
    def asks(self) -> bool:
        self._nlu()
        return self.question

    @property
    def asks_for_person(self) -> bool:
        return self._nlu()[0] == "human_handoff" or self.person

    @property
    def option(self) -> object:
        return self._nlu()[3]

    @property
    def waitlist_offer_open(self) -> bool:
        if self.offer is None:
            raise AssertionError(f"the waitlist was asked about {self.text!r}")
        return self.offer


def understood(
    intent: str, told: set[str] | None = None, party: bool = False, option: object = None
) -> tuple[str, frozenset[str], bool, object]:
    return intent, frozenset(told or ()), party, option


def handler(said: Said) -> str:
    return states.route(said).handler


def test_words_silence_and_attachments_decide_without_the_nlu() -> None:
    assert handler(Said("STOP", from_guide=True)) == states.GUIDE_COMMAND
    assert handler(Said("stop!", state=State.HANDOFF)) == "opt_out"
    assert handler(Said("START", opted_out=True)) == "opt_in"
    assert handler(Said("revoke", channel="sms")) == "opt_out"  # Twilio's word too


def test_cancel_alone_is_an_opt_out_only_where_twilio_made_it_one() -> None:
    fallback = understood("nlu_fallback")
    # SMS: Twilio has blocked the sender whatever they meant (the handler tells staff).
    assert handler(Said("CANCEL", channel="sms", has_booking=True)) == "opt_out"
    assert handler(Said("Stop", channel="sms", opt_out_type="STOP")) == "opt_out"
    # Advanced Opt-Out with CANCEL dropped: no OptOutType, so the booking's cancellation.
    cancel = Said("cancel", channel="sms", has_booking=True, advanced_opt_out=True, nlu=fallback)
    assert handler(cancel) == "cancel_request"
    # ... and whatever word its Messaging Service opts out with, by its OptOutType.
    assert handler(Said("PARAR", channel="sms", opt_out_type="STOP")) == "opt_out"
    assert handler(Said("ARRANCAR", channel="sms", opt_out_type="START")) == "opt_in"
    # WhatsApp: nothing blocks them, so CANCEL from someone with a booking is about it.
    assert handler(Said("CANCEL", has_booking=True, nlu=fallback)) == "cancel_request"
    assert handler(Said("CANCEL")) == "opt_out"
    # A quote in progress: not the booking's cancellation.
    said = Said("cancel", State.CONFIRMING, has_booking=True, nlu=fallback)
    assert handler(said) != "cancel_request"
    assert handler(Said("HELP", opted_out=True)) == "stay_silent"
    assert handler(Said("help", state=State.HANDOFF)) == "send_help"
    assert handler(Said("Menu", state=State.HANDOFF)) == "start_over"
    assert handler(Said("yes please", state=State.HANDOFF)) == "wait_for_person"
    assert handler(Said("", only_media=True)) == "file_received"
    assert handler(Said("Hotel Yak https://maps...", location=True)) == "location_pin"
    assert handler(Said("agent", state=State.CONFIRMING)) == "handoff"


def test_an_open_waitlist_offer_takes_yes_and_no_before_the_state() -> None:
    yes = Said("CONFIRM", state=State.CONFIRMING, nlu=understood("affirm"), offer=True)
    assert handler(yes) == "answer_waitlist_offer"
    assert handler(Said("yes", State.CONFIRMING, nlu=understood("affirm"), offer=False)) == (
        "hold_seats"
    )
    # Not a yes or a no: the waitlist is not even asked.
    assert handler(Said("hi", nlu=understood("greet"))) == "greet"


def test_the_overrides_come_before_the_table() -> None:
    party = Said("3 of us", State.NEED_PARTY, nlu=understood("nlu_fallback", {"party"}, True))
    assert handler(party) == "take_party"
    number = Said("2", State.CHOOSING, nlu=understood("check_availability", option=2), offer=False)
    assert handler(number) == "choose_departure"
    question = Said(
        "is pickup included?", State.QUESTIONS, nlu=understood("ask_info"), question=True
    )
    assert handler(question) == "answer_questions"
    statement = Said("pickup from Hotel Yak", State.QUESTIONS, nlu=understood("ask_info"))
    assert handler(statement) == "lead_details"
    # Nothing the table knows, but it names a party: an answer.
    answer = Said(
        "2 adults, vegetarian", State.CONFIRMING, nlu=understood("nlu_fallback", {"party"})
    )
    assert handler(answer) == "revise"
    assert handler(Said("blah", State.CONFIRMING, nlu=understood("nlu_fallback"))) == "menu"


# --- declared moves -----------------------------------------------------------------------


def _turn() -> Turn:
    conversation = SimpleNamespace(state=State.IDLE, slots={})
    return Turn(None, None, conversation, None, None, None, None)  # type: ignore[arg-type]


def test_a_move_the_machine_does_not_declare_is_refused_in_tests() -> None:
    turn = _turn()
    with turn.handling("greet"), pytest.raises(states.UndeclaredMove):
        turn.goto(State.HELD)
    with turn.handling("enquire"):
        turn.goto(State.QUESTIONS)
        with pytest.raises(states.UndeclaredMove):
            turn.instead(lambda t: None)
    assert turn.state == State.QUESTIONS
    with pytest.raises(states.UndeclaredMove):
        turn.goto(State.IDLE)  # outside any handler


def test_in_production_an_undeclared_move_is_logged_and_made(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(states, "STRICT", False)
    turn = _turn()
    with turn.handling("greet"):
        turn.goto(State.HELD)
    assert turn.state == State.HELD
    assert "greet moved a conversation to held, not declared" in caplog.text


def test_a_change_to_a_booking_takes_only_a_clear_yes() -> None:
    for yes in ("yes", "YES!", "ok go ahead", "yes please 👍", "confirm"):
        said = Said(yes, State.CONFIRM_CHANGE, nlu=understood("affirm"), offer=False)
        assert handler(said) == "apply_change", yes
    for not_yes in ("yes a manager. now.", "yes but for 4", "ok and is lunch included?"):
        said = Said(not_yes, State.CONFIRM_CHANGE, nlu=understood("affirm"), offer=False)
        assert handler(said) != "apply_change", not_yes
    no = Said("no thanks", State.CONFIRM_CHANGE, nlu=understood("deny"), offer=False)
    assert handler(no) == "keep_change"


def test_every_other_answer_lets_a_stated_change_lapse() -> None:
    assert states.LAPSES[State.CONFIRM_CHANGE] == {"apply_change", "keep_change"}


def test_a_request_about_their_booking_comes_before_the_intent() -> None:
    said = Said(
        "add one more person",
        State.HELD,
        nlu=understood("book"),
        offer=False,
        booking_request="add",
    )
    assert handler(said) == "about_booking"


def test_a_tap_goes_to_its_own_transition_without_the_nlu() -> None:
    """The button's payload decides, whatever its title says and whatever the state; only
    the words that act before anything (STOP, MENU) and a person's silence come first."""
    assert states.route(Said("Hold seats", State.CONFIRMING, tap="hold")).handler == "tap_hold"
    assert states.route(Said("Sat 12 Dec 17:30", State.IDLE, tap="dep")).handler == "tap_departure"
    assert (
        states.route(Said("Confirm", State.HELD, tap="confirm", offer=True)).handler == "tap_offer"
    )
    assert states.route(Said("Yes, cancel", State.CHOOSING, tap="cancel")).handler == "tap_cancel"
    assert states.route(Said("STOP", State.CONFIRMING, tap="hold")).handler == "opt_out"
    assert states.route(Said("Hold seats", State.HANDOFF, tap="hold")).handler == "wait_for_person"
    assert states.tap_action("tb1:hold:SUN1212/adult2") == "hold"
    assert states.tap_arg("tb1:hold:SUN1212/adult2") == "SUN1212/adult2"
    # Not ours, or not an action the machine knows: read as the words on the button.
    assert states.tap_action("promo-2026") is None and states.tap_action("tb1:fly:X") is None
    assert states.tap_action("tb1:hold:") is None


def test_a_person_asked_for_in_one_sentence_is_a_handoff_before_the_rest() -> None:
    enquiry = understood("enquire", {"tour"})
    words = "can i talk to someone? questions about the trek"
    assert handler(Said(words, nlu=enquiry, person=True)) == "handoff"
    assert handler(Said(words, State.CHOOSING, nlu=enquiry, person=True)) == "handoff"
    assert handler(Said(words, nlu=enquiry)) != "handoff"


def test_words_that_describe_a_file_route_to_the_file() -> None:
    # "is this the right place? [photo]": the menu would miss the point; a person sees it.
    words = Said("is this the right place?", nlu=understood("nlu_fallback"), with_file=True)
    assert handler(words) == "file_received"
    assert handler(Said("hi", nlu=understood("greet"), with_file=True)) == "file_received"
    assert handler(Said("hi", nlu=understood("greet"))) == "greet"
    # Words with a request of their own keep it: the file goes to a person beside it.
    cancel = Said("cancel my booking", nlu=understood("cancel_booking"), with_file=True)
    assert handler(cancel) == "cancel_request"


def test_a_day_asked_with_no_tour_in_mind_lists_every_tours_departures() -> None:
    """ "what do you have on Saturday?" before any tour is chosen: the day's list across
    tours, before the questions (it is not a question about a tour's description); once a
    list is open, a day is a correction of that search (the table's inform)."""
    day = understood("check_availability", {"date"})
    for state in (State.IDLE, State.NEED_TOUR, State.QUESTIONS):
        said = Said("what do you have on saturday?", state=state, nlu=day, what_runs=True)
        said.question = True
        assert handler(said) == "whats_on", state
    listing = Said("what about saturday?", state=State.CHOOSING, nlu=day, what_runs=True)
    assert handler(listing) != "whats_on"
    assert (
        handler(
            Said(
                "saturday for the sunset tour",
                nlu=understood("check_availability", {"tour", "date"}),
            )
        )
        == "check_availability"
    )
