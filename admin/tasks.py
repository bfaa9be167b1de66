"""Tasks: what a person must do for a customer (a question the bot could not answer, a
follow-up it promised, a complaint, a file), urgent first, with the context the bot
gathered; done with one button."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.actions import run
from admin.auth import current_org, requires, scoped, staff
from extensions import db
from models import Task, utcnow
from services import tasks


@admin_bp.get("/tasks")
@requires()
def task_list() -> ResponseReturnValue:
    mine = request.args.get("mine") == "1"
    rows = tasks.open_tasks(
        db.session, current_org(), assigned_to_id=staff().id if mine else None, limit=200
    )
    return render_template("admin/tasks.html", tasks=rows, mine=mine, now=utcnow())


@admin_bp.post("/tasks/<int:task_id>/done")
@requires()
def task_done(task_id: int) -> ResponseReturnValue:
    task: Task = scoped(db.session.get(Task, task_id))
    return run(
        lambda: tasks.complete(db.session, task, staff(), utcnow()),
        f"{task.number} done.",
        url_for("admin.task_list"),
    )
