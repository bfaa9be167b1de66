"""`flask users create|list|deactivate|reactivate`: staff logins for the admin (the catalog
file's staff entries create users too). Owners can deactivate from the admin (Access)."""

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


@users_group.command("list")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@with_appcontext
def list_users(org_slug: str) -> None:
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, org_slug)
        for user in staff.everyone_of(session, org):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email}\t{user.role}\t{state}\t{user.name}")


@users_group.command("deactivate")
@click.option("--email", required=True)
@with_appcontext
def deactivate_user(email: str) -> None:
    """No more logins, and every session of theirs ends now."""
    with unit_of_work() as session:
        user = staff.user_by_email(session, email)
        staff.deactivate(session, user)
        click.echo(f"Deactivated {user.email}; their sessions have ended.")


@users_group.command("reactivate")
@click.option("--email", required=True)
@with_appcontext
def reactivate_user(email: str) -> None:
    with unit_of_work() as session:
        user = staff.user_by_email(session, email)
        staff.reactivate(user)
        click.echo(f"Reactivated {user.email}.")
