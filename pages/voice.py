"""The customer pages speak in the customer's voice. Jinja's i18n extension is installed
with gettext callables that use the Voice the view chose for this request (speak_to), so
templates say `{{ _("Pay for {reference}", reference=booking.reference) }}` and
`{{ ngettext("{n} seat", "{n} seats", n) }}`, placeholders named as everywhere else. A page
with no customer to speak to (a link that finds nothing) is English."""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from services.i18n import Voice

ENGLISH = Voice()


def speak_to(voice: Voice) -> Voice:
    """This request's pages speak in voice; returns it, for the view's own sentences."""
    g.voice = voice
    return voice


def current() -> Voice:
    return g.get("voice") or ENGLISH


def _gettext(message: str, /, **values: Any) -> str:
    return current()._(message, **values)


def _ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    return current().n_(singular, plural, n, **values)


def install(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Old-style callables: Jinja passes the keyword arguments through to Voice, which fills
    # "{name}" placeholders (new-style would fill "%(name)s" ones). What they return is
    # escaped like any other value.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=False
    )
    app.jinja_env.globals["page_language"] = lambda: current().language
