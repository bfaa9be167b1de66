"""The inbox: handoffs first, replies through the outbox, the WhatsApp window, notes,
assign, resolve, polling."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    BookingStatus,
    Conversation,
    ConversationNote,
    Message,
    StaffUser,
    utcnow,
)
from tests.admin.support import OWNER, SALES, conversation_of, the_org
from tests.chat import Chat
from tests.factories import hold
from tests.staff import StaffClient


def asking_for_a_person(
    ada: Chat, factory: sessionmaker[Session], text: str = "agent"
) -> Conversation:
    """Ada asks for a person; her conversation as it is then."""
    ada.say(text)
    with factory() as s:
        return conversation_of(s, ada.phone)


def test_a_handoff_is_first_in_the_inbox_with_its_unread_count(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    Chat(client, factory, phone="+12025550102", name="Bob").say("hi")
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say("can I talk to a person please")
    ada.say("it's about a group of 12")
    page = owner.get("/admin/inbox")
    assert page.status_code == 200
    rows = re.findall(r'data-conversation="(\d+)"', page.text)
    with factory() as s:
        ada_conv = conversation_of(s, ada.phone)
    assert rows[0] == str(ada_conv.id)
    assert "wants a person" in page.text
    assert ada_conv.status == "pending" and ada_conv.unread_count == 2


def test_reply_goes_through_the_outbox_on_the_conversation_channel(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    conv = asking_for_a_person(ada, factory, "can I talk to someone")
    thread = owner.get(f"/admin/inbox/{conv.id}")
    assert "can I talk to someone" in thread.text
    page = owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "Hi Ada, Olivia here. How many?"})
    assert "Reply sent to the outbox" in page.text
    with factory() as s:
        sent = s.scalars(select(Message).where(Message.kind == "agent")).one()
        conv = s.get(Conversation, conv.id)
        olivia = s.scalars(select(StaffUser).where(StaffUser.email == OWNER)).one()
    assert sent.channel == "whatsapp" and sent.to_phone == ada.phone
    assert sent.status == "sent"  # the in-process job delivered it through the transport
    assert sent.sent_by_id == olivia.id
    assert conv.status == "open" and conv.unread_count == 0 and conv.handoff
    # While handed off, the bot stays quiet and staff see the customer's next message.
    assert ada.say("4 people") == ""
    poll = owner.get(f"/admin/inbox/{conv.id}/messages?after={sent.id}").get_json()
    assert "4 people" in poll["html"]
    assert poll["statuses"][str(sent.id)][0] == "sent"


def test_empty_and_oversized_replies_are_refused(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    conv = asking_for_a_person(ada, factory)
    assert "Write a reply first" in owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "  "}).text
    assert "too long" in owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "x" * 7000}).text
    with factory() as s:
        assert not s.scalars(select(Message).where(Message.kind == "agent")).all()


def test_outside_the_whatsapp_window_only_a_template_can_be_sent(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    ada.say("agent")
    with factory() as s:
        conv = conversation_of(s, ada.phone)
        conv.last_inbound_at = utcnow() - timedelta(hours=25)
        s.commit()
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert 'id="reply-form"' not in page.text
    assert "No approved template is configured" in page.text
    refused = owner.post(f"/admin/inbox/{conv.id}/reply", {"body": "hello?"})
    assert "only allows an approved template" in refused.text

    with factory() as s:
        org = the_org(s)
        org.settings_json = {
            **org.settings_json,
            "whatsapp_template": {"content_sid": "HX" + "a" * 32},
        }
        s.commit()
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert 'id="template-form"' in page.text
    owner.post(
        f"/admin/inbox/{conv.id}/reply", {"template": "1", "summary": "about your group trip"}
    )
    with factory() as s:
        sent = s.scalars(select(Message).where(Message.kind == "agent")).one()
    assert sent.template_sid == "HX" + "a" * 32
    assert sent.template_variables == {"1": "Ada", "2": "about your group trip"}


def test_notes_are_private_assign_and_resolve(
    owner: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    conv = asking_for_a_person(ada, factory, "can I speak to someone")
    with factory() as s:
        sam = s.scalars(select(StaffUser).where(StaffUser.email == SALES)).one()
    owner.post(f"/admin/inbox/{conv.id}/note", {"note": "VIP, was here last year"})
    owner.post(f"/admin/inbox/{conv.id}/assign", {"assignee": str(sam.id)})
    page = owner.get(f"/admin/inbox/{conv.id}")
    assert "VIP, was here last year" in page.text
    with factory() as s:
        assert s.scalars(select(ConversationNote)).one().body == "VIP, was here last year"
        assert not s.scalars(select(Message).where(Message.body.contains("VIP"))).all()
        assert s.get(Conversation, conv.id).assigned_to_id == sam.id
    page = owner.post(f"/admin/inbox/{conv.id}/resolve")
    with factory() as s:
        conv = s.get(Conversation, conv.id)
        assert conv.status == "resolved" and not conv.handoff and conv.state == "idle"
    assert "I can help you" in ada.say("menu")  # the bot answers again


def test_inbox_poll_changes_when_a_message_arrives(owner: StaffClient, ada: Chat) -> None:
    before = owner.get("/admin/inbox/poll").get_json()
    ada.say("hello there")
    after = owner.get("/admin/inbox/poll").get_json()
    assert after != before and after["unread"] == before["unread"] + 1
    assert "<strong>Ada</strong>" in owner.get("/admin/inbox").text


def test_a_handed_off_conversation_stays_above_bot_conversations_after_a_reply(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say("can I talk to a person please")
    with factory() as s:
        ada_conv = conversation_of(s, ada.phone)
    owner.post(f"/admin/inbox/{ada_conv.id}/reply", {"body": "Hi Ada, how can I help?"})
    Chat(client, factory, phone="+12025550103", name="Cat").say("hi")  # newer, bot-only
    rows = re.findall(r'data-conversation="(\d+)"', owner.get("/admin/inbox").text)
    assert rows[0] == str(ada_conv.id)


def test_the_thread_shows_the_customers_bookings_to_come(
    sales: StaffClient, ada: Chat, factory: sessionmaker[Session]
) -> None:
    """'Is my booking confirmed?' in the inbox: the customer's bookings still to come are
    beside the thread (reference, tour, when, status), one tap from it; a cancelled one is
    not among them."""
    with factory() as s:
        org = the_org(s)
        kept = hold(s, org, "CITY4", ada.phone, utcnow(), adults=2)
        gone = hold(s, org, "CITY3", ada.phone, utcnow(), adults=1)
        gone.status = BookingStatus.CANCELLED
        s.commit()
        kept_ref, gone_ref = kept.reference, gone.reference
    conv = asking_for_a_person(ada, factory, "is my booking confirmed?")
    page = sales.get(f"/admin/inbox/{conv.id}").text
    side = page[page.index("<aside") :]
    assert f'href="/admin/bookings/{kept_ref}"' in side and "held" in side
    assert gone_ref not in side
