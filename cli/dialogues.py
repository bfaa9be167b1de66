"""`flask dialogues score`: the evaluation conversations (tests/dialogues/), played through
the signed webhook against their own fresh database, scored met / partial / failed."""

from __future__ import annotations

from pathlib import Path

import click

from config import PROJECT_ROOT
from dialogues.runner import MET, Outcome, play_all, table
from dialogues.script import RATCHET_FILE, ScriptError, load_all, read_ratchet, today

DOC_FILE = PROJECT_ROOT / "docs" / "conversations.md"
START, END = "<!-- dialogues score: start -->", "<!-- dialogues score: end -->"


def write_score(path: Path, scored: str) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise click.ClickException(f"{path.name} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    stamp = f"Played on {today():%Y-%m-%d}."
    path.write_text(f"{head}{START}\n{stamp}\n\n{scored}\n{END}{tail}")


@click.group("dialogues", help="The evaluation conversations of issue 17.")
def dialogues_group() -> None:
    pass


@dialogues_group.command("score")
@click.option("--only", multiple=True, help="A dialogue id or class (repeatable).")
@click.option("--transcript", is_flag=True, help="Print each conversation as it was played.")
@click.option(
    "--database-url",
    help="Play against this (empty, disposable) database instead of a throwaway SQLite one.",
)
@click.option(
    "--update-ratchet",
    is_flag=True,
    help=f"Add every met conversation to {RATCHET_FILE.name} (scores only go up).",
)
@click.option(
    "--write-doc",
    is_flag=True,
    help="Put the table in docs/conversations.md (between its dialogues markers).",
)
def score_command(
    only: tuple[str, ...],
    transcript: bool,
    database_url: str | None,
    update_ratchet: bool,
    write_doc: bool,
) -> None:
    """Plays every conversation and prints the table: conversation, class, result, checks
    held, the first failed check; then the totals per class."""
    from dialogues.app import replay_app
    from extensions import db

    try:
        dialogues = load_all()
    except ScriptError as exc:
        raise click.ClickException(str(exc)) from None
    if only:
        dialogues = [d for d in dialogues if d.id in only or d.cls in only]
        if not dialogues:
            raise click.UsageError(f"no dialogue or class named {', '.join(only)}")

    def progress(outcome: Outcome) -> None:
        if transcript:
            click.echo(f"\n## {outcome.dialogue.id} ({outcome.dialogue.cls}): {outcome.result}")
            click.echo("\n".join(outcome.transcript))
            for failure in outcome.failures:
                click.echo(f"  ✗ {failure}")
            if outcome.error:
                click.echo(f"  ✗ {outcome.error}")
        else:
            click.echo(".", nl=False, err=True)

    with replay_app(database_url) as app, app.app_context():
        outcomes = play_all(app, db.engine, db.factory, dialogues, progress)
    click.echo("", err=True)
    scored = table(outcomes)
    click.echo(scored)
    if write_doc:
        if only:
            raise click.UsageError("--write-doc scores the whole set: leave out --only")
        write_score(DOC_FILE, scored)
        click.echo(f"{DOC_FILE.name}: score table updated")
    if update_ratchet:
        recorded = read_ratchet()
        new = [o.dialogue.id for o in outcomes if o.result == MET and o.dialogue.id not in recorded]
        if new:
            with RATCHET_FILE.open("a") as f:
                f.writelines(f"{i}\n" for i in new)
        click.echo(f"{RATCHET_FILE.name}: {len(new)} added ({', '.join(new) or 'none'})")
