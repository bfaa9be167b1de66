"""Local stand-ins for Twilio's Messages API and Stripe's Checkout and Refunds APIs.

They accept the REST calls our code makes (pointed at them by TWILIO_API_BASE and
STRIPE_API_BASE, so the production code path is the one exercised), answer with the JSON
the real APIs return, keep a log of what they accepted, can be switched to fail, and call
our webhooks back: Twilio's delivery status callbacks (signed with RequestValidator) and
Stripe's events (signed as Stripe-Signature), optionally duplicated and out of order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import requests
from twilio.request_validator import RequestValidator


def _serve(handler_class: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class _Handler(BaseHTTPRequestHandler):
    standin: Any = None
    # Keep-alive, as Twilio's and Stripe's APIs do (every answer has its Content-Length): a
    # client that keeps its connection (one per worker process) does not pay a new one
    # per message here either.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _raw(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _form(self) -> dict[str, str]:
        return dict(parse_qsl(self._raw().decode(), keep_blank_values=True))

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Sent:
    sid: str
    to: str
    from_: str
    body: str
    content_sid: str | None
    at: float
    variables: dict[str, str] = field(default_factory=dict)


PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass
class TwilioStandIn:
    """POST /2010-04-01/Accounts/<sid>/Messages.json (mode: ok, 429, 500 or timeout), with a
    body or with a content SID and its variables; and the Content API the content is made
    with (POST /v1/Content, its WhatsApp approval request and status). What each address
    was sent is kept in order and by SID, so the soak's people can read it and tap its
    buttons."""

    account_sid: str
    auth_token: str
    mode: str = "ok"
    out_of_order: bool = False
    callbacks: bool = True  # delivery status callbacks to the StatusCallback URL
    sent: list[Sent] = field(default_factory=list)
    refused: int = 0
    refused_content: list[str] = field(default_factory=list)  # content messages refused, why
    callbacks_failed: int = 0
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)  # SID -> definition
    approvals: dict[str, str] = field(default_factory=dict)  # SID -> template's name
    lock: threading.Lock = field(default_factory=threading.Lock)
    inbox: dict[str, list[Sent]] = field(default_factory=dict)  # To address -> accepted
    by_sid: dict[str, Sent] = field(default_factory=dict)

    def start(self) -> str:
        standin = self

        class Handler(_Handler):
            def do_POST(self) -> None:
                standin.handle(self)

            def do_GET(self) -> None:
                standin.handle(self)

        self.pool = ThreadPoolExecutor(max_workers=8)
        self.server, self.url = _serve(Handler)
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def content_words(self, sent: Sent) -> tuple[str, list[tuple[str, str]], str]:
        """What WhatsApp shows for a message: its text, and for content its rows or buttons
        as (payload or address, title) and the content type ("" for plain text)."""
        from services.whatsapp_content import preview

        if not sent.content_sid:
            return sent.body, [], ""
        definition = self.contents[sent.content_sid]
        body, choices = preview(definition, sent.variables)
        ((kind, _),) = definition["types"].items()
        return body, [(c.value, c.title) for c in choices], kind

    def handle(self, req: _Handler) -> None:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if req.headers.get("Authorization") != expected:
            req._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        if req.path.startswith("/v1/Content"):
            self.content_api(req)
            return
        if not req.path.endswith("/Messages.json") or req.command != "POST":
            req._json(404, {"code": 20404, "message": "not found", "status": 404})
            return
        form = req._form()
        mode = self.mode
        if mode == "timeout":
            time.sleep(40)  # longer than any sane client timeout
            self.refused += 1
            return
        if mode in ("429", "500"):
            with self.lock:
                self.refused += 1
            code = 20429 if mode == "429" else 20500
            req._json(
                int(mode), {"code": code, "message": "stand-in told to fail", "status": int(mode)}
            )
            return
        if not form.get("To") or not (form.get("Body") or form.get("ContentSid")):
            req._json(400, {"code": 21602, "message": "Message body is required.", "status": 400})
            return
        variables: dict[str, str] = {}
        if form.get("ContentSid"):
            problem, variables = self._content_problem(form)
            if problem:
                with self.lock:
                    self.refused_content.append(problem)
                req._json(400, {"code": 21656, "message": problem, "status": 400})
                return
        sid = "SM" + uuid.uuid4().hex
        sent = Sent(
            sid,
            form["To"],
            form.get("From", ""),
            form.get("Body", ""),
            form.get("ContentSid"),
            time.time(),
            variables,
        )
        with self.lock:
            self.sent.append(sent)
            self.inbox.setdefault(sent.to, []).append(sent)
            self.by_sid[sid] = sent
        req._json(
            201,
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": form["To"],
                "from": form.get("From"),
                "body": form.get("Body", ""),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
        )
        callback = form.get("StatusCallback")
        if callback and self.callbacks:
            statuses = ["sent", "delivered"] + (
                ["read"] if form["To"].startswith("whatsapp:") else []
            )
            if self.out_of_order:
                random.shuffle(statuses)
            self.pool.submit(self._callbacks, callback, sid, form, statuses)

    def _content_problem(self, form: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Why Twilio would refuse this content message ("" if it would not): a content it
        does not have, rows or buttons on SMS, variables that are not a JSON object of
        strings, a placeholder left empty, or a part over WhatsApp's limits."""
        sid = form["ContentSid"]
        definition = self.contents.get(sid)
        if definition is None:
            return f"content {sid} not found", {}
        if not form["To"].startswith("whatsapp:"):
            return "content with rows or buttons sent to an SMS number", {}
        try:
            variables = json.loads(form.get("ContentVariables") or "{}")
        except ValueError:
            return "ContentVariables is not JSON", {}
        if not isinstance(variables, dict) or not all(
            isinstance(v, str) for v in variables.values()
        ):
            return "ContentVariables is not an object of strings", {}
        wanted = set(PLACEHOLDER.findall(json.dumps(definition["types"])))
        empty = sorted(n for n in wanted if not str(variables.get(n, "")).strip())
        if empty:
            return f"variables {', '.join(empty)} of {sid} left empty", variables
        from services.whatsapp_content import preview

        body, choices = preview(definition, variables)
        ((kind, _),) = definition["types"].items()
        if len(body) > 1024:
            return f"body of {len(body)} characters", variables
        if kind == "twilio/list-picker" and any(
            len(c.title) > 24 or len(c.description) > 72 or len(c.value) > 200 for c in choices
        ):
            return "a list row over its limits", variables
        return "", variables

    def content_api(self, req: _Handler) -> None:
        """POST /v1/Content (a JSON ContentCreateRequest), POST
        /v1/Content/<sid>/ApprovalRequests/whatsapp and GET /v1/Content/<sid>/ApprovalRequests,
        answered as Twilio's Content API does (every template approved at once)."""
        parts = req.path.strip("/").split("/")  # v1, Content[, sid, ApprovalRequests[, ...]]
        if req.command == "POST" and len(parts) == 2:
            # twilio's ContentCreateRequest sends every type it knows, unused ones as null.
            definition = _without_nulls(json.loads(req._raw() or b"{}"))
            types = definition.get("types") or {}
            if len(types) != 1 or not definition.get("language"):
                req._json(400, {"code": 21658, "message": "types or language", "status": 400})
                return
            sid = "HX" + uuid.uuid4().hex
            with self.lock:
                self.contents[sid] = definition
            req._json(201, {"sid": sid, "account_sid": self.account_sid, **definition})
            return
        sid = parts[2] if len(parts) > 2 else ""
        if sid not in self.contents or len(parts) < 4 or parts[3] != "ApprovalRequests":
            req._json(404, {"code": 20404, "message": "not found", "status": 404})
            return
        if req.command == "POST":
            name = json.loads(req._raw() or b"{}").get("name", "")
            with self.lock:
                self.approvals[sid] = name
            req._json(201, {"name": name, "category": "UTILITY", "status": "received"})
            return
        status = "approved" if sid in self.approvals else "unsubmitted"
        req._json(
            200,
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "whatsapp": {"name": self.approvals.get(sid, ""), "status": status},
            },
        )

    def _callbacks(self, url: str, sid: str, form: dict[str, str], statuses: list[str]) -> None:
        validator = RequestValidator(self.auth_token)
        for status in statuses:
            time.sleep(random.uniform(0.05, 0.4))
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": self.account_sid,
                "To": form["To"],
                "From": form.get("From", ""),
                "ApiVersion": "2010-04-01",
            }
            try:
                requests.post(
                    url,
                    data=params,
                    headers={"X-Twilio-Signature": validator.compute_signature(url, params)},
                    timeout=10,
                )
            except requests.RequestException:
                with self.lock:
                    self.callbacks_failed += 1


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@dataclass
class Checkout:
    id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    payment_intent: str


