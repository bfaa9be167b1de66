"""The root of every service error. Each service module defines its own subclass, so
callers can catch narrowly, and the web layer can turn any of them into a clear answer."""

from __future__ import annotations

from typing import Any, Protocol


class _Voice(Protocol):
    """services.i18n.Voice, which is not imported: every service module imports this one."""

    def _(self, message: str, /, **values: Any) -> str: ...


class ServiceError(Exception):
    """An expected refusal with a message fit to show a person.

    A refusal a customer may read is an English sentence marked for translation with its
    values passed by name, `PricingError(N_("{tour} has no {tier} price"), tour=..., ...)`:
    `message` is the English text (staff pages, the API, logs) and `said_by(voice)` the
    customer's own words."""

    #: HTTP status the API uses for this kind of refusal.
    http_status = 400

    def __init__(self, message: str, /, **values: Any) -> None:
        self.template, self.values = message, values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)

    def said_by(self, voice: _Voice) -> str:
        return voice._(self.template, **self.values)


class NotFound(ServiceError):
    http_status = 404
