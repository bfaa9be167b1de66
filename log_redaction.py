"""Keeps credentials and personal data out of every log line: the owner's approval tokens
(in request paths), API bearer tokens, and phone numbers, which are masked to the country
code and last two digits.

It works on log records as they are created (a record factory), so it covers every
logger and handler alike: ours, werkzeug's and gunicorn's request logs, and pytest's. The
message is redacted as it will be written (after its arguments are filled in), and so is
an exception's traceback, formatted once here: tracebacks used to carry the sender's
number past the redaction. (Message bodies in database errors are kept out by the engine,
which hides SQL parameters: models/db.py.)"""

from __future__ import annotations

import logging
import re
from typing import Any

TOKEN_IN_PATH = re.compile(r"(/approve/)[^\s?\"']+")
API_TOKEN = re.compile(r"\btb_[A-Za-z0-9_\-]{8,}")
# E.164, also inside "whatsapp:+..." and URL-encoded ("%2B..."); digits only, so dates and
# ids are left alone.
PHONE = re.compile(r"(\+|%2B)(\d{2})(\d{3,11})(\d{2})\b")


# PostgreSQL's own words about a failed row or key quote the values in it (a customer's
# message, their number): "Failing row contains (...)", "Key (provider_sid)=(SM...)".
FAILING_ROW = re.compile(r"(Failing row contains )\(.*?\)(?=\.?\s*$|\.?\n|\s*\[)", re.MULTILINE)
KEY_VALUE = re.compile(r"(Key \([^)]*\))=\(.*?\)(?= (?:already exists|is not present|conflicts))")


def redact(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = FAILING_ROW.sub(r"\1(...)", value)
    value = KEY_VALUE.sub(r"\1=(...)", value)
    value = TOKEN_IN_PATH.sub(r"\1[redacted]", value)
    value = API_TOKEN.sub("tb_[redacted]", value)
    return PHONE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", value)


def _redact_args(args: Any) -> Any:
    if isinstance(args, dict):
        return {key: redact(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(redact(value) for value in args)
    return args


class _RedactedRecord(logging.LogRecord):
    """Also the message as filled in: a number split over two arguments, or an object
    whose str() holds one, is masked in what is finally written."""

    def getMessage(self) -> str:
        return str(redact(super().getMessage()))


_installed = False
_FORMATTER = logging.Formatter()


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
        if type(record) is logging.LogRecord:
            record.__class__ = _RedactedRecord
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters use exc_text when it is set, rather than formatting again.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    _installed = True
    logging.setLogRecordFactory(factory)
