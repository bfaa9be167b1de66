"""`flask whatsapp sync`: makes the interactive WhatsApp messages (departures list, quick
replies, pay buttons) and the templates per purpose through Twilio's Content API, for
every organization (or one) and every language it speaks, submits the templates for
WhatsApp's approval and prints their status (run it again to refresh them, and after
changing wording, languages or PUBLIC_BASE_URL). Until it has run, WhatsApp customers get
numbered text, as on SMS, and messages outside the 24-hour window the generic template."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from cli.common import unit_of_work
from extensions import app_config
from models import Organization
from services import whatsapp_content, whatsapp_templates
from services.payments import LOCAL_BASE_URL


@click.group("whatsapp", help="WhatsApp's interactive messages (Twilio's Content API).")
def whatsapp_group() -> None:
    pass


@whatsapp_group.command("sync")
@click.option("--org", "slug", help="One organization's slug (default: every one).")
@with_appcontext
def sync_command(slug: str | None) -> None:
    """Create or refresh the content for each kind and language."""
    config = app_config()
    api: whatsapp_content.ContentApi
    if config.TWILIO_ACCOUNT_SID and config.TWILIO_AUTH_TOKEN:
        api = whatsapp_content.TwilioContentApi(
            config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, config.TWILIO_API_BASE
        )
    elif config.is_local_embedded:
        # Messages go to the console here: content recorded locally lets `flask chat
        # --whatsapp` show the rows and buttons, and accept taps.
        click.echo("no Twilio credentials: content recorded locally, for the console transport")
        api = whatsapp_content.LocalContentApi()
    else:
        raise click.ClickException(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to make content in Twilio"
        )
    if not sync_organizations(api, slug):
        raise SystemExit(1)


def sync_organizations(
    api: whatsapp_content.ContentApi, slug: str | None, *, reviews: bool = True
) -> bool:
    """Syncs every organization's content (or one's) and prints what was made and, with
    reviews, each template's review; False when some content could not be made."""
    base_url = app_config().PUBLIC_BASE_URL or LOCAL_BASE_URL
    failed = False
    with unit_of_work() as session:
        query = select(Organization).order_by(Organization.id)
        if slug:
            query = query.where(Organization.slug == slug)
        orgs = list(session.scalars(query))
        if not orgs:
            raise click.ClickException(f"no organization {slug!r}" if slug else "no organization")
        for org in orgs:
            now = datetime.now(UTC)
            report = whatsapp_content.sync(session, org, api, base_url, now)
            whatsapp_templates.sync(session, org, api, now, report)
            click.echo(
                f"{org.slug}: {len(report.created)} created, {len(report.unchanged)} unchanged, "
                f"{len(report.failed)} failed"
            )
            for line in report.failed:
                click.echo(f"  failed {line}", err=True)
            for row in whatsapp_templates.templates_of(session, org) if reviews else ():
                reason = f" ({row.approval_reason})" if row.approval_reason else ""
                click.echo(f"  template {row.kind}/{row.language}: {row.approval_status}{reason}")
            failed = failed or bool(report.failed)
    return not failed
