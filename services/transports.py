"""Ways an outbound message leaves: Twilio's REST API in production, the console in the
embedded default. A transport sends one message and returns the provider's id, or raises
TransportError saying whether trying again later could help."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from config import Config
from services.phones import mask_phone

log = logging.getLogger(__name__)


SEND_TIMEOUT_SECONDS = 10


class TransportError(Exception):
    def __init__(self, message: str, *, code: str | None = None, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Outgoing:
    id: int
    from_address: str  # "+1..." or "whatsapp:+1..."
    to_address: str
    body: str
    template_sid: str | None = None
    template_variables: dict[str, Any] | None = None
    status_callback: str | None = None
    # WhatsApp: a location pin with the words, ["geo:LAT,LON|LABEL"] (Twilio's
    # PersistentAction; not with a content).
    persistent_action: list[str] | None = None


class Transport(Protocol):
    name: str

    def send(self, message: Outgoing) -> str: ...


class ConsoleTransport:
    """The embedded default's stand-in for Twilio: logs the message; the communications log
    in the database is the record."""

    name = "console"

    def send(self, message: Outgoing) -> str:
        text = (
            message.body
            if not message.template_sid
            else f"[template {message.template_sid}] {message.template_variables}"
        )
        if message.persistent_action and not message.template_sid:
            text += f" [{' '.join(message.persistent_action)}]"
        log.info(
            "[console] %s -> %s: %s",
            message.from_address,
            mask_phone(message.to_address.split(":")[-1]),
            text,
        )
        return f"CONSOLE{message.id:010d}"


class EnvironmentOnce(requests.Session):
    """A session that reads the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...)
    the way requests does, but once per host instead of at every request: requests scans
    the whole environment for each message otherwise, and a worker sends every reply."""

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        host = urlsplit(str(url))[:2]
        key = (*host, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        if key not in self._settings:
            # A copy: requests adds the environment's proxies to the dict it is given.
            self._settings[key] = super().merge_environment_settings(
                url, dict(proxies or {}), stream, verify, cert
            )
        return dict(self._settings[key])


class TwilioTransport:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, api_base: str | None = None) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        # twilio's default is no timeout at all: a hung connection would hold a worker (and
        # the message's row lock) for ever. A timeout is retried like a 5xx.
        http = TwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS)
        # The deployment's proxies, NO_PROXY and CA bundle, read once per host.
        http.session = EnvironmentOnce()
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base:  # a local stand-in of Twilio's API (soak tests)
            self.client.api.base_url = api_base.rstrip("/")

    def send(self, message: Outgoing) -> str:
        import json

        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs: dict[str, Any] = {"from_": message.from_address, "to": message.to_address}
        if message.template_sid:
            kwargs["content_sid"] = message.template_sid
            kwargs["content_variables"] = json.dumps(message.template_variables or {})
        else:
            kwargs["body"] = message.body
            if message.persistent_action:
                kwargs["persistent_action"] = list(message.persistent_action)
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        try:
            sid: str = self.client.messages.create(**kwargs).sid
            return sid
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise TransportError(
                exc.msg or str(exc), code=str(exc.code or exc.status), retryable=retryable
            ) from None
        except (RequestException, TwilioException, OSError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", retryable=True) from None


def transport_for(config: Config) -> Transport:
    if config.TWILIO_ACCOUNT_SID and config.TWILIO_AUTH_TOKEN:
        return _twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, config.TWILIO_API_BASE)
    return ConsoleTransport()


@lru_cache(maxsize=8)
def _twilio(account_sid: str, auth_token: str, api_base: str | None) -> TwilioTransport:
    """One client per account and process: its connection to Twilio is kept open between
    messages (a worker sends every reply now; a TLS handshake each time cost more than the
    request)."""
    return TwilioTransport(account_sid, auth_token, api_base)
