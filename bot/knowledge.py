"""Questions answered from what the catalog knows (services/knowledge.py), in the
customer's voice, while the conversation stays where it was: a quote stays open, and the
reply ends by asking again for what that state waits for.

One message may hold several acts ("Is lunch included? Book 2 for Saturday."): understand()
splits it into its sentences, answers the questions here, and hands the rest of the
message (a request, a correction) to the handler the state machine's table names for it,
so the one reply answers everything in order.

A question nothing answers is never a dead end: the customer is told a person will
answer, and the question goes to the rep (or the owner) as a task with the context. An
answer that promises a person's follow-up (the FAQ's follow_up: a voucher, a group rate)
makes that task too."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import replies
from bot.concerns import IF_WE_CANCEL
from bot.states import State
from intents import ParseResult
from models import OPEN_LEAD_STATUSES, Organization, Tour
from models.settings import RefundRule
from services import availability, knowledge, leads, ratelimit, tasks
from services.i18n import Voice

if TYPE_CHECKING:
    from bot.turn import Reading, Turn

# Intents that are a request of their own: a question among them is answered as
# knowledge only when it is not about prices or dates (check_availability answers those).
REQUEST_INTENTS = frozenset({"check_availability", "ask_price", "book", "hold"})
# What the rest of a message may be without needing an answer of its own.
SMALL_TALK = frozenset({"greet", "thanks", "goodbye", "affirm", "nlu_fallback", "ask_info"})
MIN_WORDS_FOR_A_PERSON = 3  # "lol?" is not a question for the rep
# The tour as a whole: "tell me about the food tour", "more info on EBC".
ABOUT_A_TOUR = re.compile(
    r"^\s*(?:hi\W+|hello\W+)?(?:can you |could you |pls |please )?(?:tell me (?:more )?about|"
    r"(?:more )?info(?:rmation)? (?:on|about|for)|details (?:of|on|about|for)|"
    r"what(?:'s| is) the\b.*\blike|"
    # pt / es / fr / de
    r"(?:mais )?informa[cç](?:ão|ao|ões|oes|ión|ion|iones)? (?:sobre|del?|do|da)|"
    r"(?:fala|fale|conta|conte)(?:-me)? (?:mais )?(?:sobre|do|da)|"
    r"(?:cu[eé]ntame|h[aá]blame|dime) (?:m[aá]s )?(?:sobre|del?)|"
    r"(?:plus d'|des )?infos? (?:sur|pour)|"
    r"(?:parlez|dites|parle|dis)[- ]moi (?:plus )?(?:de|du|sur)|"
    r"(?:mehr )?infos? (?:zu|über|ueber|uber)|"
    r"erz[aä]hl(?:en sie)? (?:mir )?(?:mehr )?(?:von|über))",
    re.IGNORECASE,
)


# A refund of theirs asked after, not the policy: "my refund", "o meu reembolso", "mi
# reembolso", "mon remboursement", "meine Rückerstattung", "the refund you promised".
YOUR_REFUND = re.compile(
    r"\b(?:my|our|the) (?:refund|money)\b(?! policy)|\b(?:(?:o )?meu|nosso|mi|nuestro|mon|notre|"
    r"meine|unsere) (?:reembolso|dinheiro|dinero|remboursement|argent|r[üu]ckerstattung|"
    r"erstattung|geld)\b",
    re.IGNORECASE,
)


@dataclass
class Question:
    text: str
    matches: list[knowledge.Match]
    tour: str | None  # the tour it is about: named in it, or the conversation's
    days: tuple[date, date] | None = None  # the day(s) it asks about ("start tmrw?")


@dataclass
class Understanding:
    """Every act in the message: its questions, and the rest (a request, a correction)."""

    questions: list[Question] = field(default_factory=list)
    rest: str = ""
    rest_result: ParseResult | None = None


def index_for(
    session: Session, org: Organization, language: str | None = "en"
) -> knowledge.KnowledgeIndex:
    """The organization's knowledge, for questions in the customer's language."""
    language = knowledge.language_of(language)

    def build() -> knowledge.KnowledgeIndex:
        rows = session.execute(
            select(Tour.slug, Tour.faq).where(Tour.organization_id == org.id, Tour.active)
        ).all()
        return knowledge.build_index(
            org.faq or [], [(slug, faq or []) for slug, faq in rows], language
        )

    # Keyed by when the organization last changed: a catalog import changes it.
    return knowledge.cached_index((org.id, f"{org.updated_at} {language}"), build)


def _without_tour_names(text: str, result: ParseResult) -> str:
    """The question without the tour's name ("how long is the food tour?": "food" is the
    name, not the question) nor the day it is about ("what time does it start tmrw?")."""
    spans = sorted(
        ((e.start, e.end) for e in result.entities if e.entity in ("tour", *_DAY_ENTITIES)),
        reverse=True,
    )
    for start, end in spans:
        if 0 <= start < end <= len(text):
            text = text[:start] + " " + text[end:]
    return text


_DAY_ENTITIES = ("date", "date_range")


def _is_question_act(
    reading: Reading, clause: str, result: ParseResult, matches: list[knowledge.Match]
) -> bool:
    asks = knowledge.is_question(clause)
    told = {e.entity for e in result.entities} & {
        "date",
        "date_range",
        "month",
        "party_size",
        "adults",
        "children",
    }
    if matches:
        topics = {m.entry.topic for m in matches}
        if asks and knowledge.MIN_AGE in topics and knowledge.asked_age(clause) is not None:
            return True  # "my son is 7?": the number is an age, not a party
        telling = any(m.telling for m in matches)
        if asks and knowledge.MIN_AGE in topics and not told & {"date", "date_range", "month"}:
            return True  # "we have 2 kids, is the food tour ok for kids?": no day to search
        if told and result.intent != "ask_info" and not (asks and telling):
            return False  # "can we book 2 adults and 2 kids on Saturday?" is a request
        if asks or topics == {knowledge.DESCRIPTION}:
            return True
        # After an enquiry's questions "pickup from Hotel Yak" is an answer, not a question.
        if reading.state == State.QUESTIONS:
            return False
        # "worried about altitude sickness": a concern the catalog answers.
        return result.intent == "ask_info" or (telling and result.intent not in REQUEST_INTENTS)
    if not asks or told:
        return False
    if result.intent == "ask_info":
        return True
    words = len(clause.split())
    return result.intent == "nlu_fallback" and words >= MIN_WORDS_FOR_A_PERSON


def understand(reading: Reading) -> Understanding:
    """The message's questions (answered or not) and the rest of it."""
    text = reading.text
    parts = knowledge.clauses(text)
    if not parts or (reading.media and not text.rstrip().endswith("?")):
        return Understanding()  # words with a file describe the file
    index = index_for(reading.session, reading.org, reading.language)
    context_tour = (reading.conversation.slots or {}).get("tour") if reading.conversation else None
    # "is dinner included? we want the sunset tour saturday": the tour of the whole message.
    context_tour = reading.result.entity("tour") or context_tour
    out = Understanding()
    rest: list[str] = []
    for clause in parts:
        result = reading.result if len(parts) == 1 else reading.parse(clause)
        named = result.entity("tour")
        tour = named or context_tour
        topics = None
        if result.intent in REQUEST_INTENTS:
            left_to_request = knowledge.REQUEST_TOPICS
            if knowledge.is_question(clause) and not _tells_when_or_who(result):
                # "when does the trek go next?": no day, time or party to search with, so
                # the next departures answer it.
                left_to_request = left_to_request - {knowledge.DEPARTURES}
            topics = frozenset(knowledge.BUILTIN) - left_to_request
        matches = index.search(_without_tour_names(clause, result), tour=tour, topics=topics)
        if (
            not matches
            and len(parts) > 1
            and knowledge.is_question(clause)
            and result.intent not in REQUEST_INTENTS
            and not _tells_details(result)
        ):
            # "My father uses a wheelchair. Could he join?": the question is in the whole.
            matches = index.search(
                _without_tour_names(text, reading.result), tour=tour, topics=topics
            )
        if YOUR_REFUND.search(clause) and not IF_WE_CANCEL.search(clause):
            # "has my refund been processed yet?": where their money is, for a person; the
            # policy does not answer it ("my money back if I cancel?" is the policy asked).
            matches = [m for m in matches if m.entry.topic != knowledge.CANCELLATION]
        if not matches and named and ABOUT_A_TOUR.search(clause):
            matches = [knowledge.Match(knowledge.Entry(knowledge.DESCRIPTION), 1.0, 1.0)]
        if _is_question_act(reading, clause, result, matches):
            out.questions.append(Question(clause, matches, tour, _days_in(result)))
            if _asks_for_a_day(clause, result, tour):
                # "2 adults and a 7-year-old for the sunset tour on Saturday, how much?":
                # the age is asked and the day is asked for; both are answered.
                rest.append(clause)
        else:
            rest.append(clause)
    if out.questions and rest:
        out.rest = " ".join(rest)
        out.rest_result = reading.parse(out.rest)
    return out


