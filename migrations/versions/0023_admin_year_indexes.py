"""admin indexes for a year of data

Found by `make bench-admin` with a year (10,000 bookings, 30,000 conversations, 240,000
messages): the report's "conversations a person answered" read every message of the
period to find staff replies (a partial index on kind = 'agent' holds only those), and
messages had no index by organization and time; the report's conversations with a
customer message in the period are found by their last one; the leads board sorted every lead of a
status to show the newest 50; a name, email or phone fragment (LIKE '%wils%') read every
customer: on PostgreSQL, trigram indexes (pg_trgm) answer those LIKEs, the same SQL.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRIGRAM_COLUMNS = ("lower(name)", "lower(email)", "phone")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for n, column in enumerate(TRIGRAM_COLUMNS):
            op.execute(
                f"CREATE INDEX ix_customers_trgm_{n} ON customers "
                f"USING gin ({column} gin_trgm_ops)"
            )
    op.create_index(
        "ix_conversations_org_last_inbound",
        "conversations",
        ["organization_id", "last_inbound_at"],
        unique=False,
    )
    op.create_index(
        "ix_leads_org_status_updated",
        "leads",
        ["organization_id", "status", "updated_at"],
        unique=False,
    )
    op.drop_index("ix_leads_org_status", table_name="leads")
    op.create_index(
        "ix_messages_org_created", "messages", ["organization_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_messages_org_agent",
        "messages",
        ["organization_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("kind = 'agent'"),
        sqlite_where=sa.text("kind = 'agent'"),
    )


def downgrade() -> None:
    op.create_index("ix_leads_org_status", "leads", ["organization_id", "status"], unique=False)
    op.drop_index("ix_leads_org_status_updated", table_name="leads")
    op.drop_index("ix_conversations_org_last_inbound", table_name="conversations")
    if op.get_bind().dialect.name == "postgresql":
        for n in range(len(TRIGRAM_COLUMNS)):
            op.execute(f"DROP INDEX ix_customers_trgm_{n}")
    op.drop_index("ix_messages_org_agent", table_name="messages")
    op.drop_index("ix_messages_org_created", table_name="messages")
