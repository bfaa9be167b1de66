"""Money as integer minor units. Decimal only at the edges (parsing and display)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

from services.errors import ServiceError


class MoneyError(ServiceError):
    pass


_KNOWN_CURRENCIES = frozenset(list_currencies())


def validate_currency(code: str) -> str:
    upper = (code or "").upper()
    if upper not in _KNOWN_CURRENCIES:
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code")
    return upper


def is_currency(code: str) -> bool:
    return (code or "").upper() in _KNOWN_CURRENCIES


def exponent(currency: str) -> int:
    """Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


def to_minor(amount: str | int | float | Decimal, currency: str) -> int:
    """ "2400.00" USD -> 240000. Refuses negative amounts and more decimals than the
    currency has, rather than silently rounding a price someone typed."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise MoneyError(f"{amount!r} is not an amount") from None
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not an amount")
    if value < 0:
        raise MoneyError(f"{amount!r} is negative")
    digits = exponent(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount!r} has more than {digits} decimals for {currency}")
    return int(scaled)


def plain_amount(amount_minor: int, currency: str) -> str:
    """240000 USD -> "2400.00": what to_minor reads back (a form's default value)."""
    return f"{Decimal(amount_minor).scaleb(-exponent(currency)):f}"


def percent_of(amount_minor: int, percent: Decimal | int) -> int:
    """A percentage of an amount, rounded half up to the minor unit."""
    return int((Decimal(amount_minor) * Decimal(percent) / 100).quantize(0, ROUND_HALF_UP))


def format_money(amount_minor: int, currency: str, locale: str = "en_US") -> str:
    """240000 USD -> "$2,400"; 4950 USD -> "$49.50". Whole amounts drop the zeros because
    chat replies read better that way."""
    value = Decimal(amount_minor).scaleb(-exponent(currency))
    whole = value == value.to_integral_value()
    fmt = "¤#,##0" if whole else None
    return format_currency(value, currency, format=fmt, locale=locale, currency_digits=not whole)
