"""Phone numbers in E.164, and the channel addresses Twilio uses ("whatsapp:+1...")."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from models.enums import Channel
from services.errors import ServiceError


class InvalidPhone(ServiceError):
    pass


# Every webhook normalises the same few numbers again and again, and parsing is not cheap.
@lru_cache(maxsize=8192)
def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """Any written form of a valid number as E.164, e.g. "(555) 123-4567" -> "+15551234567"
    with default_region "US". Raises InvalidPhone for anything that is not a real number."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("phone number is empty")
    if len(text) > 40:
        raise InvalidPhone("phone number is too long")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number ({exc})") from None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_valid_number(parsed) or _is_fictional(parsed, e164)):
        raise InvalidPhone(f"{text!r} is not a valid phone number")
    return e164


def _is_fictional(parsed: phonenumbers.PhoneNumber, e164: str) -> bool:
    # North America keeps +1 555 for films and examples. Accepting it (and only it) lets
    # the documented examples, the demo and tests use numbers that reach nobody.
    return e164.startswith("+1555") and phonenumbers.is_possible_number(parsed)


def parse_address(address: str) -> tuple[Channel, str]:
    """A Twilio address ("+15551234567" or "whatsapp:+15551234567") as (channel, E.164)."""
    text = (address or "").strip()
    if text.lower().startswith("whatsapp:"):
        return Channel.WHATSAPP, normalize_phone(text.split(":", 1)[1])
    return Channel.SMS, normalize_phone(text)


def format_address(channel: Channel | str, phone: str) -> str:
    return f"whatsapp:{phone}" if channel == Channel.WHATSAPP else phone


def mask_phone(phone: str) -> str:
    """For logs: keep the country code and the last two digits."""
    if len(phone) < 6:
        return "***"
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
