"""Inbox: conversations, a thread with delivery statuses, replies, notes, assignment."""

from __future__ import annotations

import mimetypes

from flask import Response, abort, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin import admin_bp
from admin.actions import form_int, form_text, run
from admin.auth import actor, current_org, requires, scoped, staff
from bot import staff as bot_staff
from extensions import db
from models import CANCELLABLE_STATUSES, Booking, Conversation, Departure, MessageMedia, utcnow
from services import inbox, media
from services import staff as staff_service


def _conversation(conv_id: int) -> Conversation:
    return scoped(db.session.get(Conversation, conv_id))  # type: ignore[no-any-return]


def _files(items: list[inbox.ThreadItem]) -> dict[int, list[MessageMedia]]:
    return media.for_messages(db.session, [i.message.id for i in items if i.message])


@admin_bp.get("/media/<int:media_id>")
@requires()
def media_file(media_id: int) -> ResponseReturnValue:
    """A file a customer sent, as kept (services/media.py: only types a browser shows or
    plays are kept), for the thread's <img>, <audio> and links."""
    row = scoped(db.session.get(MessageMedia, media_id))
    if row.status != "stored" or row.data is None:
        abort(404)
    extension = mimetypes.guess_extension(row.content_type) or ""
    return Response(
        row.data,
        mimetype=row.content_type,
        headers={
            "Content-Disposition": f'inline; filename="file-{row.id}{extension}"',
            "X-Content-Type-Options": "nosniff",
            # Opened on its own (a PDF), it may run nothing and reach nothing.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@admin_bp.get("/inbox")
@requires()
def inbox_list() -> ResponseReturnValue:
    org = current_org()
    status = request.args.get("status") or None
    mine = request.args.get("mine") == "1"
    # Bounded: page 10^20 made an OFFSET PostgreSQL cannot hold (a 500).
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    rows = inbox.list_conversations(
        db.session,
        org,
        status=status,
        assigned_to_id=staff().id if mine else None,
        page=page,
    )
    return render_template(
        "admin/inbox.html",
        rows=rows,
        counts=inbox.status_counts(db.session, org),
        status=status,
        mine=mine,
        page=page,
        page_size=inbox.PAGE_SIZE,
        team={u.id: u.name for u in staff_service.staff_of(db.session, org)},
    )


@admin_bp.get("/inbox/poll")
@requires()
def inbox_poll() -> ResponseReturnValue:
    return jsonify(inbox.poll_signature(db.session, current_org()))


@admin_bp.get("/inbox/<int:conv_id>")
@requires()
def conversation(conv_id: int) -> ResponseReturnValue:
    org = current_org()
    conv = _conversation(conv_id)
    now = utcnow()
    items = inbox.thread(db.session, conv)
    inbox.mark_read(conv)
    db.session.commit()
    return render_template(
        "admin/conversation.html",
        conv=conv,
        items=items,
        files=_files(items),
        last_id=max((i.message.id for i in items if i.message), default=0),
        free_text=inbox.free_text_allowed(db.session, org, conv, now),
        template=org.settings.whatsapp_template,
        team=staff_service.staff_of(db.session, org),
        can_reply=staff_service.can(staff(), "reply"),
        canned=inbox.canned_replies(org, conv),
        # "Is my booking confirmed?": their bookings still to come, beside the thread.
        bookings=list(
            db.session.scalars(
                select(Booking)
                .join(Departure, Departure.id == Booking.departure_id)
                .options(joinedload(Booking.departure).joinedload(Departure.tour))
                .where(
                    Booking.customer_id == conv.customer_id,
                    Booking.organization_id == org.id,
                    Booking.status.in_(CANCELLABLE_STATUSES),
                    Departure.ends_at > now,
                )
                .order_by(Departure.starts_at)
                .limit(5)
            )
        ),
        now=now,
    )


@admin_bp.get("/inbox/<int:conv_id>/messages")
@requires()
def conversation_poll(conv_id: int) -> ResponseReturnValue:
    """New messages since `after`, as HTML rows, and every message's current status."""
    conv = _conversation(conv_id)
    after = min(max(0, request.args.get("after", 0, type=int) or 0), 2**31 - 1)
    items = inbox.thread(db.session, conv, after_id=after)
    if items:
        inbox.mark_read(conv)
        db.session.commit()
    statuses = inbox.statuses(db.session, conv)
    return jsonify(
        html=render_template(
            "admin/_thread_items.html", items=items, files=_files(items), now=utcnow()
        ),
        last_id=max((i.message.id for i in items if i.message), default=after),
        statuses=statuses,
    )


@admin_bp.post("/inbox/<int:conv_id>/reply")
@requires("reply")
def conversation_reply(conv_id: int) -> ResponseReturnValue:
    conv = _conversation(conv_id)
    org, user = current_org(), staff()
    back = url_for("admin.conversation", conv_id=conv.id)
    if request.form.get("template") == "1":
        return run(
            lambda: inbox.send_template(
                db.session, org, conv, user, form_text("summary"), utcnow()
            ),
            "Template sent to the outbox.",
            back,
        )
    return run(
        lambda: inbox.reply(db.session, org, conv, user, form_text("body", 10_000), utcnow()),
        "Reply sent to the outbox.",
        back,
    )


@admin_bp.post("/inbox/<int:conv_id>/note")
@requires()
def conversation_note(conv_id: int) -> ResponseReturnValue:
    conv = _conversation(conv_id)
    return run(
        lambda: inbox.add_note(
            db.session, current_org(), conv, staff(), form_text("note"), utcnow()
        ),
        "Note saved (only staff see it).",
        url_for("admin.conversation", conv_id=conv.id),
    )


@admin_bp.post("/inbox/<int:conv_id>/assign")
@requires()
def conversation_assign(conv_id: int) -> ResponseReturnValue:
    conv = _conversation(conv_id)
    assignee = form_int("assignee", None, low=1, high=2**31 - 1)
    return run(
        lambda: inbox.assign(
            db.session,
            current_org(),
            conv,
            assignee,
            utcnow(),
            actor=actor(),
            by=staff(),
            link=url_for("admin.conversation", conv_id=conv.id, _external=True),
        ),
        lambda who: f"Assigned to {who.name}." if who else "Unassigned.",
        url_for("admin.conversation", conv_id=conv.id),
    )


@admin_bp.post("/inbox/<int:conv_id>/resolve")
@requires()
def conversation_resolve(conv_id: int) -> ResponseReturnValue:
    conv = _conversation(conv_id)

    def resolve() -> None:
        inbox.resolve(db.session, conv, utcnow(), actor=actor())
        bot_staff.hand_back(conv)

    return run(
        resolve,
        "Resolved. The bot answers this customer again.",
        url_for("admin.inbox_list"),
    )
