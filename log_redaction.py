"""Keeps credentials and personal data out of every log line: the owner's approval tokens
(in request paths), API bearer tokens, and phone numbers, which are masked to the country
code and last two digits.

It works on log records as they are created (a record factory), so it covers every
logger and handler alike: ours, werkzeug's and gunicorn's request logs, and pytest's."""

from __future__ import annotations

import logging
import re
from typing import Any

TOKEN_IN_PATH = re.compile(r"(/approve/)[^\s?\"']+")
API_TOKEN = re.compile(r"\btb_[A-Za-z0-9_\-]{8,}")
# E.164, also inside "whatsapp:+..." and URL-encoded ("%2B..."); digits only, so dates and
# ids are left alone.
PHONE = re.compile(r"(\+|%2B)(\d{2})(\d{3,11})(\d{2})\b")


def redact(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = TOKEN_IN_PATH.sub(r"\1[redacted]", value)
    value = API_TOKEN.sub("tb_[redacted]", value)
    return PHONE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", value)


def _redact_args(args: Any) -> Any:
    if isinstance(args, dict):
        return {key: redact(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(redact(value) for value in args)
    return args


_installed = False


def install() -> None:
    """Idempotent: wraps the current record factory once."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = redact(record.msg)
        record.args = _redact_args(record.args)
        return record

    _installed = True
    logging.setLogRecordFactory(factory)
