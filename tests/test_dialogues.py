"""The evaluation conversations (tests/dialogues/, issue 17) played through the signed
webhook against PostgreSQL: every conversation recorded as met in tests/dialogues/met.txt
must still be met, so the score only goes up. `flask dialogues score` prints the table."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from dialogues.checks import Context, never_says, says
from dialogues.runner import AUTH_TOKEN, BASE_URL, FAILED, MET, PARTIAL, Outcome, play_all
from dialogues.script import (
    CLASSES,
    Check,
    Dialogue,
    Line,
    ScriptError,
    load_all,
    parse,
    read_ratchet,
)


def replay_app():  # type: ignore[no-untyped-def]
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    return create_app(config)


def test_conversations_once_met_stay_met(
    engine: Engine, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    dialogues = load_all()
    recorded = read_ratchet()
    unknown = sorted(set(recorded) - {d.id for d in dialogues})
    assert not unknown, f"met.txt names conversations that do not exist: {unknown}"
    outcomes = play_all(replay_app(), engine, factory, dialogues)
    lost = [
        f"{o.dialogue.id}: {o.result}: {o.first_failure}"
        for o in outcomes
        if o.dialogue.id in recorded and o.result != MET
    ]
    newly = [o.dialogue.id for o in outcomes if o.result == MET and o.dialogue.id not in recorded]
    with capsys.disabled():
        if newly:  # not a failure: the ratchet is moved up by hand (--update-ratchet)
            print(f"\nmet but not yet in met.txt: {', '.join(newly)}")
    assert not lost, "conversations no longer met:\n" + "\n".join(lost)


def test_the_set_covers_every_class_of_issue_17() -> None:
    dialogues = load_all()
    assert len(dialogues) >= 60
    missing = [c for c in CLASSES if not any(d.cls == c for d in dialogues)]
    assert not missing, f"no conversation of class {missing}"


def outcome(passed: int, total: int, critical: bool = False) -> Outcome:
    d = Dialogue("x", "knowledge", "+12025550101", [Line("hi")])
    return Outcome(d, passed=passed, total=total, critical_failed=critical)


def test_scoring_met_partial_failed() -> None:
    assert outcome(3, 3).result == MET
    assert outcome(2, 3).result == PARTIAL
    assert outcome(1, 3).result == FAILED
    # A harmful act (a paid booking cancelled) fails the conversation however much else held.
    assert outcome(4, 5, critical=True).result == FAILED


def test_a_silent_bot_passes_no_reply_check() -> None:
    ctx = Context(None, None, "+12025550101", "", 0)  # type: ignore[arg-type]
    assert never_says(ctx, ["sorry"]) == (False, "no reply at all")
    ctx.reply = "Sorry, I didn’t catch that"  # curly quote, typed differently
    assert says(ctx, ["didn't catch"])[0] and not never_says(ctx, "DIDN'T")[0]


def test_a_dialogue_file_is_checked_when_read() -> None:
    with pytest.raises(ScriptError, match="unknown check 'sayz'"):
        parse(
            [{"id": "a", "class": "knowledge", "turns": [{"say": "hi", "expect": [{"sayz": 1}]}]}],
            "f",
        )
    with pytest.raises(ScriptError, match="class 'faq'"):
        parse([{"id": "a", "class": "faq", "turns": [{"say": "hi"}]}], "f")
    assert (
        parse([{"id": "a", "class": "party", "turns": [{"say": "hi"}]}], "f")[0].lines[0].expect
        == []
    )
    assert Check("says", ["x"]).describe() == "says: ['x']"


def test_the_score_command_prints_the_table(app: Flask) -> None:
    """`flask dialogues score` plays on a throwaway SQLite database of its own."""
    result = app.test_cli_runner().invoke(
        args=["dialogues", "score", "--only", "cancel-unpaid-hold", "--transcript"]
    )
    assert result.exit_code == 0, result.output
    assert "| cancel-unpaid-hold | cancel | met | 3/3 |" in result.output
    assert "| **all** | 1 | 1 | 0 | 0 |" in result.output
    assert "> need to cancel BK-" in result.output  # the transcript
    unknown = app.test_cli_runner().invoke(args=["dialogues", "score", "--only", "nope"])
    assert unknown.exit_code == 2 and "no dialogue or class named nope" in unknown.output
