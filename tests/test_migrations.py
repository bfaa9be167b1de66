"""The schema comes from the migrations; they must match the models on both databases."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, select, text

from cli.db import alembic_config
from models import Base, BookingStatus
from models.db import make_engine


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_postgres_migrations_match_models(engine: Engine) -> None:
    assert _diff(engine) == []


def test_sqlite_migrations_run_and_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    command.upgrade(alembic_config(url), "head")
    sqlite = make_engine(url)
    try:
        assert _diff(sqlite) == []
    finally:
        sqlite.dispose()


def test_migrations_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    sqlite = make_engine(url)
    try:
        assert _diff(sqlite) == []
    finally:
        sqlite.dispose()


# --- 0012: one casing for stored statuses -----------------------------------------------

STATUS_EVENTS = [
    ("BK-MIG01", "booking.status_changed", {"from": "HELD", "to": "PENDING_APPROVAL"}),
    ("LD-MIG01", "lead.status_changed", {"from": "NEW", "to": "QUOTED", "note": "Q-1"}),
    # Not a status change: its "to" is someone's words and must be left alone.
    ("BK-MIG01", "booking.note", {"to": "Ask FOR Ram"}),
]


def _tables_as_stored(engine: Engine) -> dict[str, Table]:
    """The models' tables with only the columns an older revision has (with the models'
    defaults), so rows can be written as that revision stored them."""
    inspector = inspect(engine)
    metadata = MetaData()
    return {
        name: Table(
            name,
            metadata,
            *(
                column._copy()
                for column in model.columns
                if column.name in {c["name"] for c in inspector.get_columns(name)}
            ),
        )
        for name, model in Base.metadata.tables.items()
        if inspector.has_table(name)
    }


def _rows_at_0011(engine: Engine) -> None:
    """A booking and a lead as revision 0011 stored them (UPPERCASE), with their timeline."""
    when = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    t = _tables_as_stored(engine)
    with engine.begin() as conn:
        org = conn.execute(
            t["organizations"]
            .insert()
            .values(slug="mig", name="Mig", timezone="UTC", currency="USD")
        ).inserted_primary_key[0]
        customer = conn.execute(
            t["customers"].insert().values(organization_id=org, phone="+15550000001")
        ).inserted_primary_key[0]
        tour = conn.execute(
            t["tours"]
            .insert()
            .values(organization_id=org, slug="t", name="T", code_prefix="T", duration_minutes=60)
        ).inserted_primary_key[0]
        departure = conn.execute(
            t["departures"]
            .insert()
            .values(
                organization_id=org,
                tour_id=tour,
                code="T1",
                starts_at=when,
                ends_at=when,
                capacity=10,
                status="open",
            )
        ).inserted_primary_key[0]
        conn.execute(
            t["leads"]
            .insert()
            .values(
                organization_id=org,
                reference="LD-MIG01",
                customer_id=customer,
                source="sms",
                status="QUOTED",
            )
        )
        conn.execute(
            t["bookings"]
            .insert()
            .values(
                organization_id=org,
                reference="BK-MIG01",
                customer_id=customer,
                departure_id=departure,
                status="PENDING_APPROVAL",
                source="sms",
                seats=2,
                currency="USD",
                total_minor=100,
                deposit_minor=30,
            )
        )
        for ref, kind, content in STATUS_EVENTS:
            conn.execute(
                t["timeline_events"]
                .insert()
                .values(
                    organization_id=org,
                    object_type=ref[:2].lower(),
                    object_id=1,
                    object_ref=ref,
                    event_type=kind,
                    actor="system",
                    source="system",
                    content=content,
                )
            )


def _stored(engine: Engine) -> tuple[str, str, list[dict[str, str]]]:
    t = _tables_as_stored(engine)
    with engine.connect() as conn:
        booking = conn.scalar(select(t["bookings"].c.status))
        lead = conn.scalar(select(t["leads"].c.status))
        events = list(
            conn.scalars(select(t["timeline_events"].c.content).order_by(t["timeline_events"].c.id))
        )
    return booking, lead, events


def _check_0012_both_ways(url: str) -> None:
    cfg = alembic_config(url)
    command.upgrade(cfg, "0011")
    engine = make_engine(url)
    try:
        _rows_at_0011(engine)
        command.upgrade(cfg, "0012")
        assert _stored(engine) == (
            "pending_approval",
            "quoted",
            [
                {"from": "held", "to": "pending_approval"},
                {"from": "new", "to": "quoted", "note": "Q-1"},
                {"to": "Ask FOR Ram"},
            ],
        )
        assert BookingStatus(_stored(engine)[0]) is BookingStatus.PENDING_APPROVAL
        command.downgrade(cfg, "0011")
        assert _stored(engine) == ("PENDING_APPROVAL", "QUOTED", [c for _, _, c in STATUS_EVENTS])
    finally:
        engine.dispose()


def test_0012_lowercases_statuses_and_back_on_sqlite(tmp_path: Path) -> None:
    _check_0012_both_ways(f"sqlite:///{tmp_path / 'casing.db'}")


@contextmanager
def _scratch_postgres(pg_url: str, suffix: str) -> Iterator[str]:
    """A database of its own: the shared test database stays at head for the other tests."""
    server, name = pg_url.rsplit("/", 1)
    scratch = f"{name}_{suffix}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        yield f"{server}/{scratch}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.dispose()


def test_0012_lowercases_statuses_and_back_on_postgres(pg_url: str) -> None:
    with _scratch_postgres(pg_url, "migration") as url:
        _check_0012_both_ways(url)


# --- 0014: the knowledge base; a tour's description becomes a text or a language map ---


def test_rebuilding_tables_keeps_the_rows_that_refer_to_them(tmp_path: Path) -> None:
    """SQLite rebuilds a table to change it (0014 rebuilds tours and organizations); the
    departures and prices that refer to them must survive both ways."""
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0013")
    sqlite = make_engine(url)
    t = _tables_as_stored(sqlite)
    when = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    try:
        with sqlite.begin() as conn:
            conn.execute(
                t["organizations"]
                .insert()
                .values(id=1, slug="kb", name="KB", timezone="UTC", currency="EUR")
            )
            # Text at 0012 (the models' column is JSON now, so not through the model).
            conn.execute(
                text(
                    "INSERT INTO tours (id, organization_id, slug, name, aliases, code_prefix, "
                    "duration_minutes, description, active, created_at, updated_at) VALUES "
                    "(1, 1, 'boat', 'Boat', '[]', 'BT', 90, 'Two hours on the river', 1, "
                    "'2027-01-01', '2027-01-01')"
                )
            )
            conn.execute(
                t["price_tiers"].insert().values(tour_id=1, code="adult", label="A", price_minor=1)
            )
            conn.execute(
                t["departures"]
                .insert()
                .values(
                    organization_id=1,
                    tour_id=1,
                    code="BT0301",
                    starts_at=when,
                    ends_at=when,
                    capacity=8,
                )
            )

        def counts() -> tuple[int, int, int]:
            with sqlite.connect() as conn:
                tours, tiers, departures = (
                    conn.scalar(text(f"SELECT count(*) FROM {name}"))
                    for name in ("tours", "price_tiers", "departures")
                )
                return tours, tiers, departures

        command.upgrade(cfg, "0014")
        assert counts() == (1, 1, 1)
        with sqlite.connect() as conn:
            row = conn.execute(text("SELECT description, details, faq FROM tours")).one()
        assert tuple(row) == ('"Two hours on the river"', "{}", "[]")
        command.downgrade(cfg, "0013")
        assert counts() == (1, 1, 1)
        with sqlite.connect() as conn:
            assert conn.scalar(text("SELECT description FROM tours")) == "Two hours on the river"
    finally:
        sqlite.dispose()


# --- migrations stand alone ---------------------------------------------------------------

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
# The application's own packages; a migration may use models.base's column types only.
APP_PACKAGES = {"models", "services", "bot", "intents", "admin", "api", "cli", "pages"}
APP_PACKAGES |= {"webhooks", "app", "config", "extensions", "demo", "bench", "soak"}


def test_migrations_import_no_code_of_the_app() -> None:
    """A migration runs the same years later: logic it needs is copied into it, since the
    app's functions will change (0025 once filled messages with services' billing)."""
    found = []
    for path in sorted(MIGRATIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in APP_PACKAGES and name != "models.base"
            ]
    assert found == []


# --- 0025: what each outbound message is billed on --------------------------------------

GSM_200 = "a" * 200  # 2 SMS segments of 153
ACCENTED_71 = "é" * 70 + "ü"  # é and ü are GSM: 71 characters, 1 segment
EMOJI_71 = "🙂" + "a" * 70  # not GSM: 2 segments of 67
# (direction, channel, category, to_phone, body) -> (units, country) after 0025
BILLING_CASES = [
    (("outbound", "sms", None, "+442071838750", GSM_200), (2, "GB")),
    (("outbound", "sms", "sms", "+5511987654321", EMOJI_71), (2, "BR")),
    (("outbound", "sms", None, "+15005550006", ACCENTED_71), (1, "US")),
    (("outbound", "whatsapp", None, "+4915123456789", GSM_200), (1, "DE")),
    (("outbound", "whatsapp", "utility", "+33612345678", EMOJI_71), (1, "FR")),
    (("outbound", "whatsapp", "sms", "+33612345678", GSM_200), (2, "FR")),
    (("outbound", "sms", None, "not a number", ""), (1, None)),
    (("inbound", "sms", None, "+442071838750", GSM_200), (None, None)),
]


def _check_0025_fills_billing(url: str) -> None:
    cfg = alembic_config(url)
    command.upgrade(cfg, "0024")
    engine = make_engine(url)
    when = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    try:
        t = _tables_as_stored(engine)
        # Enough rows for three pages of 1,000, the cases spread over them.
        rows = [BILLING_CASES[n % len(BILLING_CASES)][0] for n in range(2500)]
        with engine.begin() as conn:
            org = conn.execute(
                t["organizations"]
                .insert()
                .values(slug="bill", name="Bill", timezone="UTC", currency="USD")
            ).inserted_primary_key[0]
            conn.execute(
                t["messages"].insert(),
                [
                    dict(
                        organization_id=org,
                        direction=direction,
                        channel=channel,
                        category=category,
                        from_phone="+15005550006",
                        to_phone=phone,
                        body=body,
                        status="sent",
                        created_at=when,
                        updated_at=when,
                    )
                    for direction, channel, category, phone, body in rows
                ],
            )
        command.upgrade(cfg, "0025")
        with engine.connect() as conn:
            got = conn.execute(text("SELECT units, country FROM messages ORDER BY id")).all()
        expected = [BILLING_CASES[n % len(BILLING_CASES)][1] for n in range(2500)]
        assert [tuple(row) for row in got] == expected
    finally:
        engine.dispose()


def test_0025_fills_billing_on_sqlite(tmp_path: Path) -> None:
    _check_0025_fills_billing(f"sqlite:///{tmp_path / 'billing.db'}")


def test_0025_fills_billing_on_postgres(pg_url: str) -> None:
    with _scratch_postgres(pg_url, "billing") as url:
        _check_0025_fills_billing(url)
