"""One inbound message being handled: who, what was understood, and what to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.states import State
from intents import ParseResult
from models import Conversation, Customer, Departure, Organization, Tour


@dataclass
class Turn:
    """The state and slots change in memory during the turn and are written to the
    conversation once, by finish(): one UPDATE per message, not one per query that
    happens to flush in between."""

    session: Session
    org: Organization
    conversation: Conversation
    customer: Customer
    text: str
    result: ParseResult
    now: datetime
    returning: bool = False  # the customer wrote to us before this conversation turn
    replies: list[str] = field(default_factory=list)
    told: set[str] = field(default_factory=set)  # the slots this message gave
    _state: str = field(init=False)
    _slots: dict[str, Any] = field(init=False)
    _tours: dict[str, Tour | None] = field(init=False, default_factory=dict)
    _departures: dict[str, Departure | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._state = self.conversation.state
        self._slots = dict(self.conversation.slots or {})

    def say(self, text: str) -> None:
        self.replies.append(text.strip())

    @property
    def state(self) -> State:
        try:
            return State(self._state)
        except ValueError:
            return State.IDLE

    def goto(self, state: State, **slots: Any) -> None:
        self._state = state
        if slots:
            self.remember(**slots)

    def remember(self, **slots: Any) -> None:
        self._slots.update(slots)

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

    # --- what the customer has told us, this message first, then earlier ones --------

    def absorb_entities(self) -> set[str]:
        """Keeps what this message says (tour, date, month, week, party) for later turns;
        returns the names of the slots it gave."""
        r = self.result
        updates: dict[str, Any] = {}
        if r.entity("tour"):
            updates["tour"] = r.entity("tour")
        # One way of saying when at a time: a new one replaces the others. ("week" is the
        # range slot's name in conversations stored before ranges had their own.)
        if r.entity("date_range"):
            updates.update(dates=r.entity("date_range").split("/"), date=None, month=None)
        elif r.entity("date"):
            updates.update(date=r.entity("date"), dates=None, month=None)
        elif r.entity("month"):
            updates.update(month=r.entity("month"), dates=None, date=None)
        if {"dates", "date", "month"} & updates.keys():
            updates["week"] = None
        party = self.party_from_message()
        if party:
            updates["party"] = party
        if updates:
            self.remember(**updates)
        self.told = {name for name, value in updates.items() if value is not None}
        return self.told

    def party_from_message(self) -> dict[str, int] | None:
        r = self.result
        adults, children, total = r.entity("adults"), r.entity("children"), r.entity("party_size")
        if adults or children:
            party = {"adult": int(adults or 0), "child": int(children or 0)}
            if total and int(total) > party["adult"] + party["child"]:
                party["adult"] = int(total) - party["child"]
            return {k: v for k, v in party.items() if v}
        if total:
            return {"adult": int(total)}
        return None

    def tour(self) -> Tour | None:
        # Kept for the turn: the session's identity map holds objects only weakly, and the
        # handlers ask for the same tour and departure several times.
        slug = self.slot("tour")
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