def asks_something(reading: Reading) -> bool:
    return bool(reading.understanding.questions)


def answer_questions(turn: Turn) -> None:
    """The questions answered (or passed to a person), then the rest of the message as
    the table would handle it, then what the conversation was waiting for."""
    understanding = turn.reading.understanding
    pending = turn.slot("question")
    questions = list(understanding.questions)
    if not questions and pending and turn.tour() is not None:
        # "Which tour is it about?" answered with a tour's name.
        index = index_for(turn.session, turn.org, turn.reading.language)
        slug = turn.tour().slug  # type: ignore[union-attr]
        questions = [Question(pending, index.search(pending, tour=slug), slug)]
    turn.remember(question=None)
    ages = {knowledge.asked_age(q.text) for q in questions} - {None}
    party = turn.party() or {}
    if ages and sum(party.values()) in ages and len(party) == 1:
        # "is it OK for my 7-year-old?": an age, not a party of 7.
        turn.remember(party=(turn.conversation.slots or {}).get("party"))
    answered: set[int] = set()  # the index's entries, by identity
    for question in questions:
        had = bool(question.matches)
        question.matches = [m for m in question.matches if id(m.entry) not in answered]
        answered |= {id(m.entry) for m in question.matches}
        if had and not question.matches:
            continue  # answered already for an earlier sentence of the message
        _answer(turn, question)
    rest = understanding.rest_result
    if rest is not None and (rest.intent not in SMALL_TALK or _tells_details(rest)):
        _handle_rest(turn, rest)
        return
    resume = _resume_line(turn)
    if resume:
        turn.say(resume)


