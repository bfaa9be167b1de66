"""`flask jobs sweep|clock|work`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from bot import inbound
from cli.common import parse_now
from extensions import app_config, app_runtime
from services import jobs, runtime


@click.group("jobs", help="Background jobs.")
def jobs_group() -> None:
    pass


@jobs_group.command("sweep")
@click.option("--now", "now_text", help="Act as of this ISO 8601 time (default: now).")
@with_appcontext
def sweep_command(now_text: str | None) -> None:
    """Expire lapsed holds and waitlist offers and make new offers, as of --now."""
    result = jobs.run_sweep(app_runtime(), parse_now(now_text))
    click.echo(json.dumps(result, indent=2))


def _redis_url() -> str:
    url = app_config().REDIS_URL
    if not url:
        raise click.ClickException(
            "REDIS_URL is not set: the embedded default runs jobs and the sweep in-process."
        )
    return url


@jobs_group.command("clock")
@with_appcontext
def clock_command() -> None:
    """Enqueue the sweep once a minute, for ever (the Procfile's clock process). Any number
    of clocks enqueue one sweep a minute between them."""
    jobs.run_clock(_redis_url())


@jobs_group.command("work")
@with_appcontext
def work_command() -> None:
    """Run jobs (the Procfile's worker process); survives Redis outages."""
    config = app_config()
    if config.answers_in_worker:
        # Workers answer the customers: the NLU loaded before the first message.
        inbound.warm_up(inbound.nlu_of(config, current_app.instance_path))
    runtime.settle_garbage_collector()
    jobs.run_worker(_redis_url())
