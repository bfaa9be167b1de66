"""WhatsApp templates for the messages that often reach someone outside the 24-hour
window: the owner's approval or refusal, a departure cancelled (to customers, in each of
the organization's languages) and a trip offered (to a guide, in English and in each
language the organization's guides speak; the guide gets the first of theirs approved). Twilio's
Messages and Content APIs are mocked with `responses` (tests/test_whatsapp.py's
FakeTwilio); each test asserts the exact Messages payload, and the fallbacks: SMS for a
customer who wrote to us by SMS, `needs_template` otherwise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from models import (
    Booking,
    Channel,
    Conversation,
    Departure,
    Guide,
    Message,
    Organization,
    Tour,
    WhatsAppContent,
    utcnow,
)
from services import approvals, assignments, cancellations, outbox, whatsapp_templates
from services.i18n import customer_voice, guide_voice
from services.job_queue import JobQueue
from services.payments import StripeAccount, pay_url
from services.runtime import Runtime
from tests.chat import BASE_URL
from tests.conftest import import_org
from tests.factories import departure, hold, make_customer
from tests.test_conversations import live_catalog
from tests.test_whatsapp import FakeTwilio, config, content_sid, twilio, variables

__all__ = ["twilio"]  # the fixture, imported

LANGUAGES = ["en", "pt", "es", "fr", "de"]
# One customer per language, each with a WhatsApp conversation gone quiet 30 hours ago.
CUSTOMERS = {
    "en": ("+12025550101", "Ada Lovelace"),
    "pt": ("+12025550102", "Beatriz Silva"),
    "es": ("+12025550103", "Carmen Ruiz"),
    "fr": ("+12025550104", "Denise Moreau"),
    "de": ("+12025550105", "Erika Weber"),
}


def make_app(factory: sessionmaker[Session], **settings: object) -> Flask:
    data = live_catalog()
    data["organization"]["settings"].update({"languages": LANGUAGES, **settings})
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config())


def sync(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["whatsapp", "sync"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    return make_app(factory)


def customer_on_whatsapp(
    s: Session, org: Organization, language: str, *, quiet_hours: float = 30, sms: bool = False
) -> None:
    phone, name = CUSTOMERS[language]
    customer = make_customer(s, org, phone, utcnow(), name=name)
    customer.language = language
    last = utcnow() - timedelta(hours=quiet_hours)
    for channel in [Channel.WHATSAPP] + ([Channel.SMS] if sms else []):
        s.add(
            Conversation(
                organization_id=org.id,
                customer_id=customer.id,
                channel=channel,
                last_inbound_at=last - timedelta(hours=1 if channel == Channel.SMS else 0),
                last_message_at=last,
            )
        )
    s.flush()


def sunset(s: Session) -> Departure:
    """The first Sunset Tour (20 seats)."""
    dep = s.scalar(
        select(Departure)
        .join(Departure.tour)
        .where(Tour.slug == "sunset-tour")
        .order_by(Departure.starts_at)
    )
    assert dep is not None
    return dep


def send(s: Session, factory: sessionmaker[Session]) -> None:
    outbox.commit_and_send(s, JobQueue.of(Runtime(config(), factory)))


def sent_to(twilio: FakeTwilio, phone: str) -> list[dict[str, str]]:
    return [m for m in twilio.sent if m["To"] in (f"whatsapp:{phone}", phone)]


def test_sync_makes_the_new_purposes_in_each_language_and_the_guides_in_english(
    app: Flask, twilio: FakeTwilio
) -> None:
    sync(app)
    names = {c["friendly_name"] for c in twilio.contents}
    for purpose in ("approval_confirmed", "approval_declined", "departure_cancelled"):
        assert {f"tourbot_{purpose}_{lang}" for lang in LANGUAGES} <= names
    assert [n for n in names if n.startswith("tourbot_guide_offer")] == ["tourbot_guide_offer_en"]
    by_name = {c["friendly_name"]: c for c in twilio.contents}
    assert by_name["tourbot_departure_cancelled_pt"]["types"]["twilio/text"]["body"] == (
        "Olá {{1}}, lamentamos: o {{2}} de {{3}} foi cancelado ({{4}}). A sua reserva {{5}} "
        "foi cancelada; {{6}}. Responda aqui para escolher outra data."
    )
    with app.app_context():
        from extensions import db

        org = db.session.scalar(select(Organization))
        assert org is not None
        made_in = [
            whatsapp_templates.languages_of(db.session, p, org) for p in whatsapp_templates.PURPOSES
        ]
    assert len(twilio.submitted) == sum(len(languages) for languages in made_in)
    assert {v["category"] for v in twilio.submitted.values()} == {"UTILITY"}


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "declined"])
def test_the_owners_answer_goes_with_its_template_in_the_customers_language(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio, approve: bool
) -> None:
    app = make_app(factory, approval_required=True)
    sync(app)
    client = app.test_client()
    links = {}
    with factory() as s:
        org = s.scalar(select(Organization))
        for language in LANGUAGES:
            customer_on_whatsapp(s, org, language)
            booking = hold(s, org, sunset(s), CUSTOMERS[language][0], utcnow(), source="whatsapp")
            links[language] = approvals.request_approval(
                s, org, booking, utcnow(), secret=app.config["SECRET_KEY"], base_url=BASE_URL
            )
        send(s, factory)
    for language in LANGUAGES:
        path = links[language].removeprefix(BASE_URL)
        page = client.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        action = "confirm" if approve else "decline"
        done = client.post(path, data={"action": action, "csrf_token": token})
        assert done.status_code == 200, done.text
    purpose = "approval_confirmed" if approve else "approval_declined"
    with factory() as s:
        org = s.scalar(select(Organization))
        for language in LANGUAGES:
            phone, name = CUSTOMERS[language]
            booking = s.scalar(
                select(Booking).join(Booking.customer).where(Booking.customer.has(phone=phone))
            )
            voice = customer_voice(org, booking.customer)
            (message,) = sent_to(twilio, phone)
            assert message["To"] == f"whatsapp:{phone}"
            assert message["ContentSid"] == content_sid(factory, f"template_{purpose}", language)
            assert "Body" not in message
            when = voice.when(booking.departure.starts_at)
            expected = {"1": name.split()[0], "2": booking.reference, "3": "Sunset Tour", "4": when}
            if approve:
                deposit = voice.money(booking.deposit_minor, booking.currency)
                expected |= {"5": deposit, "6": pay_url(booking, BASE_URL)}
            assert variables(message) == expected, language


def test_a_cancelled_departure_reaches_each_customer_with_the_template_in_their_language(
    app: Flask, twilio: FakeTwilio, factory: sessionmaker[Session]
) -> None:
    sync(app)
    with factory() as s:
        org = s.scalar(select(Organization))
        for language in LANGUAGES:
            customer_on_whatsapp(s, org, language)
            hold(s, org, sunset(s), CUSTOMERS[language][0], utcnow(), source="whatsapp")
        s.commit()
        cancellations.cancel_departure(
            s, org, sunset(s), "storm warning", utcnow(), stripe=StripeAccount(None)
        )
        send(s, factory)
    refund = {
        "en": "nothing was paid",
        "pt": "nada foi pago",
        "es": "no se pagó nada",
        "fr": "rien n'a été payé",
        "de": "es wurde nichts bezahlt",
    }
    with factory() as s:
        org = s.scalar(select(Organization))
        for language in LANGUAGES:
            phone, name = CUSTOMERS[language]
            booking = s.scalar(select(Booking).where(Booking.customer.has(phone=phone)))
            assert booking.status == "cancelled"
            when = customer_voice(org, booking.customer).when(booking.departure.starts_at)
            (message,) = sent_to(twilio, phone)
            sid = content_sid(factory, "template_departure_cancelled", language)
            assert (message["To"], message["ContentSid"]) == (f"whatsapp:{phone}", sid)
            assert variables(message) == {
                "1": name.split()[0],
                "2": "Sunset Tour",
                "3": when,
                "4": "storm warning",
                "5": booking.reference,
                "6": refund[language],
            }


def test_without_an_approved_template_sms_if_they_wrote_by_sms_else_staff_handle_it(
    app: Flask, twilio: FakeTwilio, factory: sessionmaker[Session]
) -> None:
    twilio.reviews = {"departure_cancelled": ("pending", None)}
    sync(app)
    with factory() as s:
        org = s.scalar(select(Organization))
        customer_on_whatsapp(s, org, "pt", sms=True)  # has written to us by SMS too
        customer_on_whatsapp(s, org, "de")  # WhatsApp only
        for language in ("pt", "de"):
            hold(s, org, sunset(s), CUSTOMERS[language][0], utcnow(), source="whatsapp")
        s.commit()
        record = cancellations.cancel_departure(
            s, org, sunset(s), "storm warning", utcnow(), stripe=StripeAccount(None)
        )
        send(s, factory)
        # The one nobody could reach is on the list of people to call.
        assert [(u["phone"], u["why"]) for u in record.unreachable] == [
            (CUSTOMERS["de"][0], "WhatsApp window closed and no approved template")
        ]
    pt_phone, de_phone = CUSTOMERS["pt"][0], CUSTOMERS["de"][0]
    # On every channel they have, once each: the WhatsApp row did not become a second SMS.
    (sms,) = sent_to(twilio, pt_phone)
    assert sms["To"] == pt_phone and "ContentSid" not in sms
    assert sms["Body"].startswith("Lamentamos")
    assert sent_to(twilio, de_phone) == []
    with factory() as s:
        rows = s.scalars(select(Message).where(Message.to_phone.in_([pt_phone, de_phone])))
        statuses = sorted((r.to_phone, r.channel, r.status) for r in rows)
    assert statuses == [
        (pt_phone, "sms", "sent"),
        (pt_phone, "whatsapp", "needs_template"),
        (de_phone, "whatsapp", "needs_template"),
    ]


def test_the_owners_answer_falls_back_to_sms_for_a_customer_who_wrote_by_sms(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio
) -> None:
    app = make_app(factory, approval_required=True)
    twilio.reviews = {"approval_confirmed_fr": ("rejected", "INVALID_FORMAT")}
    sync(app)
    with factory() as s:
        org = s.scalar(select(Organization))
        customer_on_whatsapp(s, org, "fr", sms=True)
        booking = hold(s, org, sunset(s), CUSTOMERS["fr"][0], utcnow(), source="whatsapp")
        approvals.request_approval(
            s, org, booking, utcnow(), secret=app.config["SECRET_KEY"], base_url=BASE_URL
        )
        approvals.decide(
            s, org, booking, True, utcnow(), base_url=BASE_URL, nonce=booking.approval_nonce
        )
        send(s, factory)
    (sms,) = sent_to(twilio, CUSTOMERS["fr"][0])
    assert sms["To"] == CUSTOMERS["fr"][0] and sms["From"] == "+15005550006"
    assert sms["Body"].startswith("Bonne nouvelle")


def test_a_trip_offered_to_a_guide_without_a_language_goes_with_the_english_template(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio
) -> None:
    data = live_catalog()
    data["organization"]["numbers"] = ["whatsapp:+14155238886"]  # no SMS number
    with factory() as s:
        import_org(s, utcnow(), **data)
    app = create_app(config())
    sync(app)
    with factory() as s:
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide))
        dep = departure(s, org, "EBC100")
        assignments.offer_assignment(s, org, dep, guide, utcnow())
        send(s, factory)
        when = f"{org.local(dep.starts_at):%a} {org.local(dep.starts_at).day} "
        when += f"{org.local(dep.starts_at):%b %H:%M}"
    (offer,) = sent_to(twilio, guide.phone)
    assert offer["To"] == f"whatsapp:{guide.phone}"
    assert offer["ContentSid"] == content_sid(factory, "template_guide_offer", "en")
    assert variables(offer) == {
        "1": "Everest Base Camp Trek",
        "2": "EBC100",
        "3": when,
        "4": "Kathmandu Airport, domestic terminal",
        "5": "0",
        "6": "Lead",
        "7": "$800",
        "8": "EBC100",
        "9": "EBC100",
    }


def test_a_guide_offer_waits_for_staff_while_its_template_is_not_approved(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio
) -> None:
    data = live_catalog()
    data["organization"]["numbers"] = ["whatsapp:+14155238886"]
    with factory() as s:
        import_org(s, utcnow(), **data)
    twilio.reviews = {"guide_offer": ("pending", None)}
    sync(create_app(config()))
    with factory() as s:
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide))
        assignments.offer_assignment(s, org, departure(s, org, "EBC100"), guide, utcnow())
        send(s, factory)
        row = s.scalar(select(Message).where(Message.to_phone == guide.phone))
        assert (row.status, row.template_sid) == ("needs_template", None)
    assert sent_to(twilio, guide.phone) == []


def whatsapp_only_org(factory: sessionmaker[Session], guide_languages: list[str]) -> str:
    """The live catalog on a WhatsApp number alone (guides reached on WhatsApp), its first
    guide speaking guide_languages; returns that guide's phone."""
    data = live_catalog()
    data["organization"]["numbers"] = ["whatsapp:+14155238886"]
    data["guides"][0]["languages"] = guide_languages
    with factory() as s:
        import_org(s, utcnow(), **data)
    return str(data["guides"][0]["phone"])


