"""Benchmark: what speaking in a customer's voice costs per message. Prints figures;
asserts nothing; needs no database.

    python -m bench.voice [--rounds 20000]

Every turn builds the customer's Voice (Turn.voice: the organization's settings, the
customer's language, whether their number is foreign) and most replies format a few
sentences, times and amounts with it. The catalogs are read once per process; the first
figure is that one-off cost per language.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from models import Customer, Organization
from services import i18n, phrases
from services.i18n import customer_voice


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Microseconds per call, the best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20000)
    rounds = parser.parse_args().rounds

    for language in i18n.SUPPORTED_LANGUAGES:
        i18n.translations.cache_clear()
        start = time.perf_counter()
        i18n.translations(language)
        took = (time.perf_counter() - start) * 1e3
        print(f"catalog {language}: read once per process in {took:.1f} ms")

    org = Organization(
        name="Adventure Treks",
        timezone="Asia/Kathmandu",
        currency="USD",
        settings_json={"languages": ["en", "de"]},
    )
    abroad = Customer(phone="+12025550101", language="de")
    start_at = datetime(2027, 3, 13, 17, 30, tzinfo=UTC)
    voice = customer_voice(org, abroad)

    def a_reply() -> str:
        return voice._(
            "Done! I've held {n} seats on {tour}, {when}.",
            n=4,
            tour="Sunset Tour",
            when=voice.when(start_at),
        ) + voice._(
            "Deposit {deposit} or pay in full {total}.",
            deposit=voice.money(4680, "USD"),
            total=voice.money(15600, "USD"),
        )

    figures = {
        "Voice per turn (customer_voice)": lambda: customer_voice(org, abroad),
        "a sentence, no values": lambda: voice._("Reply MENU for anything else."),
        "a time (when)": lambda: voice.when(start_at),
        "an amount (money)": lambda: voice.money(4680, "USD"),
        "a party": lambda: phrases.party(voice, {"adult": 2, "child": 2}),
        "a held-seats reply (2 sentences, a time, 2 amounts)": a_reply,
    }
    for name, fn in figures.items():
        print(f"{name}: {per_call(fn, rounds):.1f} µs")


if __name__ == "__main__":
    main()
