"""indexes the webhook's sender lookup can rely on

customers (organization_id, phone) is unique, so its index already serves lookups by
organization; the extra single-column index only cost writes and, before the table had
statistics, made the planner scan a whole organization's customers to find one phone.
A conversation is unique per customer and channel (the customer implies the
organization): the constraint now leads with the customer, so finding it through its
customer is one index probe, never a scan of the organization's conversations.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_customers_organization_id", table_name="customers")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint(
            "uq_conversations_organization_id_customer_id_channel", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_conversations_customer_id_channel", ["customer_id", "channel"]
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_customer_id_channel", type_="unique")
        batch.create_unique_constraint(
            "uq_conversations_organization_id_customer_id_channel",
            ["organization_id", "customer_id", "channel"],
        )
    op.create_index("ix_customers_organization_id", "customers", ["organization_id"], unique=False)