@dataclass
class StripeStandIn:
    """POST /v1/checkout/sessions and /v1/refunds; pay() sends the events to our webhook."""

    webhook_url: str
    webhook_secret: str
    replay: bool = False
    reorder: bool = False
    sessions: dict[str, Checkout] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    idempotent: dict[str, dict[str, Any]] = field(default_factory=dict)
    events_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        standin = self

        class Handler(_Handler):
            def do_POST(self) -> None:
                standin.handle(self)

        self.server, self.url = _serve(Handler)
        return self.url

    def stop(self) -> None:
        self.server.shutdown()

    def handle(self, req: _Handler) -> None:
        form = req._form()
        key = req.headers.get("Idempotency-Key")
        with self.lock:
            if key and key in self.idempotent:  # Stripe answers a repeated key the same way
                req._json(200, self.idempotent[key])
                return
        if req.path == "/v1/checkout/sessions":
            body = self._checkout(form)
        elif req.path == "/v1/refunds":
            body = {
                "id": "re_" + uuid.uuid4().hex[:24],
                "object": "refund",
                "amount": int(form.get("amount", 0)),
                "payment_intent": form.get("payment_intent"),
                "status": "succeeded",
            }
            with self.lock:
                self.refunds.append(body)
        else:
            req._json(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})
            return
        with self.lock:
            if key:
                self.idempotent[key] = body
        req._json(200, body)

    def _checkout(self, form: dict[str, str]) -> dict[str, Any]:
        amount = 0
        n = 0
        while f"line_items[{n}][quantity]" in form:
            amount += int(form[f"line_items[{n}][price_data][unit_amount]"]) * int(
                form[f"line_items[{n}][quantity]"]
            )
            n += 1
        metadata = {
            k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
        }
        checkout = Checkout(
            "cs_test_" + uuid.uuid4().hex[:24],
            amount,
            form.get("line_items[0][price_data][currency]", "usd"),
            metadata,
            "pi_" + uuid.uuid4().hex[:24],
        )
        with self.lock:
            self.sessions[checkout.id] = checkout
        return {
            "id": checkout.id,
            "object": "checkout.session",
            "url": f"{self.url}/pay/{checkout.id}",
            "amount_total": amount,
            "currency": checkout.currency,
            "metadata": metadata,
            "payment_status": "unpaid",
            "status": "open",
        }

    def _event(self, kind: str, obj: dict[str, Any]) -> str:
        return json.dumps(
            {
                "id": "evt_" + uuid.uuid4().hex[:24],
                "object": "event",
                "type": kind,
                "created": int(time.time()),
                "livemode": False,
                "api_version": "2024-06-20",
                "data": {"object": obj},
            }
        )

    def _post(self, payload: str) -> int:
        stamp = int(time.time())
        signature = hmac.new(
            self.webhook_secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256
        ).hexdigest()
        response = requests.post(
            self.webhook_url,
            data=payload,
            headers={
                "Stripe-Signature": f"t={stamp},v1={signature}",
                "Content-Type": "application/json",
            },
            timeout=15,
        )
        with self.lock:
            self.events_sent += 1
        return response.status_code

    def pay(self, session_id: str) -> list[int]:
        """The customer paid: checkout.session.completed and payment_intent.succeeded, as
        Stripe sends both; replayed and reordered when told to."""
        checkout = self.sessions[session_id]
        completed = self._event(
            "checkout.session.completed",
            {
                "id": checkout.id,
                "object": "checkout.session",
                "amount_total": checkout.amount,
                "currency": checkout.currency,
                "metadata": checkout.metadata,
                "payment_intent": checkout.payment_intent,
                "payment_status": "paid",
                "status": "complete",
            },
        )
        succeeded = self._event(
            "payment_intent.succeeded",
            {
                "id": checkout.payment_intent,
                "object": "payment_intent",
                "amount_received": checkout.amount,
                "currency": checkout.currency,
                "metadata": checkout.metadata,
                "status": "succeeded",
            },
        )
        events = [completed, succeeded]
        if self.reorder:
            events.reverse()
        if self.replay:
            events += [events[0]]
        return [self._post(e) for e in events]
