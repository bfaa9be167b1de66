"""Interactive WhatsApp messages: a list picker for departures, quick replies for a choice,
call-to-action buttons for paying, made once per organization, kind and language through
Twilio's Content API (`flask whatsapp sync`) and filled per message with variables.

A reply that offers choices says them twice: the text (numbered, "reply YES") that SMS and
any fallback send, and an Interactive that WhatsApp shows as rows and buttons. render()
turns an Interactive into (content SID, variables) when the organization's content for it
exists and every part fits WhatsApp's limits; otherwise None, and the text goes instead.

Twilio's documented shapes (docs: twilio/list-picker, twilio/quick-reply,
twilio/call-to-action): a list picker has `body`, `button` and 1-10 `items` of
{`id` (<=200), `item` (<=24), `description` (<=72)}; quick replies `body` and `actions` of
{`type`: QUICK_REPLY, `title` (<=20), `id`}; call to action `body` and `actions` of
{`type`: URL, `title`, `url`}. A tap comes back on the message webhook as ButtonPayload
(quick reply) or ListId (list row), with the title as ButtonText / ListTitle."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Organization, WhatsAppContent
from services.i18n import N_, Voice, organization_languages, voice_for

log = logging.getLogger(__name__)

LIST_PICKER = "twilio/list-picker"
QUICK_REPLY = "twilio/quick-reply"
CALL_TO_ACTION = "twilio/call-to-action"

BODY_LIMIT = 1024
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
BUTTON_TITLE_LIMIT = 20
ID_LIMIT = 200
MAX_ROWS = 10  # WhatsApp's list picker
# Our taps' payloads start with this, so a tap on anything else (a template the operator
# made themselves) is read as the words on its button.
PAYLOAD_PREFIX = "tb1:"


@dataclass(frozen=True)
class Choice:
    """One row or button: what a tap sends back (our payload) or, for a link button, the
    address it opens; its title; a list row's description."""

    value: str
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class Interactive:
    """A reply's choices as WhatsApp shows them. `kind` names the content (KINDS); `body`
    is the text above the rows or buttons, without the "reply with a number" line."""

    kind: str
    body: str
    choices: tuple[Choice, ...] = field(default_factory=tuple)

    @property
    def content_kind(self) -> str:
        """A list picker has one content per number of rows (its items are fixed)."""
        if KINDS[self.kind].type == LIST_PICKER:
            return f"{self.kind}_{len(self.choices)}"
        return self.kind


@dataclass(frozen=True)
class Kind:
    type: str
    buttons: tuple[str, ...] = ()  # fixed titles (msgids), in order: quick replies, links
    list_button: str = ""  # the list picker's button (msgid)
    purpose: str = ""  # what it is for, in words (docs, the sync's report)


def payload(action: str, arg: str | int) -> str:
    return f"{PAYLOAD_PREFIX}{action}:{arg}"


KINDS: dict[str, Kind] = {
    "departures": Kind(
        LIST_PICKER, list_button=N_("See times"), purpose="departures to choose from"
    ),
    "quote": Kind(
        QUICK_REPLY,
        (N_("Hold seats"), N_("Change party"), N_("Other dates")),
        purpose="a price waiting for yes",
    ),
    "full": Kind(
        QUICK_REPLY,
        (N_("Nearest date"), N_("Join waitlist"), N_("Other dates")),
        purpose="a full departure's choices",
    ),
    "full_no_alternative": Kind(
        QUICK_REPLY,
        (N_("Other dates"), N_("Join waitlist")),
        purpose="a full departure with no nearest date",
    ),
    "pay": Kind(CALL_TO_ACTION, (N_("Pay deposit"), N_("Pay in full")), purpose="a hold's payment"),
    "pay_full": Kind(CALL_TO_ACTION, (N_("Pay now"),), purpose="a payment with no deposit"),
    "offer": Kind(
        QUICK_REPLY, (N_("Confirm"), N_("Decline")), purpose="a waitlist offer of a freed seat"
    ),
    "cancel": Kind(
        QUICK_REPLY, (N_("Yes, cancel"), N_("Keep booking")), purpose="a cancellation to confirm"
    ),
}
# The list pickers made: one per number of rows, as many as WhatsApp shows (the bot
# offers three departures today; a longer list still gets its picker).
LIST_SIZES = range(1, MAX_ROWS + 1)


def content_kinds() -> list[str]:
    names = []
    for name, kind in KINDS.items():
        if kind.type == LIST_PICKER:
            names += [f"{name}_{n}" for n in LIST_SIZES]
        else:
            names.append(name)
    return names