def _days_in(result: ParseResult) -> tuple[date, date] | None:
    """The day ("tmrw", "on Saturday") or days a question names."""
    if span := result.entity("date_range"):
        first, last = str(span).split("/")
        return date.fromisoformat(first), date.fromisoformat(last)
    if day := result.entity("date"):
        return date.fromisoformat(str(day)), date.fromisoformat(str(day))
    return None


def _asks_for_a_day(clause: str, result: ParseResult, tour: str | None) -> bool:
    """A question about a child's age that also names a tour and a party, with a day or
    the price asked: a request as well ("how much for 2 adults and a 6-year-old?")."""
    names = {e.entity for e in result.entities}
    return (
        tour is not None
        and knowledge.asked_age(clause) is not None
        and bool(names & {"party_size", "adults"})
        and (bool(names & {"date", "date_range"}) or result.intent in REQUEST_INTENTS)
    )


def _tells_when_or_who(result: ParseResult) -> bool:
    names = {e.entity for e in result.entities}
    return bool(names & (_WHEN_OR_WHO | {"time", "daypart"}))


_WHEN_OR_WHO = frozenset({"date", "date_range", "month", "party_size", "adults", "children"})


def _tells_details(result: ParseResult) -> bool:
    names = {e.entity for e in result.entities}
    return bool(
        names
        & {"tour", "date", "date_range", "month", "party_size", "adults", "children", "booking_ref"}
    )


def _handle_rest(turn: Turn, rest: ParseResult) -> None:
    """The request in the same message, as the table reads it on its own."""
    from bot import handlers, states  # the handlers table imports this module
    from bot.turn import party_in

    turn.reading.focus(rest)
    intent = rest.intent
    name = states.handler_for(turn.state, intent)
    if name == states.OTHERWISE and _tells_details(rest):
        name = states.handler_for(turn.state, states.INFORM)
    elif (
        intent in states.ABOUT_A_BOOKING
        and party_in(rest) is not None
        and (
            turn.state in states.PRICING
            or not (turn.reading.has_booking or states.names_a_booking(rest.text))
        )
    ):
        # "só eu e minha esposa. quais as datas?": the party, as the rule of that name
        name = states.handler_for(turn.state, states.INFORM)
    if name in ("menu", "answer_questions"):
        resume = _resume_line(turn)
        if resume:
            turn.say(resume)
        return
    turn.instead(handlers.HANDLERS[name])


def answer_one(turn: Turn, question: Question) -> None:
    _answer(turn, question)


