"""`flask api-token create|list|revoke`: bearer tokens for the read-only JSON API. Owners
can do the same from the admin (Access)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext

from cli.common import unit_of_work
from services import api_tokens


@click.group("api-token", help="Tokens for the read-only JSON API.")
def api_token_group() -> None:
    pass


@api_token_group.command("create")
@click.option("--org", "slug", required=True, help="Organization slug.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="It stops working after this many days.",
)
@click.option("--no-expiry", is_flag=True, help="Until revoked (not recommended).")
@with_appcontext
def api_token_create(slug: str, name: str, expires_in_days: int, no_expiry: bool) -> None:
    """Print a new token. It is shown once; only its hash is stored."""
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, slug)
        token = api_tokens.create_token(
            session,
            org,
            datetime.now(UTC),
            name=name,
            expires_in=None if no_expiry else timedelta(days=expires_in_days),
        )
    click.echo(token)


@api_token_group.command("list")
@click.option("--org", "slug", required=True, help="Organization slug.")
@with_appcontext
def api_token_list(slug: str) -> None:
    """Every token of the organization: id, start of the token, name, state."""
    now = datetime.now(UTC)
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, slug)
        for row in api_tokens.tokens_of(session, org):
            if row.revoked_at is not None:
                state = f"revoked {row.revoked_at:%Y-%m-%d}"
            elif row.expires_at is not None and row.expires_at <= now:
                state = f"expired {row.expires_at:%Y-%m-%d}"
            elif row.expires_at is not None:
                state = f"active until {row.expires_at:%Y-%m-%d}"
            else:
                state = "active, never expires"
            used = f"last used {row.last_used_at:%Y-%m-%d}" if row.last_used_at else "never used"
            click.echo(f"{row.id}\t{row.prefix}...\t{row.name}\t{state}\t{used}")


@api_token_group.command("revoke")
@click.option("--org", "slug", required=True, help="Organization slug.")
@click.option("--id", "token_id", required=True, type=int, help="From `api-token list`.")
@with_appcontext
def api_token_revoke(slug: str, token_id: int) -> None:
    """The token stops working at once."""
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, slug)
        row = api_tokens.revoke(session, org, token_id, datetime.now(UTC))
        click.echo(f"Revoked token {row.id} ({row.prefix}..., {row.name}).")
