"""The organization's settings, for owners: holds, deposits and due dates, reminders, the
waitlist, owner approval, guide-offer escalation, who is alerted, the inbox's canned
replies, and what a message costs (by category and country). Checked as the catalog file's
settings are; a refused value says why, by field."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.actions import form_text
from admin.auth import actor, current_org, requires
from extensions import db
from models import utcnow
from services import org_settings

# (setting, label, help): whole numbers.
NUMBERS = [
    ("hold_hours", "Hold seats for (hours)", "How long an unpaid hold keeps its seats."),
    ("deposit_percent", "Deposit (% of the total)", "0 asks for the whole amount."),
    ("balance_due_days", "Balance due (days before the start)", None),
    ("balance_reminder_days", "Balance reminder (days before it is due)", None),
    ("hold_nudge_hours", "Nudge before a hold lapses (hours)", None),
    ("quote_valid_days", "Quotes valid for (days)", None),
    ("waitlist_offer_hours", "Waitlist offer open for (hours)", None),
    ("approval_timeout_hours", "Owner approval deadline (hours)", None),
    (
        "guide_offer_escalation_minutes",
        "Tell ops when a guide has not answered an offer after (minutes)",
        "Sooner when the trip starts sooner: halfway to the start.",
    ),
]
MAX_CANNED = 20
# (category, label): what a message costs (services/message_costs.py).
PRICES = [
    ("service", "WhatsApp service (replies inside the 24-hour window)"),
    ("utility", "WhatsApp utility (templates: reminders, offers, results)"),
    ("marketing", "WhatsApp marketing"),
    ("sms", "SMS (per segment)"),
]


def _prices(raw: str) -> dict[str, str] | str:
    """ "default 0.013, US 0.009" -> {"default": "0.013", "US": "0.009"}."""
    out: dict[str, str] = {}
    for part in raw.replace(";", ",").split(","):
        bits = part.replace("=", " ").replace(":", " ").split()
        if not bits:
            continue
        if len(bits) != 2:
            return raw  # the validation says what is wrong with it
        out[bits[0]] = bits[1]
    return out


def prices_text(table: dict[str, str]) -> str:
    return ", ".join(f"{country} {price}" for country, price in table.items())


def _list_of_ints(raw: str) -> list[int] | str:
    try:
        return sorted({int(p) for p in raw.replace(",", " ").split()}, reverse=True)
    except ValueError:
        return raw  # the validation says what is wrong with it


@admin_bp.route("/settings", methods=["GET", "POST"])
@requires("settings")
def settings_page() -> ResponseReturnValue:
    org = current_org()
    values: dict[str, Any] = org.settings.model_dump(mode="json")
    people = {"owner_phone": org.owner_phone or "", "ops_phones": ", ".join(org.ops_phones or [])}
    errors: dict[str, str] = {}
    if request.method == "POST":
        changes: dict[str, Any] = {name: form_text(name, 20) for name, _, _ in NUMBERS}
        changes["reminder_days_before"] = _list_of_ints(form_text("reminder_days_before", 100))
        changes["approval_required"] = request.form.get("approval_required") == "1"
        changes["support_phone"] = form_text("support_phone", 40) or None
        changes["message_prices"] = {
            category: _prices(form_text(f"price_{category}", 400))
            if f"price_{category}" in request.form
            else values["message_prices"][category]
            for category, _ in PRICES
        }
        titles = request.form.getlist("canned_title")[:MAX_CANNED]
        bodies = request.form.getlist("canned_body")[:MAX_CANNED]
        changes["canned_replies"] = [
            {"title": t.strip()[:60], "body": b.replace("\x00", "").strip()}
            for t, b in zip(titles, bodies, strict=False)
            if t.strip() or b.strip()
        ]
        people = {
            "owner_phone": form_text("owner_phone", 40),
            "ops_phones": form_text("ops_phones", 400),
        }
        values = {**values, **changes}
        try:
            changed = org_settings.update_settings(
                db.session,
                org,
                changes,
                utcnow(),
                owner_phone=people["owner_phone"],
                ops_phones=[
                    p for p in people["ops_phones"].replace(";", ",").split(",") if p.strip()
                ],
                actor=actor(),
            )
        except org_settings.SettingsError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash("Settings saved." if changed else "Saved; nothing had changed.", "success")
            return redirect(url_for("admin.settings_page"), code=303)
    canned = list(values.get("canned_replies") or [])
    return render_template(
        "admin/settings.html",
        values=values,
        people=people,
        numbers=NUMBERS,
        prices=PRICES,
        prices_text=lambda v: v if isinstance(v, str) else prices_text(v),
        canned=canned + [{"title": "", "body": ""}] * max(0, min(3, MAX_CANNED - len(canned))),
        errors=errors,
    ), (400 if errors else 200)
