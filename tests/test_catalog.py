"""Catalog import: everything checked first, nothing written on error, re-import updates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer, Departure, Guide, Organization, StaffUser, TimelineEvent, Tour
from services import catalog, waitlist
from services.catalog import CatalogError, import_catalog
from tests.conftest import NOW, import_org
from tests.factories import BASE_CATALOG, catalog_data, departure, hold, make_customer

ALL_MODELS = (Organization, Tour, Departure, Guide, StaffUser, TimelineEvent)


def counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in ALL_MODELS}


def import_error(session: Session, data: dict) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        import_catalog(session, data, NOW)
    session.rollback()
    return info.value


def test_import_creates_everything_with_utc_times_and_minor_units(session: Session) -> None:
    org = import_org(session)
    assert (org.slug, org.timezone, org.currency) == ("adventure-treks", "Asia/Kathmandu", "USD")
    assert {(n.channel, n.phone) for n in org.numbers} == {
        ("sms", "+15005550006"),
        ("whatsapp", "+14155238886"),
    }
    ebc = departure(session, org, "EBC0315")
    # 06:00 in Kathmandu (UTC+05:45) is 00:15 UTC.
    assert ebc.starts_at == datetime(2027, 3, 15, 0, 15, tzinfo=UTC)
    assert ebc.ends_at - ebc.starts_at == (datetime(2027, 3, 29) - datetime(2027, 3, 15))
    assert ebc.guide is not None and ebc.guide.name == "Rajesh Kumar"
    assert {t.code: t.price_minor for t in ebc.tour.price_tiers} == {
        "adult": 240000,
        "child": 180000,
    }
    guide = session.scalar(select(Guide))
    assert guide.trip_fee_minor == 80000 and [t.slug for t in guide.tours] == ["ebc-trek"]
    sarah = session.scalar(select(StaffUser).where(StaffUser.email == "sarah@example.com"))
    assert sarah.password_hash and "change-me" not in sarah.password_hash


def test_schedule_generates_unique_codes_on_the_right_local_days(session: Session) -> None:
    org = import_org(session)
    sunset = session.scalar(select(Tour).where(Tour.slug == "sunset-tour"))
    deps = list(
        session.scalars(
            select(Departure).where(Departure.tour_id == sunset.id).order_by(Departure.starts_at)
        )
    )
    # Saturdays and Sundays from 2027-01-16 to 2027-01-31: 16, 17, 23, 24, 30, 31.
    local_days = [org.local(d.starts_at).strftime("%a %d %H:%M") for d in deps]
    assert local_days == [
        "Sat 16 17:30",
        "Sun 17 17:30",
        "Sat 23 17:30",
        "Sun 24 17:30",
        "Sat 30 17:30",
        "Sun 31 17:30",
    ]
    assert len({d.code for d in deps}) == 6
    assert deps[0].code == "SUN0116"


def test_reimport_updates_instead_of_duplicating(session: Session) -> None:
    import_org(session)
    before = counts(session)
    codes = set(session.scalars(select(Departure.code)))
    changed = catalog_data()
    changed["tours"][0]["prices"]["adult"] = "2500.00"
    changed["tours"][0]["departures"][0]["capacity"] = 14
    summary = import_catalog(session, changed, NOW)
    session.commit()
    after = counts(session)
    # Only the capacity change is recorded on the timeline; nothing else is new.
    assert {k: v for k, v in after.items() if k != "TimelineEvent"} == {
        k: v for k, v in before.items() if k != "TimelineEvent"
    }
    assert after["TimelineEvent"] == before["TimelineEvent"] + 1
    assert set(session.scalars(select(Departure.code))) == codes
    assert departure(session, summary.organization, "EBC0315").capacity == 14
    assert summary.created == {}


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (
            lambda d: d["tours"][2]["departures"][0].update(start="2027-02-30 09:00"),
            "tours[2].departures[0].start",
            "day",
        ),
        (lambda d: d["guides"][0].update(phone="12345"), "guides[0].phone", "phone"),
        (
            lambda d: d["organization"].update(timezone="Mars/Olympus"),
            "organization.timezone",
            "IANA",
        ),
        (lambda d: d["organization"].update(currency="XYZ"), "organization.currency", "ISO 4217"),
        (
            lambda d: d["tours"][0]["prices"].update(adult="24.999"),
            "tours[0].prices.adult",
            "decimals",
        ),
        (
            lambda d: d["tours"][0]["departures"][1].update(guide="+9779800000099"),
            "tours[0].departures[1].guide",
            "not one of the guides",
        ),
        (lambda d: d["guides"][0].update(tours=["no-such-tour"]), "guides[0].tours[0]", "no tour"),
        (
            lambda d: (
                d["tours"][1]["departures"].append(
                    {"code": "EBC0315", "start": "2027-02-01 10:00", "capacity": 5}
                )
                if "departures" in d["tours"][1]
                else d["tours"][1].update(
                    departures=[{"code": "EBC0315", "start": "2027-02-01 10:00", "capacity": 5}]
                )
            ),
            "tours[1].departures[0].code",
            "also used",
        ),
        (lambda d: d["tours"][0].update(duration="forever"), "tours[0].duration", "duration"),
        (
            lambda d: d["tours"][1]["schedule"][0].update(days=["caturday"]),
            "tours[1].schedule[0].days[0]",
            "weekday",
        ),
        (lambda d: d["staff"][0].update(role="admin"), "staff[0].role", "owner"),
        (lambda d: d["tours"][0].update(colour="red"), "tours[0].colour", "Extra"),
        # The knowledge base: every field named by its path.
        (
            lambda d: d["tours"][0].update(details={"min_age": "six"}),
            "tours[0].details.min_age",
            "integer",
        ),
        (
            lambda d: d["tours"][0].update(details={"lunch": "yes"}),
            "tours[0].details.lunch",
            "Extra",
        ),
        (
            lambda d: d["organization"].update(faq=[{"q": ["gift voucher"], "a": ""}]),
            "organization.faq[0].a",
            "at least 1",
        ),
        (
            lambda d: d["tours"][1].update(faq=[{"q": "rain?", "a": {"kl": "Qapla"}}]),
            "tours[1].faq[0].a",
            "language",
        ),
        (
            lambda d: d["tours"][1].update(faq=[{"a": "Yes"}]),
            "tours[1].faq[0].q",
            "Field required",
        ),
        # The languages customers are answered in: ones the product speaks, each once.
        (
            lambda d: d["organization"].setdefault("settings", {}).update(languages=["en", "it"]),
            "organization.settings.languages",
            "not a language this product speaks",
        ),
        (
            lambda d: d["organization"].setdefault("settings", {}).update(languages=["pt", "PT"]),
            "organization.settings.languages",
            "each language once",
        ),
        (
            lambda d: d["organization"].setdefault("settings", {}).update(languages=[]),
            "organization.settings.languages",
            "at least 1",
        ),
        # 02:30 on the day Europe/London's clocks go forward does not exist.
        (
            lambda d: (
                d["organization"].update(timezone="Europe/London"),
                d["tours"][2]["departures"][0].update(start="2027-03-28 01:30"),
            ),
            "tours[2].departures[0].start",
            "does not exist",
        ),
    ],
)
def test_bad_catalog_names_the_field_and_imports_nothing(
    session: Session, mutate, path, words
) -> None:
    data = catalog_data()
    mutate(data)
    error = import_error(session, data)
    assert path in [p for p, _ in error.errors], error.message
    assert words.lower() in error.message.lower()
    assert all(v == 0 for v in counts(session).values())


def test_one_bad_field_among_many_good_ones_still_imports_nothing(session: Session) -> None:
    data = catalog_data()
    data["tours"][0]["departures"].append({"code": "EBC0501", "start": "not a date", "capacity": 5})
    error = import_error(session, data)
    assert error.errors[0][0] == "tours[0].departures[2].start"
    assert all(v == 0 for v in counts(session).values())


def test_capacity_cannot_drop_below_seats_already_sold(session: Session, now: datetime) -> None:
    org = import_org(session)
    dep = departure(session, org, "CITY0120")
    hold(session, org, dep, "+12025550111", now, 2, source="admin")
    session.commit()
    data = catalog_data()
    data["tours"][2]["departures"][0]["capacity"] = 1
    error = import_error(session, data)
    assert error.errors == [
        (
            "tours[2].departures[0].capacity",
            "CITY0120 already has 2 seats taken; capacity cannot go below that",
        )
    ]
    assert departure(session, org, "CITY0120").capacity == 3


def test_raising_capacity_offers_the_new_seats_to_the_waitlist(
    session: Session, now: datetime
) -> None:
    org = import_org(session)
    dep = departure(session, org, "CITY0120")
    hold(session, org, dep, "+12025550111", now, 3, source="admin")
    entry = waitlist.join_waitlist(
        session,
        org,
        dep,
        make_customer(session, org, "+12025550112", now),
        {"adult": 2},
        now,
        source="sms",
    )
    session.commit()
    data = catalog_data()
    data["tours"][2]["departures"][0]["capacity"] = 5
    summary = import_catalog(session, data, now)
    session.commit()
    session.refresh(entry)
    assert summary.waitlist_offers == 1
    assert entry.status == "offered"


def test_numbers_and_staff_of_another_organization_are_refused(session: Session) -> None:
    import_org(session)
    other = catalog_data()
    other["organization"] = {**other["organization"], "slug": "other-co"}
    error = import_error(session, other)
    paths = {p for p, _ in error.errors}
    assert {"organization.numbers[0]", "staff[0].email"} <= paths
    assert session.scalar(select(func.count(Organization.id))) == 1


def test_malformed_yaml_and_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("organization: [unclosed\n")
    with pytest.raises(CatalogError, match="line 2"):
        catalog.read_catalog_file(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        catalog.read_catalog_file(tmp_path / "missing.yml")
    bad.write_text("- just\n- a list\n")
    with pytest.raises(CatalogError, match="mapping"):
        catalog.read_catalog_file(bad)


def test_cli_import_reports_errors_without_traceback(app, tmp_path: Path, session: Session) -> None:
    import yaml

    data = catalog_data()
    data["guides"][0]["phone"] = "not-a-phone"
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data))
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 1
    assert "guides[0].phone" in result.output and "Traceback" not in result.output
    path.write_text(yaml.safe_dump(catalog_data()))
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    assert session.scalar(select(func.count(Customer.id))) == 0


def test_documented_example_file_imports(session: Session) -> None:
    """The catalog example in docs/catalog.md is a working file."""
    page = (Path(__file__).parents[1] / "docs" / "catalog.md").read_text()
    block = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    summary = import_catalog(session, catalog.load_yaml(block), NOW)
    assert summary.created["tours"] >= 1
    assert BASE_CATALOG["organization"]["slug"] == summary.organization.slug


def test_the_knowledge_base_is_stored_as_written(session: Session) -> None:
    data = catalog_data()
    data["organization"]["faq"] = [
        {
            "q": ["gift voucher", "gift card"],
            "a": "Gift vouchers for any tour, valid 12 months.",
            "follow_up": "Arrange a gift voucher",
        },
        {"q": {"en": "cash", "pt": ["dinheiro", "pagar em dinheiro"]}, "a": {"en": "Yes"}},
    ]
    data["tours"][1].update(
        description={"en": "Sunset over the valley", "pt": "Pôr do sol sobre o vale"},
        details={"included": "Tea and biscuits", "min_age": 6, "weather": "Runs in light rain"},
        faq=[{"q": "can i bring my dog", "a": "Dogs on a lead are welcome."}],
    )
    summary = import_catalog(session, data, NOW)
    org = summary.organization
    assert org.faq[0] == {
        "q": ["gift voucher", "gift card"],
        "a": "Gift vouchers for any tour, valid 12 months.",
        "follow_up": "Arrange a gift voucher",
    }
    assert org.faq[1]["q"] == {"en": ["cash"], "pt": ["dinheiro", "pagar em dinheiro"]}
    tour = session.scalar(select(Tour).where(Tour.slug == "sunset-tour"))
    assert tour is not None
    assert tour.description == {"en": "Sunset over the valley", "pt": "Pôr do sol sobre o vale"}
    assert tour.details == {
        "included": "Tea and biscuits",
        "min_age": 6,
        "weather": "Runs in light rain",
    }
    assert tour.faq == [{"q": ["can i bring my dog"], "a": "Dogs on a lead are welcome."}]
    # A tour without any of it has empty ones, never None.
    walk = session.scalar(select(Tour).where(Tour.slug == "city-walk"))
    assert walk is not None and (walk.details, walk.faq, walk.description) == ({}, [], None)
