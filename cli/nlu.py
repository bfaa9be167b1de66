"""`flask nlu parse` and `flask nlu evaluate`."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from cli.common import parse_now
from config import INSTANCE_PATH
from extensions import app_config, db
from intents import NLU, build_nlu, context_for_org
from intents.evaluate import LANGUAGES, eval_context, format_report, format_summary, run
from intents.evaluate import test_file as evaluate_file
from services import language as languages
from services.api_tokens import organization_by_slug
from services.errors import ServiceError

BACKENDS = click.Choice(["builtin", "rasa"])


def _nlu(backend: str | None) -> NLU:
    config = app_config()
    try:
        return build_nlu(
            config.RASA_URL, INSTANCE_PATH / "nlu-cache", backend, rasa_urls=config.RASA_URLS
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group("nlu", help="Intent and entity detection.")
def nlu_group() -> None:
    pass


@nlu_group.command("parse")
@click.option(
    "--org", "slug", help="Organization whose tours and time zone to use (default: the demo's)."
)
@click.option("--now", "now_text", help="Resolve relative dates as of this ISO 8601 time.")
@click.option("--backend", type=BACKENDS, help="Default: rasa when RASA_URL is set, else builtin.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    help="Read every line in this language (default: each line's own, as detected).",
)
@with_appcontext
def parse_command(
    slug: str | None, now_text: str | None, backend: str | None, language: str | None
) -> None:
    """Reads one message per line on stdin; writes one Rasa-style JSON object per line."""
    nlu = _nlu(backend)
    now = parse_now(now_text)
    if slug:
        session = db.factory()
        try:
            ctx = context_for_org(session, organization_by_slug(session, slug), now)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            session.close()
    else:
        demo = eval_context()  # the demo catalog's tours and time zone
        ctx = dataclasses.replace(demo, now=now.astimezone(demo.now.tzinfo))
    for line in sys.stdin:
        text = line.rstrip("\n")
        code = language or languages.choose(text, LANGUAGES, None) or "en"
        answer = nlu.parse(text, dataclasses.replace(ctx, language=code)).as_rasa()
        click.echo(json.dumps({**answer, "language": code}, ensure_ascii=False))


def _by_rasa(nlu: NLU, language: str) -> bool:
    return getattr(nlu.backends.get(language), "name", None) == "rasa"


@nlu_group.command("evaluate")
@click.option("--backend", type=BACKENDS, default="builtin", show_default=True)
@click.option(
    "--language",
    type=click.Choice([*LANGUAGES, "all"]),
    default="all",
    show_default=True,
    help="One language's full report, or every language's figures and the overall ones.",
)
@click.option(
    "--file",
    "test_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A held-out file of the language (default: tests/data/[<language>/]nlu_test.yml).",
)
@with_appcontext
def evaluate_command(backend: str, language: str, test_file: Path | None) -> None:
    """Trains on intents/data/[<language>/]nlu.yml (or asks Rasa) and scores the held-out
    test file of each language."""
    nlu = _nlu(backend)
    # A language without a Rasa server of its own would be read by the built-in classifier:
    # scoring that as Rasa's would be a false comparison.
    served = [code for code in LANGUAGES if backend != "rasa" or _by_rasa(nlu, code)]
    if language != "all":
        if language not in served:
            raise click.UsageError(
                f"no Rasa server for {language}: set RASA_URL_{language.upper()}"
            )
        report = run(nlu, test_file or evaluate_file(language), language)
        click.echo(format_report(report, f"{backend}, {language}"))
        return
    for code in sorted(set(LANGUAGES) - set(served)):
        click.echo(f"{code}: no Rasa server (RASA_URL_{code.upper()}), not scored\n")
    reports = {code: run(nlu, evaluate_file(code), code) for code in served}
    for code, report in reports.items():
        click.echo(format_report(report, f"{backend}, {code}") + "\n")
    click.echo(format_summary(reports, backend))