def _base_kind(content_kind: str) -> tuple[Kind, int]:
    """("departures_3") -> (the departures Kind, 3 rows); a button kind has 0 rows."""
    if content_kind in KINDS:
        return KINDS[content_kind], 0
    name, _, rows = content_kind.rpartition("_")
    return KINDS[name], int(rows)


def _var(n: int) -> str:
    """Twilio's placeholder for variable n: {{n}}."""
    return "{{" + str(n) + "}}"


def definition(content_kind: str, language: str, voice: Voice, base_url: str) -> dict[str, Any]:
    """What the Content API is asked to create (ContentCreateRequest): fixed words in the
    language, {{n}} for what each message fills in, a sample for each variable."""
    kind, rows = _base_kind(content_kind)
    variables: dict[str, str] = {"1": "Sunset Tour, Sat 12 Dec 17:30"}
    spec: dict[str, Any] = {"body": "{{1}}"}
    if kind.type == LIST_PICKER:
        spec["button"] = voice._(kind.list_button)
        items = []
        for row in range(rows):
            n = 2 + 3 * row
            items.append({"id": _var(n), "item": _var(n + 1), "description": _var(n + 2)})
            variables.update(
                {str(n): payload("dep", "CODE"), str(n + 1): "Sat 12 Dec 17:30", str(n + 2): "$98"}
            )
        spec["items"] = items
    elif kind.type == QUICK_REPLY:
        spec["actions"] = [
            {"type": "QUICK_REPLY", "title": voice._(title), "id": _var(i)}
            for i, title in enumerate(kind.buttons, 2)
        ]
        variables.update({str(i): payload("x", i) for i in range(2, 2 + len(kind.buttons))})
    else:
        base = base_url.rstrip("/")
        spec["actions"] = [
            {"type": "URL", "title": voice._(title), "url": f"{base}/{_var(i)}"}
            for i, title in enumerate(kind.buttons, 2)
        ]
        variables.update({str(i): "pay/BK-SAMPLE" for i in range(2, 2 + len(kind.buttons))})
    return {
        "friendly_name": f"tourbot_{content_kind}_{language}",
        "language": language,
        "variables": variables,
        "types": {kind.type: spec},
    }


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def variables_for(interactive: Interactive, content: WhatsAppContent) -> dict[str, str] | None:
    """The variables that fill this content for this message; None when something does
    not fit (too many rows, a link outside the address the content was made for)."""
    kind, rows = _base_kind(content.kind)
    if len(interactive.body) > BODY_LIMIT or not interactive.body.strip():
        return None
    values = {"1": interactive.body}
    if kind.type == LIST_PICKER:
        if len(interactive.choices) != rows:
            return None
        for row, choice in enumerate(interactive.choices):
            n = 2 + 3 * row
            values[str(n)] = choice.value
            values[str(n + 1)] = _fit(choice.title, ROW_TITLE_LIMIT)
            # WhatsApp wants a description on every row; a blank one is refused.
            values[str(n + 2)] = _fit(choice.description or choice.title, ROW_DESCRIPTION_LIMIT)
        return values if all(len(values[str(2 + 3 * r)]) <= ID_LIMIT for r in range(rows)) else None
    if len(interactive.choices) != len(kind.buttons):
        return None
    if kind.type == QUICK_REPLY:
        for i, choice in enumerate(interactive.choices, 2):
            if len(choice.value) > ID_LIMIT:
                return None
            values[str(i)] = choice.value
        return values
    actions = content.definition.get("types", {}).get(CALL_TO_ACTION, {}).get("actions", [])
    for i, (choice, action) in enumerate(zip(interactive.choices, actions, strict=False), 2):
        base = str(action.get("url", "")).removesuffix(_var(i))
        if not base or not choice.value.startswith(base):
            return None  # the link is not under the address the content was made with
        values[str(i)] = choice.value[len(base) :]
    return values if len(values) == 1 + len(kind.buttons) else None


def contents(
    session: Session, org: Organization, language: str, kinds: Iterable[str]
) -> dict[str, WhatsAppContent]:
    wanted = list(dict.fromkeys(kinds))
    if not wanted:
        return {}
    rows = session.scalars(
        select(WhatsAppContent).where(
            WhatsAppContent.organization_id == org.id,
            WhatsAppContent.language == language,
            WhatsAppContent.kind.in_(wanted),
        )
    )
    return {row.kind: row for row in rows}


@dataclass(frozen=True)
class Rendered:
    content_sid: str
    variables: dict[str, str]


