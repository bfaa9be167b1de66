"""`flask jobs sweep|schedule`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from cli.common import parse_now
from extensions import db
from services import jobs


@click.group("jobs", help="Background jobs.")
def jobs_group() -> None:
    pass


@jobs_group.command("sweep")
@click.option("--now", "now_text", help="Act as of this ISO 8601 time (default: now).")
@with_appcontext
def sweep_command(now_text: str | None) -> None:
    """Expire lapsed holds and waitlist offers and make new offers, as of --now."""
    result = jobs.run_sweep(db.factory, parse_now(now_text))
    click.echo(json.dumps(result, indent=2))


@jobs_group.command("schedule")
@with_appcontext
def schedule_command() -> None:
    """Book the once-a-minute sweep on the RQ scheduler (idempotent)."""
    url = current_app.config["APP_CONFIG"].REDIS_URL
    if not url:
        click.echo("REDIS_URL is not set: the embedded default sweeps in-process.")
        return
    click.echo(f"scheduled {jobs.schedule_next_sweep(url)}")