def _answer(turn: Turn, question: Question) -> None:
    voice = turn.voice
    tour = _tour(turn, question.tour)
    said: list[str] = []
    needs_tour = False
    for match in question.matches:
        entry = match.entry
        if entry.topic == knowledge.FAQ:
            text = voice.pick(entry.answer, _fallback_language(turn))
            if text:
                said.append(text)
                if entry.follow_up:
                    name = _task(turn, "follow_up", f"{entry.follow_up}", question.text)
                    said.append(_person_will(voice, name, follow_up=True))
            continue
        if entry.topic in knowledge.TOUR_TOPICS and tour is None:
            needs_tour = True
            continue
        if entry.topic == knowledge.DEPARTURES and tour is not None and question.days:
            said.append(_departures_on(turn, tour, *question.days))
            continue
        text = _topic_answer(turn, entry.topic, tour, question.text)
        if text:
            said.append(text)
            if entry.topic == knowledge.DISCOUNT and not _childrens_price(
                tour, question.text, turn.reading.language
            ):
                name = _task(turn, "follow_up", "Asks about a discount", question.text)
                said.append(_person_will(voice, name, follow_up=True))
    if said:
        turn.say("\n".join(said))
        return
    if needs_tour:
        turn.remember(question=question.text)
        turn.say(
            voice._(
                "Which tour is it about? We run: {tours}.",
                tours=voice.join(_tour_names(turn)),
            )
        )
        return
    about = f" ({tour.name})" if tour is not None else ""
    name = _task(turn, "question", f"Answer{about}: {question.text}", question.text)
    passed_on = (
        voice._(
            "Good question. I don't have the answer here, so I've asked {name} to reply to "
            "you here.",
            name=name,
        )
        if name
        else voice._(
            "Good question. I don't have the answer here, so I've asked our team to reply "
            "to you here."
        )
    )
    if passed_on not in turn.replies:  # two questions for a person: each a task, said once
        turn.say(passed_on)


def _person_will(voice: Voice, name: str | None, *, follow_up: bool) -> str:
    if name:
        return voice._("I've passed this to {name}, who will follow up with you here.", name=name)
    return voice._("I've passed this to our team, who will follow up with you here.")


def ensure_enquiry(turn: Turn) -> None:
    """A question for a person is a sales conversation: on the conversation's open
    enquiry, or a new one (its rep answers; the task's text tells them, so no second text)."""
    lead = turn.conversation.lead
    if lead is not None and lead.status in OPEN_LEAD_STATUSES:
        return
    if tasks.relevant_booking(turn.session, turn.customer, turn.now) is not None:
        return  # about their booking: its rep, or the owner
    lead = leads.create_lead(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        source=turn.conversation.channel,
        actor=turn.actor(),
        context=leads.LeadContext(
            tour=turn.tour(), party=turn.party() or {}, notes=turn.text[:500]
        ),
    )
    turn.conversation.lead = lead
    turn.conversation.assigned_to_id = lead.assigned_to_id


def _task(turn: Turn, kind: str, title: str, words: str) -> str | None:
    """A task for a person, with the context; returns who will answer (None: our team)."""
    ensure_enquiry(turn)
    context = tasks.staff_context(
        turn.session,
        turn.org,
        turn.customer,
        turn.conversation,
        turn.now,
        booking=tasks.relevant_booking(turn.session, turn.customer, turn.now),
    )
    _, names = tasks.create(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        kind=kind,
        title=title,
        context=context,
        conversation=turn.conversation,
        counts=ratelimit.counter(turn.config.REDIS_URL),
        actor=turn.actor(),
        source=turn.conversation.channel,
    )
    return names[0] if names else None


def _fallback_language(turn: Turn) -> str:
    languages = turn.org.settings.languages
    return languages[0] if languages else "en"


def _tour(turn: Turn, slug: str | None) -> Tour | None:
    if not slug:
        return None
    if turn.slot("tour") == slug:
        return turn.tour()
    return turn.session.scalar(
        select(Tour)
        .where(Tour.organization_id == turn.org.id, Tour.slug == slug)
        .options(selectinload(Tour.price_tiers))
    )


def _tour_names(turn: Turn) -> list[str]:
    return list(
        turn.session.scalars(
            select(Tour.name)
            .where(Tour.organization_id == turn.org.id, Tour.active.is_(True))
            .order_by(Tour.name)
        )
    )


