"""Staff and settings from the admin (owners only): invite a teammate with a one-time link,
change roles, edit the organization's settings with errors by field; and the inbox's
canned replies, the assignee told on assignment, and no silent reassignment by the bot."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Lead, Message, Organization, StaffUser
from tests.admin.support import OPS, OWNER, SALES, conversation_of
from tests.chat import Chat
from tests.staff import StaffClient

LINK = re.compile(r'id="invite-link"[^>]*>(http[^<]+)<')


def test_an_owner_invites_a_teammate_who_sets_a_password_once(
    owner: StaffClient, app: Flask, factory: sessionmaker[Session]
) -> None:
    page = owner.post(
        "/admin/access/staff",
        {
            "name": "Nina Tamang",
            "email": "Nina@Example.com",
            "role": "sales",
            "phone": "980 000 0077",
        },
    )
    assert page.status_code == 400 and "is not a phone number" in page.text
    page = owner.post(
        "/admin/access/staff",
        {
            "name": "Nina Tamang",
            "email": "Nina@Example.com",
            "role": "sales",
            "phone": "+9779800000077",
        },
    )
    assert page.status_code == 200 and "Nina Tamang" in page.text and "invited" in page.text
    link = LINK.search(page.text)[1].replace("http://localhost", "")  # type: ignore[index]
    with factory() as s:
        nina = s.scalars(select(StaffUser).where(StaffUser.email == "nina@example.com")).one()
        assert nina.password_hash is None and nina.role == "sales"
        # Never stored or sent: the owner passes it on.
        assert not [m for m in s.scalars(select(Message)) if "invite" in m.body]
    newcomer = StaffClient(app.test_client())
    assert newcomer.login("nina@example.com", "anything-at-all").status_code == 401
    form = newcomer.client.get(link)
    assert form.status_code == 200 and "Welcome, Nina Tamang" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    differ = newcomer.client.post(
        link, data={"password": "long-enough-1", "confirm": "other-thing-2", "csrf_token": csrf}
    )
    assert differ.status_code == 400 and "differ" in differ.text
    short = newcomer.client.post(
        link, data={"password": "short", "confirm": "short", "csrf_token": csrf}
    )
    assert short.status_code == 400 and "10 characters" in short.text
    done = newcomer.client.post(
        link,
        data={"password": "namaste-nina-2027", "confirm": "namaste-nina-2027", "csrf_token": csrf},
    )
    assert done.status_code == 303 and "/admin/login" in done.headers["Location"]
    assert newcomer.login("nina@example.com", "namaste-nina-2027").status_code == 302
    # The link worked once.
    assert StaffClient(app.test_client()).client.get(link).status_code == 410
    assert (
        StaffClient(app.test_client()).client.get("/admin/invite/forged.token").status_code == 410
    )
    again = owner.post(
        "/admin/access/staff", {"name": "N", "email": "nina@example.com", "role": "sales"}
    )
    assert again.status_code == 400 and "already has an account" in again.text


def test_roles_change_and_log_the_person_out_but_never_the_last_owner(
    owner: StaffClient, sales: StaffClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        sam = s.scalars(select(StaffUser).where(StaffUser.email == SALES)).one()
        olivia = s.scalars(select(StaffUser).where(StaffUser.email == OWNER)).one()
    assert sales.get("/admin/").status_code == 200
    done = owner.post(f"/admin/access/staff/{sam.id}/role", {"role": "ops"})
    assert "Sam is now ops" in done.text
    assert sales.get("/admin/").status_code == 302  # logged out: log in again for the new role
    with factory() as s:
        assert s.get(StaffUser, sam.id).role == "ops"  # type: ignore[union-attr]
    mine = owner.post(f"/admin/access/staff/{olivia.id}/role", {"role": "sales"})
    assert "cannot change your own role" in mine.text
    bogus = owner.post(f"/admin/access/staff/{sam.id}/role", {"role": "admin"})
    assert "role must be one of" in bogus.text
    owner.post(f"/admin/access/staff/{sam.id}/role", {"role": "owner"})
    with factory() as s:
        assert s.get(StaffUser, sam.id).role == "owner"  # type: ignore[union-attr]
        org = s.scalars(select(Organization)).one()
        olivia_user = s.get(StaffUser, olivia.id)
        assert olivia_user is not None
        # Sam, now an owner, demotes Olivia; then Olivia's demotion of Sam (the last owner)
        # is refused by the service.
        from services import staff as staff_service

        sam_user = s.get(StaffUser, sam.id)
        assert sam_user is not None
        for other in s.scalars(select(StaffUser).where(StaffUser.role == "owner")):
            if other.id not in (sam.id, olivia.id):  # the catalog's owner: out of the way
                other.active = False
        staff_service.set_role(s, olivia_user, "ops", by=sam_user)
        try:
            staff_service.set_role(s, sam_user, "sales", by=olivia_user)
        except staff_service.StaffError as exc:
            assert "only active owner" in exc.message
        else:
            raise AssertionError("the last owner was demoted")
        assert org is not None


def test_only_owners_manage_access_and_settings(ops: StaffClient, sales: StaffClient) -> None:
    for who in (ops, sales):
        assert who.get("/admin/access").status_code == 403
        assert who.get("/admin/settings").status_code == 403
        assert (
            who.post(
                "/admin/access/staff", {"name": "x", "email": "x@y.z", "role": "owner"}
            ).status_code
            == 403
        )
        assert who.post("/admin/access/staff/1/role", {"role": "owner"}).status_code == 403
        assert who.post("/admin/settings", {"hold_hours": "1"}).status_code == 403
        assert "/admin/settings" not in who.get("/admin/").text


def test_owner_edits_settings_with_errors_by_field_and_nothing_half_saved(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    page = owner.get("/admin/settings")
    assert page.status_code == 200 and 'name="hold_hours"' in page.text
    with factory() as s:
        before = s.scalars(select(Organization)).one().settings_json
    form = {
        "hold_hours": "0",  # at least 1
        "deposit_percent": "50",
        "balance_due_days": "14",
        "balance_reminder_days": "3",
        "hold_nudge_hours": "2",
        "quote_valid_days": "7",
        "waitlist_offer_hours": "2",
        "approval_timeout_hours": "4",
        "guide_offer_escalation_minutes": "45",
        "reminder_days_before": "7, 1",
        "owner_phone": "+9779800000000",
        "ops_phones": "+9779800000099, not-a-phone",
        "canned_title": ["Meeting point", ""],
        "canned_body": ["Hi {name}, we meet at the Thamel Chowk fountain.", ""],
    }
    refused = owner.post("/admin/settings", form)
    assert refused.status_code == 400 and "Nothing was saved" in refused.text
    assert "greater than or equal to 1" in refused.text and "not-a-phone" in refused.text
    with factory() as s:
        assert s.scalars(select(Organization)).one().settings_json == before
    form["hold_hours"] = "12"
    form["ops_phones"] = "+977 980-000-0099"
    saved = owner.post("/admin/settings", form)
    assert saved.status_code == 200 and "Settings saved" in saved.text
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        assert org.settings.hold_hours == 12 and str(org.settings.deposit_percent) == "50"
        assert org.settings.guide_offer_escalation_minutes == 45
        assert org.ops_phones == ["+9779800000099"]
        assert [c.title for c in org.settings.canned_replies] == ["Meeting point"]


def test_canned_reply_assignee_told_and_the_bot_keeps_the_assignee(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, phone="+12025550101", name="Ada Lovelace")
    ada.say("hi")
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        org.settings_json = {
            **org.settings_json,
            "canned_replies": [
                {"title": "Meeting point", "body": "Hi {name}, see you at the fountain."}
            ],
        }
        priya = s.scalars(select(StaffUser).where(StaffUser.email == OPS)).one()
        priya.phone = "+9779800000055"
        conv_id = conversation_of(s, ada.phone).id
        s.commit()
    page = owner.get(f"/admin/inbox/{conv_id}")
    assert 'data-body="Hi Ada, see you at the fountain."' in page.text
    owner.post(f"/admin/inbox/{conv_id}/assign", {"assignee": str(priya.id)})
    with factory() as s:
        told = s.scalars(select(Message).where(Message.to_phone == "+9779800000055")).one()
        assert "Olivia assigned you the conversation with Ada Lovelace" in told.body
        assert f"/admin/inbox/{conv_id}" in told.body and "hi" in told.body
    # Later the customer asks for a tour: the new lead goes to Priya, who has the
    # conversation; the bot does not move it to the next rep in turn.
    ada.say("I'm interested in the Everest Base Camp Trek for 3 people in March")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
        lead = s.get(Lead, conv.lead_id)
        assert conv.assigned_to_id == priya.id
        assert lead is not None and lead.assigned_to_id == priya.id
    # Assigning yourself sends nothing.
    with factory() as s:
        olivia = s.scalars(select(StaffUser).where(StaffUser.email == OWNER)).one()
        olivia.phone = "+9779800000056"
        s.commit()
    owner.post(f"/admin/inbox/{conv_id}/assign", {"assignee": str(olivia.id)})
    with factory() as s:
        assert not s.scalars(select(Message).where(Message.to_phone == "+9779800000056")).all()
