"""Small counts written as digits or words ("2", "two", "a dozen")."""

from __future__ import annotations

WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "a couple": 2,
    "couple": 2,
    "a pair": 2,
    "pair": 2,
    "a dozen": 12,
    "dozen": 12,
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
}

# Longest first so "a couple" wins over "couple".
NUMBER = r"(?:\d{1,3}|" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")"


def to_int(text: str) -> int:
    text = text.strip().lower()
    return int(text) if text.isdigit() else WORDS[text]
