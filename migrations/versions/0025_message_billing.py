"""messages.units and messages.country: what a message is billed on, recorded when it is
written (SMS segments, else 1; the recipient's country), so the messaging report sums
them in SQL instead of parsing every phone number and SMS body of the period in Python
(a year's summary and messages CSVs took about a second: bench/admin.py), with a
partial index of the outbound messages not about a booking by recipient and time.
Existing outbound messages are filled in here, a page of ids at a time, with a copy of
what services/message_costs.billing did on 6 December 2026 (frozen here: a migration must
give the same result whatever that module becomes).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 13:20:00
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Outbound messages read (bodies and all) per page.
BATCH = 1000
GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@lru_cache(maxsize=4096)
def _country(phone: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or None
    except phonenumbers.NumberParseException:
        return None


def _segments(body: str) -> int:
    single, part = (160, 153) if set(body) <= GSM else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / part)


def _billing(
    channel: str, category: str | None, phone: str, body: str | None
) -> tuple[int, str | None]:
    """(units, country): SMS segments, else 1; a message without a category is an SMS
    unless it went by WhatsApp."""
    sms = category == "sms" if category else channel != "whatsapp"
    return (_segments(body or "") if sms else 1), _country(phone)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("units", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    # A booking's messages of the conversation, one index range each (the INCLUDE lets
    # PostgreSQL answer from the index).
    op.create_index(
        "ix_messages_billed_talk",
        "messages",
        ["organization_id", "to_phone", "created_at"],
        unique=False,
        postgresql_include=["status", "category", "channel", "country", "units"],
        postgresql_where=sa.text("direction = 'outbound' AND booking_id IS NULL"),
        sqlite_where=sa.text("direction = 'outbound' AND booking_id IS NULL"),
    )
    conn = op.get_bind()
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("direction", sa.String),
        sa.column("channel", sa.String),
        sa.column("category", sa.String),
        sa.column("to_phone", sa.String),
        sa.column("body", sa.Text),
        sa.column("units", sa.Integer),
        sa.column("country", sa.String),
    )
    last = 0
    while True:
        # Keyset pages: never every body at once.
        page = conn.execute(
            sa.select(
                messages.c.id,
                messages.c.channel,
                messages.c.category,
                messages.c.to_phone,
                messages.c.body,
            )
            .where(messages.c.direction == "outbound", messages.c.id > last)
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not page:
            break
        last = page[-1].id
        # One UPDATE per (units, country) of the page: most messages are one unit to a
        # handful of countries.
        groups: dict[tuple[int, str | None], list[int]] = defaultdict(list)
        for mid, channel, category, phone, body in page:
            groups[_billing(channel, category, phone, body)].append(mid)
        for (units, country), ids in groups.items():
            conn.execute(
                messages.update()
                .where(messages.c.id.in_(ids))
                .values(units=units, country=country)
            )


def downgrade() -> None:
    op.drop_index("ix_messages_billed_talk", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("country")
        batch.drop_column("units")
