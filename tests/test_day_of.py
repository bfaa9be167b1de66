"""The day itself: on the departure's day each customer is told when, the meeting point
(with a map pin on WhatsApp: Twilio's PersistentAction "geo:LAT,LON|LABEL"; a maps link
in the words) and their guide's name; outside WhatsApp's 24-hour window the approved
`day_of` template in their language. Tours' coordinates come from the catalog, checked on
import. Twilio's Messages API is mocked with `responses`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from models import Channel, Conversation, Departure, Message, Organization, utcnow
from services import bookings, reminders
from services.i18n import customer_voice
from tests.chat import BASE_URL
from tests.conftest import import_org
from tests.factories import catalog_data, hold, make_customer
from tests.test_conversations import live_catalog
from tests.test_whatsapp import FakeTwilio, config, content_sid, twilio, variables
from tests.test_whatsapp_purposes import send, sent_to

__all__ = ["twilio"]  # the fixture, imported

PLACE = "Thamel Chowk, by the Kathmandu Guest House gate"
MAYA = {"name": "Maya Gurung", "phone": "+9779800000003", "tours": ["sunset-tour"]}
MAP = "https://www.google.com/maps/search/?api=1&query=27.715400,85.312300"
ADA, CARMEN, BEN = "+12025550101", "+12025550103", "+12025550102"


def make_app(factory: sessionmaker[Session], starts: datetime) -> Flask:
    data = live_catalog()
    data["organization"]["settings"]["languages"] = ["en", "es"]
    data["guides"].append(MAYA)
    sunset = data["tours"][1]
    sunset.update(meeting_point=PLACE, coordinates="27.7154, 85.3123")
    local = starts.astimezone(ZoneInfo("Asia/Kathmandu"))
    sunset["departures"] = [
        {
            "code": "SUNTODAY",
            "start": f"{local:%Y-%m-%d %H:%M}",
            "capacity": 10,
            "guide": MAYA["phone"],
        }
    ]
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config())


def booked(s: Session, org: Organization, phone: str, name: str, channel: str, **kw: Any) -> None:
    customer = make_customer(s, org, phone, utcnow(), name=name)
    customer.language = kw.get("language", "en")
    s.add(
        Conversation(
            organization_id=org.id,
            customer_id=customer.id,
            channel=channel,
            last_inbound_at=utcnow() - timedelta(hours=kw.get("quiet_hours", 1)),
        )
    )
    dep = s.scalar(select(Departure).where(Departure.code == "SUNTODAY"))
    booking = hold(s, org, dep, phone, utcnow(), source=channel)
    bookings.confirm_booking(s, org, booking, utcnow())


def test_on_the_day_the_meeting_point_with_its_pin_and_the_guides_name(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio
) -> None:
    starts = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    app = make_app(factory, starts)
    assert app.test_cli_runner().invoke(args=["whatsapp", "sync"]).exit_code == 0
    with factory() as s:
        org = s.scalar(select(Organization))
        booked(s, org, ADA, "Ada Lovelace", Channel.WHATSAPP)
        booked(s, org, CARMEN, "Carmen Ruiz", Channel.WHATSAPP, language="es", quiet_hours=30)
        booked(s, org, BEN, "Ben Carter", Channel.SMS)
        s.commit()
        sent = reminders.send_due_reminders(s, utcnow(), BASE_URL)
        assert (sent["day_of"], sent["pre_departure"]) == (3, 0)  # not both on the day
        send(s, factory)
        voices = {
            c.phone: customer_voice(org, c)
            for c in (make_customer(s, org, p, utcnow()) for p in (ADA, CARMEN, BEN))
        }

    # WhatsApp, inside the window: the words with the pin.
    (ada,) = sent_to(twilio, ADA)
    assert ada["To"] == f"whatsapp:{ADA}" and "ContentSid" not in ada
    assert ada["PersistentAction"] == f"geo:27.715400,85.312300|{PLACE}"
    time = voices[ADA].clock(starts)
    assert ada["Body"] == (
        f"Today is the day! Sunset Tour at {time} ("
        + ada["Body"].split("(")[1].split(")")[0]
        + f").\nMeeting point: {PLACE}.\nMap: {MAP}\nYour guide: Maya Gurung.\n"
        "See you there! Questions? Reply here."
    )
    # WhatsApp, outside it: the approved template in her language.
    (carmen,) = sent_to(twilio, CARMEN)
    assert carmen["ContentSid"] == content_sid(factory, "template_day_of", "es")
    filled = variables(carmen)
    assert filled == {
        "1": "Carmen",
        "2": "Sunset Tour",
        "3": voices[CARMEN].clock(starts),
        "4": filled["4"],
        "5": PLACE,
        "6": MAP,
        "7": "Maya Gurung",
    }
    assert filled["4"].startswith("BK-") and "PersistentAction" not in carmen
    # SMS: the maps link, no pin.
    (ben,) = sent_to(twilio, BEN)
    assert ben["To"] == BEN and "PersistentAction" not in ben
    assert f"Map: {MAP}" in ben["Body"] and "Maya Gurung" in ben["Body"]

    with factory() as s:  # once
        assert sum(reminders.send_due_reminders(s, utcnow(), BASE_URL).values()) == 0
        s.commit()
        assert s.scalar(select(func.count()).where(Message.body.like("Today is%"))) == 2


def test_from_seven_in_the_morning_or_three_hours_before_an_earlier_start() -> None:
    org = SimpleNamespace(local=lambda m: m.astimezone(ZoneInfo("Asia/Kathmandu")))
    tz = ZoneInfo("Asia/Kathmandu")
    evening = SimpleNamespace(starts_at=datetime(2027, 1, 16, 17, 30, tzinfo=tz))
    dawn = SimpleNamespace(starts_at=datetime(2027, 1, 16, 6, 0, tzinfo=tz))
    at = lambda h, m=0, d=16: datetime(2027, 1, d, h, m, tzinfo=tz)  # noqa: E731
    due = reminders.day_of_due
    assert not due(org, evening, at(6, 59)) and due(org, evening, at(7, 0))  # type: ignore[arg-type]
    assert due(org, evening, at(17, 29)) and not due(org, evening, at(17, 30))  # type: ignore[arg-type]
    assert not due(org, dawn, at(2, 59)) and due(org, dawn, at(3, 0))  # type: ignore[arg-type]
    assert not due(org, evening, at(23, 0, d=15))  # type: ignore[arg-type]


def test_catalog_import_checks_the_coordinates(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "catalog.yml"
    for bad, why in [
        ("91, 85.3", "latitude 91.0 is not between -90 and 90"),
        ("27.7", "latitude and longitude"),
        ("27.7, 200", "longitude 200.0 is not between -180 and 180"),
    ]:
        data = catalog_data()
        data["tours"][1]["coordinates"] = bad
        path.write_text(yaml.safe_dump(data))
        result = app.test_cli_runner().invoke(args=["catalog", "import", str(path)])
        assert result.exit_code == 1, result.output
        assert "tours[1].coordinates" in result.output and why in result.output
    data = catalog_data()
    data["tours"][1]["coordinates"] = [28.2096, 83.958]
    path.write_text(yaml.safe_dump(data))
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0, result.output


def test_the_demo_catalog_has_every_meeting_point_pinned() -> None:
    text = (Path(__file__).parents[1] / "demo" / "catalog.yml.j2").read_text()
    assert text.count("meeting_point:") == text.count("coordinates:") == 4
