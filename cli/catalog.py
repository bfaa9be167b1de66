"""`flask catalog import`, `flask demo load`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from cli.common import unit_of_work
from cli.whatsapp import sync_organizations
from extensions import app_config
from services import catalog, demo
from services.whatsapp_content import LocalContentApi


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
        slug = summary.organization.slug
    click.echo(f"Demo loaded: {summary.describe()}")
    if app_config().is_local_embedded and not app_config().TWILIO_ACCOUNT_SID:
        # A newcomer's `flask chat --whatsapp` shows the demo's rows and buttons at once.
        click.echo("WhatsApp rows and buttons, recorded locally for `flask chat --whatsapp`:")
        sync_organizations(LocalContentApi(), slug, reviews=False)
