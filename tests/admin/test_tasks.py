"""The Tasks page: what the bot passed to a person, urgent first, with its context; done
with one button; another organization's task is not found."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Task, TaskStatus
from tests.chat import Chat
from tests.staff import StaffClient


def test_a_question_the_bot_could_not_answer_is_listed_and_done(
    sales: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("can I bring my dog on the sunset tour?")
    ada.say("this is ridiculous, nobody answers me")  # urgent: listed first
    page = sales.get("/admin/tasks")
    assert page.status_code == 200
    assert page.text.index("Complaint") < page.text.index("Answer (Sunset Tour)")
    assert "+12025550101" in page.text  # the context: who
    with factory() as s:
        question = s.scalars(select(Task).where(Task.kind == "question")).one()
    done = sales.post(f"/admin/tasks/{question.id}/done")
    assert f"TASK-{question.id} done." in done.text
    with factory() as s:
        assert s.get(Task, question.id).status == TaskStatus.DONE  # type: ignore[union-attr]
    assert "Answer (Sunset Tour)" not in sales.get("/admin/tasks").text


def test_a_task_of_another_organization_is_not_found(
    owner: StaffClient, client: FlaskClient
) -> None:
    assert owner.post("/admin/tasks/999999/done", follow=False).status_code == 404
