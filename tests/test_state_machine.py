"""The conversation state machine as data (bot/states.py): nothing outside bot/ moves it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The bot's private part of a conversation: what it is waiting for and what it was told.
BOT_ATTRIBUTES = {"state", "slots", "handoff"}
OUTSIDE_BOT = ("admin", "api", "cli", "demo", "pages", "services", "webhooks")


def _assigned_attributes(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        while targets:
            target = targets.pop()
            if isinstance(target, ast.Tuple | ast.List):
                targets += target.elts
            elif isinstance(target, ast.Attribute) and target.attr in BOT_ATTRIBUTES:
                found.append((node.lineno, target.attr))
    return found


def test_only_the_bot_writes_a_conversations_state_slots_and_handoff() -> None:
    """Staff actions that ready the bot for an answer go through bot/staff.py, so the
    state names and slots stay the bot's to change."""
    writes = [
        f"{path.relative_to(ROOT)}:{line} sets .{attr}"
        for folder in OUTSIDE_BOT
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, attr in _assigned_attributes(path)
    ]
    assert writes == []
