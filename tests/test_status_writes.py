"""Statuses are written in one place: Lifecycle.move, called by each lifecycle's transition
function (services/*_states.py, leads.change_status), which checks the move against the
lifecycle's table and writes the timeline. This reads every module of the application and
fails on a status written anywhere else, so a new `x.status = ...` cannot slip in."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from models import DUE_MESSAGE_STATUSES, MessageStatus
from services import message_states

ROOT = Path(__file__).resolve().parent.parent
# Not application code: tests build their own situations; migrations rewrite stored rows.
SKIPPED = {"tests", "migrations", ".venv", ".git"}

# (file, function): the only writers. Each exception says why in a comment at the write.
ALLOWED = {
    ("services/lifecycle.py", "move"),
    # Records a message Twilio accepted on a fresh connection when the ORM commit failed:
    # QUEUED/RETRYING -> SENT only (checked below against the message table).
    ("services/outbox.py", "_record_sent"),
}

RAW_UPDATE = re.compile(r"\bUPDATE\s+\w+\s+SET\b[^;]*\bstatus\s*=", re.IGNORECASE | re.DOTALL)


def _modules() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if not SKIPPED & set(p.relative_to(ROOT).parts[:-1])
        and not p.relative_to(ROOT).parts[0].startswith(".")
    )


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Tuple | ast.List):
        return [t for e in node.elts for t in _targets(e)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return [node]


def _has_status_key(node: ast.AST) -> bool:
    return any(
        isinstance(d, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "status" for k in d.keys)
        for d in ast.walk(node)
    )


def _is_update_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "update"
    )


def status_writes(source: str) -> list[tuple[int, str, str]]:
    """(line, enclosing function, what) for every status write in a module's source."""
    found: list[tuple[int, str, str]] = []

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.function = "<module>"

        def _in_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            outer, self.function = self.function, node.name
            self.generic_visit(node)
            self.function = outer

        visit_FunctionDef = visit_AsyncFunctionDef = _in_function

        def _assigned(self, node: ast.AST, targets: list[ast.AST]) -> None:
            for target in (t for node_target in targets for t in _targets(node_target)):
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append((node.lineno, self.function, "assigns .status"))
            self.generic_visit(node)

        def visit_Assign(self, node: ast.Assign) -> None:
            self._assigned(node, node.targets)

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            self._assigned(node, [node.target])

        def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
            self._assigned(node, [node.target])

        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "values" and (
                any(k.arg == "status" for k in node.keywords)
                or any(_has_status_key(a) for a in node.args)
            ):
                found.append((node.lineno, self.function, "Core .values(status=...)"))
            if name == "setattr" and len(node.args) > 1:
                key = node.args[1]
                if isinstance(key, ast.Constant) and key.value == "status":
                    found.append((node.lineno, self.function, "setattr(..., 'status')"))
            if (
                name == "execute"
                and node.args
                and _is_update_call(node.args[0])
                and any(_has_status_key(a) for a in node.args[1:])
            ):
                found.append((node.lineno, self.function, "bulk update with status"))
            self.generic_visit(node)

        def visit_Constant(self, node: ast.Constant) -> None:
            if isinstance(node.value, str) and RAW_UPDATE.search(node.value):
                found.append((node.lineno, self.function, "SQL UPDATE ... SET status"))

    Visitor().visit(ast.parse(source))
    return found


def test_statuses_are_written_only_by_the_transition_functions() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{line} in {function}(): {what}"
        for path in _modules()
        for line, function, what in status_writes(path.read_text(encoding="utf-8"))
        if (str(path.relative_to(ROOT)), function) not in ALLOWED
    ]
    assert not outside, (
        "Statuses change only through their lifecycle's transition function "
        "(services/*_states.py, leads.change_status):\n" + "\n".join(outside)
    )


def test_the_check_sees_every_way_of_writing_a_status() -> None:
    source = """
def sneaky(row, session, rows):
    row.status = "held"
    row.status, row.updated_at = "held", 1
    row.status += "x"
    setattr(row, "status", "held")
    session.execute(update(Booking).where(Booking.id == 1).values(status="held"))
    session.execute(update(Booking).values({"status": "held"}))
    session.execute(update(Booking), [{"id": 1, "status": "held"}])
    session.execute(text("update bookings set status = 'held' where id = 1"))
    status = "held"  # a local name is not a status
    other.state = "idle"
"""
    assert [(line, function) for line, function, _ in status_writes(source)] == [
        (3, "sneaky"),
        (4, "sneaky"),
        (5, "sneaky"),
        (6, "sneaky"),
        (7, "sneaky"),
        (8, "sneaky"),
        (9, "sneaky"),
        (10, "sneaky"),
    ]


def test_the_allowed_core_update_only_makes_a_move_the_message_table_allows() -> None:
    assert all(
        message_states.LIFECYCLE.allows(due, MessageStatus.SENT) for due in DUE_MESSAGE_STATUSES
    )
    # And it is where the allow-list says.
    writes = status_writes((ROOT / "services/outbox.py").read_text(encoding="utf-8"))
    assert {function for _, function, _ in writes} == {"_record_sent"}
