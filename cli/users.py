"""`flask users create`: a staff login for the admin (the catalog file's staff entries
create users too)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cli.common import unit_of_work
from services import api_tokens, staff


@click.group("users", help="Staff accounts for the admin.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--role", required=True, type=click.Choice(["owner", "ops", "sales"]))
@click.option("--email", required=True)
@click.option("--name", default="", help="Shown to colleagues; defaults to the email.")
@click.option("--phone", default=None, help="For notifications, any format.")
@click.password_option(
    "--password", prompt=True, help="At least 10 characters; asked for when not given."
)
@with_appcontext
def create_user(
    org_slug: str, role: str, email: str, name: str, phone: str | None, password: str
) -> None:
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, org_slug)
        user = staff.create_user(
            session, org, email=email, name=name, role=role, password=password, phone=phone
        )
        click.echo(f"Created {user.role} {user.email} for {org.slug}.")
