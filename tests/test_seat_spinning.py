"""Seat spinning (issue 16): one number held three whole departures for 24 hours without
paying. A customer's own unpaid holds are capped (organization settings), a departure can keep
a share free of unpaid holds, and holds are shorter close to the start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, Organization, utcnow
from services import catalog_schema
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import new_departure
from tests.test_conversations import day, live_catalog, spoken


def app_with(factory: sessionmaker[Session], **settings: int) -> Flask:
    data = live_catalog()
    data["organization"]["settings"].update(settings)
    with factory() as s:
        import_org(s, utcnow(), **data)
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    return create_app(config)


def hold_by_chat(chat: Chat, days_ahead: int, adults: int) -> str:
    chat.say(f"sunset tour on {spoken(day(days_ahead))} for {adults} adults")
    chat.say("1")
    return chat.say("yes")


def held(factory: sessionmaker[Session]) -> list[Booking]:
    with factory() as s:
        return list(s.scalars(select(Booking).where(Booking.status == "held")))


def test_one_number_cannot_hold_departure_after_departure(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    ada = Chat(app_with(factory).test_client(), factory, phone="+12025550101")
    assert "Hold expires" in hold_by_chat(ada, 6, 4)
    assert "Hold expires" in hold_by_chat(ada, 7, 4)
    refused = hold_by_chat(ada, 8, 4)  # 12 unpaid seats: over the default 10
    assert "as many unpaid seats as we keep for one person" in refused
    assert "Hold expires" not in refused and "/pay/" not in refused
    assert len(held(factory)) == 2
    # Someone else is not affected.
    bob = Chat(ada.client, factory, phone="+12025550102")
    assert "Hold expires" in hold_by_chat(bob, 8, 4)
    # Paying for one frees room under the cap: confirmed seats are not unpaid holds.
    with factory() as s:
        first = s.scalar(select(Booking).where(Booking.status == "held").order_by(Booking.id))
        first.status, first.paid_minor, first.hold_expires_at = "confirmed", first.total_minor, None
        s.commit()
    assert "Hold expires" in hold_by_chat(ada, 8, 4)


def test_the_number_of_unpaid_holds_is_capped_too(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    ada = Chat(
        app_with(factory, unpaid_holds_per_customer=2).test_client(), factory, phone="+12025550101"
    )
    assert "Hold expires" in hold_by_chat(ada, 6, 1)
    assert "Hold expires" in hold_by_chat(ada, 7, 1)
    assert "as many unpaid seats" in hold_by_chat(ada, 8, 1)


def test_a_departure_keeps_a_share_free_of_unpaid_holds(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    app = app_with(factory, unpaid_share_per_departure=50)  # sunset: 20 seats, 10 unpaid
    ada = Chat(app.test_client(), factory, phone="+12025550101")
    bob = Chat(app.test_client(), factory, phone="+12025550102")
    assert "Hold expires" in hold_by_chat(ada, 6, 8)
    refused = hold_by_chat(bob, 6, 4)
    assert "held by others right now" in refused and "/pay/" not in refused
    assert "Hold expires" in hold_by_chat(bob, 6, 2)  # 10 of 20: still within the share


def test_holds_are_shorter_close_to_the_start(pg_url: str, factory: sessionmaker[Session]) -> None:
    app = app_with(factory)
    starts = (utcnow() + timedelta(hours=30)).replace(second=0, microsecond=0)
    with factory() as s:
        org = s.scalar(select(Organization))
        new_departure(s, org, "CITYNEXT", starts, 10, like="CITY3")
        s.commit()
    ada = Chat(app.test_client(), factory, phone="+12025550101")
    ada.say(f"city walk on {spoken(starts.astimezone(org.tz).date())} for 2 people")
    quote = ada.say("1")
    assert "for 4 hours" in quote and "24 hours" not in quote
    before = utcnow()
    assert "Hold expires" in ada.say("yes")
    with factory() as s:
        expires = s.scalar(select(Booking.hold_expires_at))
    assert (
        timedelta(hours=4) - timedelta(minutes=1)
        <= expires - before
        <= timedelta(hours=4, minutes=1)
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"unpaid_seats_per_customer": 0},
        {"unpaid_holds_per_customer": -1},
        {"unpaid_share_per_departure": 5},
        {"unpaid_share_per_departure": 101},
        {"short_hold_hours": 0},
    ],
)
def test_the_caps_are_validated(settings: dict[str, int]) -> None:
    data = live_catalog()
    data["organization"]["settings"].update(settings)
    with pytest.raises(ValueError) as refused:
        catalog_schema.CatalogIn.model_validate(data)
    assert next(iter(settings)) in str(refused.value)


def test_staff_holds_are_not_capped(pg_url: str, factory: sessionmaker[Session]) -> None:
    from services import inventory
    from tests.factories import departure, make_customer

    app_with(factory, unpaid_holds_per_customer=1)
    with factory() as s:
        org = s.scalar(select(Organization))
        customer = make_customer(s, org, "+12025550101", utcnow())
        for code in ("CITY3", "CITY4"):
            inventory.hold_seats(
                s, org, departure(s, org, code), customer, {"adult": 1}, utcnow(), source="admin"
            )
        s.commit()
        assert s.scalar(select(func.count()).select_from(Booking)) == 2


def test_a_big_group_may_hold_its_one_departure(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    ada = Chat(app_with(factory).test_client(), factory, phone="+12025550101")
    assert "Hold expires" in hold_by_chat(ada, 6, 14)  # more than the 10-seat cap, alone
    assert "as many unpaid seats" in hold_by_chat(ada, 7, 1)
