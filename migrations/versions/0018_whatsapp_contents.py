"""whatsapp_contents: the interactive WhatsApp messages (list picker, quick replies, pay
buttons) made through Twilio's Content API, one per organization, kind and language

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=12), nullable=False),
        sa.Column("content_sid", sa.String(length=64), nullable=False),
        sa.Column("definition", models.base.JSONType, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_whatsapp_contents_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_contents")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "language",
            name=op.f("uq_whatsapp_contents_organization_id_kind_language"),
        ),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_contents")
