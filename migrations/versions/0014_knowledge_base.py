"""what customers may ask: tours' details and FAQ, the organization's FAQ, and a tour's
description as a string or a map language -> string

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = models.base.JSONType


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("faq", JSON, nullable=False, server_default="[]"))
    with op.batch_alter_table("tours") as batch:
        batch.add_column(sa.Column("details", JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("faq", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("description_text", JSON, nullable=True))
    # The plain description becomes a JSON string: the same code on SQLite and PostgreSQL.
    conn = op.get_bind()
    tours = sa.table(
        "tours",
        sa.column("id", sa.Integer),
        sa.column("description", sa.Text),
        sa.column("description_text", JSON),
    )
    rows = conn.execute(sa.select(tours.c.id, tours.c.description)).all()
    for row in rows:
        if row.description is not None:
            conn.execute(
                tours.update()
                .where(tours.c.id == row.id)
                .values(description_text=row.description)
            )
    with op.batch_alter_table("tours") as batch:
        batch.drop_column("description")
        batch.alter_column("description_text", new_column_name="description")


def downgrade() -> None:
    with op.batch_alter_table("tours") as batch:
        batch.add_column(sa.Column("description_text", sa.Text, nullable=True))
    conn = op.get_bind()
    tours = sa.table(
        "tours",
        sa.column("id", sa.Integer),
        sa.column("description", JSON),
        sa.column("description_text", sa.Text),
    )
    for row in conn.execute(sa.select(tours.c.id, tours.c.description)).all():
        text = row.description
        if isinstance(text, dict):  # a language map keeps its first language
            text = next(iter(text.values()), None)
        if text is not None:
            conn.execute(
                tours.update().where(tours.c.id == row.id).values(description_text=text)
            )
    with op.batch_alter_table("tours") as batch:
        batch.drop_column("description")
        batch.alter_column("description_text", new_column_name="description")
        batch.drop_column("faq")
        batch.drop_column("details")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("faq")