OFFER = {
    "pt": "Proposta de passeio: Everest Base Camp Trek (EBC100)",
    "es": "Oferta de tour: Everest Base Camp Trek (EBC100)",
    "fr": "Proposition de sortie : Everest Base Camp Trek (EBC100)",
    "de": "Tourangebot: Everest Base Camp Trek (EBC100)",
}
ROLE = {"pt": "principal", "es": "principal", "fr": "principal", "de": "Hauptguide"}


@pytest.mark.parametrize("language", sorted(OFFER))
def test_a_trip_offered_to_a_guide_goes_with_the_template_in_their_language(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio, language: str
) -> None:
    phone = whatsapp_only_org(factory, [language, "en"])
    sync(create_app(config()))
    # Made in English (guides without a language) and in the guide's, not in the others.
    names = sorted(c["friendly_name"] for c in twilio.contents)
    assert [n for n in names if n.startswith("tourbot_guide_offer")] == sorted(
        ["tourbot_guide_offer_en", f"tourbot_guide_offer_{language}"]
    )
    made = next(c for c in twilio.contents if c["friendly_name"].endswith(f"offer_{language}"))
    assert made["types"]["twilio/text"]["body"].startswith(
        OFFER[language].replace("Everest Base Camp Trek", "{{1}}").replace("EBC100", "{{2}}")
    )
    with factory() as s:
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide).where(Guide.phone == phone))
        dep = departure(s, org, "EBC100")
        assignments.offer_assignment(s, org, dep, guide, utcnow())
        send(s, factory)
        voice = guide_voice(org, guide)
        assert voice.language == language
        when = voice.when(dep.starts_at)
        fee = voice.money(guide.trip_fee_minor, org.currency)
        english_when = guide_voice(org, guide, "en").when(dep.starts_at)
    assert when != english_when  # the date in the guide's words (Babel), not English
    (offer,) = sent_to(twilio, phone)
    assert offer["To"] == f"whatsapp:{phone}" and "Body" not in offer
    assert offer["ContentSid"] == content_sid(factory, "template_guide_offer", language)
    assert variables(offer) == {
        "1": "Everest Base Camp Trek",
        "2": "EBC100",
        "3": when,
        "4": "Kathmandu Airport, domestic terminal",
        "5": "0",
        "6": ROLE[language],
        "7": fee,
        "8": "EBC100",
        "9": "EBC100",
    }