def render(
    session: Session, org: Organization, language: str, interactive: Interactive
) -> Rendered | None:
    """The content and its variables for one interactive message, or None (send the text)."""
    if interactive.kind not in KINDS:
        return None
    content = contents(session, org, language, [interactive.content_kind]).get(
        interactive.content_kind
    )
    if content is None:
        return None
    values = variables_for(interactive, content)
    if values is None:
        log.info("interactive %s does not fit its content; sent as text", content.kind)
        return None
    return Rendered(content.content_sid, values)


def preview(definition_: dict[str, Any], variables: dict[str, str]) -> tuple[str, list[Choice]]:
    """What WhatsApp shows for a content and its variables: the body and each row or button
    (title, and the payload or address a tap gives). For `flask chat` and the tests."""

    def fill(text: str) -> str:
        for key, value in variables.items():
            text = text.replace("{{" + key + "}}", value)
        return text

    ((kind, spec),) = definition_["types"].items()
    body = fill(spec.get("body", ""))
    if kind == LIST_PICKER:
        choices = [
            Choice(fill(item["id"]), fill(item["item"]), fill(item.get("description", "")))
            for item in spec["items"]
        ]
    elif kind == QUICK_REPLY:
        choices = [Choice(fill(a["id"]), fill(a["title"])) for a in spec["actions"]]
    else:
        choices = [Choice(fill(a["url"]), fill(a["title"])) for a in spec["actions"]]
    return body, choices


# --- making the content in Twilio ---------------------------------------------------------


class ContentApi(Protocol):
    def create(self, definition: dict[str, Any]) -> str: ...  # returns the content SID

    # WhatsApp's review of a template: submit it, then read its status and any reason.
    def submit(self, content_sid: str, name: str, category: str) -> None: ...

    def approval(self, content_sid: str) -> tuple[str, str | None]: ...


class TwilioContentApi:
    """Twilio's Content API through the twilio library (client.content.v1.contents)."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str | None = None) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
        if api_base:  # a local stand-in of Twilio's APIs (the soak), as for the transport
            self.client.content.base_url = api_base.rstrip("/")

    def create(self, definition: dict[str, Any]) -> str:
        from twilio.rest.content.v1.content import ContentList

        created = self.client.content.v1.contents.create(
            ContentList.ContentCreateRequest(definition)
        )
        if not created.sid:
            raise RuntimeError("Twilio made the content but returned no SID")
        return str(created.sid)

    def submit(self, content_sid: str, name: str, category: str) -> None:
        from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

        request = ApprovalCreateList.ContentApprovalRequest({"name": name, "category": category})
        self.client.content.v1.contents(content_sid).approval_create.create(request)

    def approval(self, content_sid: str) -> tuple[str, str | None]:
        fetched = self.client.content.v1.contents(content_sid).approval_fetch().fetch()
        whatsapp = fetched.whatsapp or {}
        reason = whatsapp.get("rejection_reason")
        return str(whatsapp.get("status") or "unknown"), str(reason) if reason else None


class LocalContentApi:
    """The embedded default's stand-in (no Twilio): a SID made from the definition, so
    the console transport and `flask chat` have content to show."""

    def create(self, definition: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
        return "HX" + digest[:32]

    def submit(self, content_sid: str, name: str, category: str) -> None:
        pass

    def approval(self, content_sid: str) -> tuple[str, str | None]:
        return "approved", None  # nothing to review: the console sends nothing


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)  # "quote/en"
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "quote/en: reason"


def sync(
    session: Session, org: Organization, api: ContentApi, base_url: str, now: datetime
) -> SyncReport:
    """Makes every kind in every language the organization speaks, once; a kind whose
    wording or address changed is made again (its new SID replaces the old). A kind that
    Twilio refuses is reported, and its messages keep going as text."""
    report = SyncReport()
    for language in organization_languages(org.settings.languages):
        voice = voice_for(org.timezone, [language], language=language)
        existing = contents(session, org, language, content_kinds())
        for kind in content_kinds():
            wanted = definition(kind, language, voice, base_url)
            row = existing.get(kind)
            label = f"{kind}/{language}"
            if row is not None and row.definition == wanted:
                report.unchanged.append(label)
                continue
            try:
                sid = api.create(wanted)
            except Exception as exc:  # one refusal must not stop the others
                report.failed.append(f"{label}: {exc}")
                continue
            if row is None:
                row = WhatsAppContent(
                    organization_id=org.id, kind=kind, language=language, created_at=now
                )
                session.add(row)
            row.content_sid, row.definition, row.updated_at = sid, wanted, now
            report.created.append(label)
    session.flush()
    return report