def duration(voice: Voice, tour: Tour) -> str:
    hours, minutes = divmod(tour.duration_minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return voice.n_("{n} day", "{n} days", days)
    if minutes:
        return voice._("{hours}h{minutes}", hours=hours, minutes=f"{minutes:02d}")
    return voice.n_("{n} hour", "{n} hours", hours)


def tour_card(turn: Turn, tour: Tour) -> str:
    """The tour as a whole: its description, length, meeting point and prices."""
    voice = turn.voice
    parts = []
    description = voice.pick(tour.description, _fallback_language(turn))
    if description:
        parts.append(description)
    parts.append(voice._("{tour}: {length}.", tour=tour.name, length=duration(voice, tour)))
    if tour.meeting_point:
        parts.append(voice._("Meeting point: {place}.", place=tour.meeting_point))
    if prices := replies.prices_line(voice, turn.org.currency, tour):
        parts.append(prices)
    parts.append(voice._("Ask me anything else about it, or tell me a date to check seats."))
    return " ".join(parts)


def _detail(turn: Turn, tour: Tour, key: str) -> str:
    return turn.voice.pick((tour.details or {}).get(key), _fallback_language(turn))


def _topic_answer(turn: Turn, topic: str, tour: Tour | None, asked: str) -> str:
    """A built-in topic answered from the tour's details or the product's own data; ""
    when the catalog does not say (the question then goes to a person)."""
    voice = turn.voice
    if topic == knowledge.CANCELLATION:
        return _policy(turn, tour)
    if topic == knowledge.DISCOUNT:
        return _discounts(turn, tour, asked)
    assert tour is not None
    name = tour.name
    if topic == knowledge.INCLUDED:
        included, excluded = _detail(turn, tour, "included"), _detail(turn, tour, "not_included")
        lines = []
        if included:
            lines.append(voice._("{tour} includes: {text}", tour=name, text=included))
        if excluded:
            lines.append(voice._("Not included: {text}", text=excluded))
        return "\n".join(lines)
    if topic == knowledge.BRING:
        text = _detail(turn, tour, "bring")
        return voice._("What to bring for {tour}: {text}", tour=name, text=text) if text else ""
    if topic == knowledge.ACCESSIBILITY:
        text = _detail(turn, tour, "accessibility")
        return voice._("{tour}: {text}", tour=name, text=text) if text else ""
    if topic == knowledge.MIN_AGE:
        return _age(turn, tour, asked)
    if topic == knowledge.PICKUP:
        text = _detail(turn, tour, "pickup")
        return voice._("Pickup for {tour}: {text}", tour=name, text=text) if text else ""
    if topic == knowledge.WEATHER:
        text = _detail(turn, tour, "weather")
        return voice._("If the weather is bad: {text}", text=text) if text else ""
    if topic == knowledge.DESCRIPTION:
        return tour_card(turn, tour)
    if topic == knowledge.PRICES:
        return replies.prices_line(voice, turn.org.currency, tour)
    if topic == knowledge.DURATION:
        return voice._("{tour} takes {length}.", tour=name, length=duration(voice, tour))
    if topic == knowledge.MEETING_POINT:
        if not tour.meeting_point:
            return ""
        return voice._("{tour} meets at {place}.", tour=name, place=tour.meeting_point)
    if topic == knowledge.DEPARTURES:
        return _next_departures(turn, tour)
    return ""


def _age(turn: Turn, tour: Tour, asked: str) -> str:
    voice = turn.voice
    minimum = (tour.details or {}).get("min_age")
    if minimum is None:
        return ""
    age = knowledge.asked_age(asked)
    if age is None:
        if not minimum:
            return voice._("{tour} is open to all ages.", tour=tour.name)
        return voice._("{tour} is for ages {age} and up.", tour=tour.name, age=minimum)
    if age >= minimum:
        return voice._(
            "Yes: {tour} is for ages {minimum} and up, so a {age}-year-old is welcome.",
            tour=tour.name,
            minimum=minimum,
            age=age,
        )
    return voice._(
        "Sorry: {tour} is for ages {minimum} and up, so a {age}-year-old can't join.",
        tour=tour.name,
        minimum=minimum,
        age=age,
    )


def _policy(turn: Turn, tour: Tour | None) -> str:
    """The cancellation policy from the data: the tour's own, else the organization's."""
    voice = turn.voice
    if tour is not None and tour.cancellation_policy is not None:
        rules = [RefundRule.model_validate(r) for r in tour.cancellation_policy]
    else:
        rules = list(turn.org.settings.cancellation_policy)
    rules.sort(key=lambda r: -r.days_before)
    if not rules:
        return voice._("Bookings can't be refunded once paid.")
    parts = []
    for rule in rules:
        if rule.days_before == 0:
            parts.append(
                voice._(
                    "{percent}% back up to the start", percent=voice.number(rule.refund_percent)
                )
            )
        else:
            parts.append(
                voice.n_(
                    "{percent}% back up to {n} day before",
                    "{percent}% back up to {n} days before",
                    rule.days_before,
                    percent=voice.number(rule.refund_percent),
                )
            )
    last = rules[-1]
    text = voice._("Cancellation policy: {rules}.", rules=voice.join(parts))
    if last.days_before > 0:
        text += " " + voice.n_(
            "Less than {n} day before, there is no refund.",
            "Less than {n} days before, there is no refund.",
            last.days_before,
        )
    return text


def _childrens_price(tour: Tour | None, asked: str, language: str | None) -> bool:
    """ "a kids discount?": the children's price is the answer."""
    return (
        tour is not None
        and tour.tier("child") is not None
        and knowledge.mentions_children(asked, knowledge.language_of(language))
    )


def _discounts(turn: Turn, tour: Tour | None, asked: str) -> str:
    voice = turn.voice
    if _childrens_price(tour, asked, turn.reading.language):
        assert tour is not None
        return replies.prices_line(voice, turn.org.currency, tour)
    lines = []
    early = turn.org.settings.early_bird
    if early is not None and early.percent:
        lines.append(
            voice.n_(
                "Early bird: {percent}% off when you book {n} day or more ahead.",
                "Early bird: {percent}% off when you book {n} days or more ahead.",
                early.days_before,
                percent=voice.number(early.percent),
            )
        )
    if tour is not None:
        child = tour.tier("child")
        if child is not None:
            lines.append(
                voice._(
                    "Children pay {price} on {tour}.",
                    price=voice.money(child.price_minor, turn.org.currency),
                    tour=tour.name,
                )
            )
    return " ".join(lines) or voice._("We have no standing discounts.")


def _next_departures(turn: Turn, tour: Tour) -> str:
    voice = turn.voice
    today = turn.now.astimezone(turn.org.tz).date()
    found = availability.search(
        turn.session,
        turn.org,
        turn.now,
        tour=tour,
        date_from=today,
        # A year ahead: a trek that runs once a month still has three dates to name.
        date_to=today + timedelta(days=365),
        limit=3,
    )
    if not found:
        return voice._("{tour} has no departures with room in the next year.", tour=tour.name)
    listed = _with_room(voice, found)
    return voice._(
        "Next {tour} departures: {listed}. Tell me the date and how many people to hold seats.",
        tour=tour.name,
        listed=listed,
    )


def _with_room(voice: Voice, found: list[availability.AvailableDeparture]) -> str:
    """ "Sat 12 Dec 17:30 (20 spots left), Sun 13 Dec 17:30 (18 spots left)"."""
    return voice.join(
        voice.n_(
            "{when} ({n} spot left)",
            "{when} ({n} spots left)",
            item.spots_left,
            when=voice.when(item.departure.starts_at),
        )
        for item in found
    )


def _departures_on(turn: Turn, tour: Tour, first: date, last: date) -> str:
    """ "what time does it start tmrw?": that day's departures, with their times; none
    that day, the next ones."""
    voice = turn.voice
    found = availability.search(
        turn.session, turn.org, turn.now, tour=tour, date_from=first, date_to=last, limit=5
    )
    if not found:
        none = (
            voice._("No {tour} departure on {day}.", tour=tour.name, day=voice.long_day(first))
            if first == last
            else voice._("No {tour} departures on those dates.", tour=tour.name)
        )
        return none + " " + _next_departures(turn, tour)
    listed = _with_room(voice, found)
    return voice._(
        "{tour} starts {listed}. Tell me how many people to hold seats.",
        tour=tour.name,
        listed=listed,
    )


def _resume_line(turn: Turn) -> str:
    """What the conversation was waiting for, asked again after an answer."""
    voice = turn.voice
    state = turn.state
    if state == State.CONFIRMING:
        return voice._("Shall I still hold those seats? Reply YES to hold.")
    if state == State.CHOOSING:
        return voice._("Reply with the number to hold seats.")
    if state == State.NEED_PARTY:
        return voice._('How many people? (e.g. "2 adults 1 child")')
    if state == State.FULL:
        return voice._("Reply 1, 2 or 3 for the choices above.")
    if state == State.NEED_TOUR:
        return voice._("Which tour would you like?")
    return ""