def test_a_guide_whose_template_is_under_review_gets_the_next_language_approved(
    pg_url: str, factory: sessionmaker[Session], twilio: FakeTwilio
) -> None:
    """Portuguese first, then French: the Portuguese template still pending, the offer goes
    in French, the guide's second language, rather than wait; with neither, English."""
    phone = whatsapp_only_org(factory, ["pt", "fr"])
    twilio.reviews = {"guide_offer_pt": ("pending", None)}
    sync(create_app(config()))
    with factory() as s:
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide).where(Guide.phone == phone))
        assignments.offer_assignment(s, org, departure(s, org, "EBC100"), guide, utcnow())
        send(s, factory)
        french_when = guide_voice(org, guide, "fr").when(departure(s, org, "EBC100").starts_at)
    (offer,) = sent_to(twilio, phone)
    assert offer["ContentSid"] == content_sid(factory, "template_guide_offer", "fr")
    assert variables(offer)["3"] == french_when and variables(offer)["6"] == "principal"

    twilio.reviews = {"guide_offer_pt": ("pending", None), "guide_offer_fr": ("rejected", "X")}
    with factory() as s:
        s.execute(update(WhatsAppContent).values(approval_status=None))
        s.commit()
    sync(create_app(config()))
    with factory() as s:  # offered again, after ops withdrew it
        org = s.scalar(select(Organization))
        guide = s.scalar(select(Guide).where(Guide.phone == phone))
        dep = departure(s, org, "EBC100")
        assignments.release_guide(s, org, dep, utcnow())
        assignments.offer_assignment(s, org, dep, guide, utcnow())
        send(s, factory)
    offer = sent_to(twilio, phone)[-1]
    assert offer["ContentSid"] == content_sid(factory, "template_guide_offer", "en")
    assert variables(offer)["3"] != french_when and variables(offer)["6"] == "Lead"
