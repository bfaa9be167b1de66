"""The task lifecycle as one table: open, then done by a person. transition() is the only
place a task's status is written, and it writes the change to the timeline of the task's
booking or lead when it has one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Task
from models import TaskStatus as T
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[T, frozenset[T]] = {
    T.OPEN: frozenset({T.DONE}),
    T.DONE: frozenset({T.OPEN}),  # reopened: done by mistake, or the customer wrote again
}


class TaskTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(T, ALLOWED, TaskTransitionError)


def transition(
    session: Session,
    task: Task,
    to: T,
    now: datetime,
    *,
    actor: str,
    source: str,
    staff_id: int | None = None,
) -> None:
    current = LIFECYCLE.move(task, task.number, to)
    task.done_at, task.done_by_id = (now, staff_id) if to == T.DONE else (None, None)
    about = task.booking or task.lead
    if about is not None:
        timeline.record(
            session,
            about,
            f"task.{to.value}",
            actor=actor,
            source=source,
            at=now,
            content={"task": task.number, "from": current.value, "to": to.value},
        )
