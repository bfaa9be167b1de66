"""`flask catalog import`, `flask demo load`, `flask api-token create`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from cli.common import unit_of_work
from services import api_tokens, catalog, demo


@click.group("catalog", help="Import the tour catalog from a YAML file.")
def catalog_group() -> None:
    pass


@catalog_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Import or update an organization's catalog. Nothing is written if any part is wrong."""
    with unit_of_work() as session:
        summary = catalog.import_catalog_file(session, path, datetime.now(UTC))
    click.echo(f"Imported {summary.describe()}")


@click.group("demo", help="The demo organization.")
def demo_group() -> None:
    pass


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load (or refresh) the demo catalog with dates relative to today."""
    with unit_of_work() as session:
        summary = demo.load_demo(session, datetime.now(UTC))
    click.echo(f"Demo loaded: {summary.describe()}")


@click.group("api-token", help="Tokens for the read-only JSON API.")
def api_token_group() -> None:
    pass


@api_token_group.command("create")
@click.option("--org", "slug", required=True, help="Organization slug.")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@with_appcontext
def api_token_create(slug: str, name: str) -> None:
    """Print a new token. It is shown once; only its hash is stored."""
    with unit_of_work() as session:
        org = api_tokens.organization_by_slug(session, slug)
        token = api_tokens.create_token(session, org, datetime.now(UTC), name=name)
    click.echo(token)
