"""Benchmark: answering a question from the knowledge base. Prints figures; asserts
nothing; needs no database.

    python -m bench.knowledge [--tours 50] [--faq 20] [--rounds 20]

A catalog of `tours` tours with `faq` FAQ entries each (several phrasings per entry, as
operators write them) and an organization FAQ; questions customers type (typos, several
topics, nothing answerable), each searched with the tour in context and without one (every
tour's FAQ then). Prints the index build time and the per-question latency (p50, p99, max).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from services import knowledge

TOPICS = [
    ("sunrise", "Can we see the sunrise?"),
    ("altitude sickness", "Guides carry oxygen."),
    ("vegetarian", "Every stop has a vegetarian dish."),
    ("porter", "A porter carries 10 kg."),
    ("toilet", "There are toilets at the start."),
    ("camera drone", "Drones need a permit."),
    ("photography", "Photos allowed everywhere."),
    ("swimming", "Bring a swimsuit for the lake."),
    ("boat ride", "The boat ride is 30 minutes."),
    ("temple dress code", "Cover shoulders and knees."),
    ("entrance tickets", "Tickets are included."),
    ("smoking", "No smoking on the tour."),
    ("alcohol", "Drinks are not included."),
    ("insurance", "Travel insurance is yours."),
    ("visa", "Visa on arrival."),
    ("currency exchange", "ATMs in Thamel."),
    ("tipping", "Tips are welcome, not expected."),
    ("wifi", "No wifi on the trail."),
    ("charging phones", "Charging costs extra in tea houses."),
    ("luggage storage", "We store bags for free."),
    ("pets dogs", "No pets, sorry."),
    ("group size", "At most 12 people."),
]
QUESTIONS = [
    "is lunch included?",
    "what should we bring",
    "can u pick us up from the hotel??",
    "is it ok for a 5 year old",
    "wheelchiar accessible?",
    "what if it rains",
    "do you sell gift vouchers",
    "whats your cancellation policy",
    "can we fly a drone on the tour?",
    "is there wifi and can I charge my phone",
    "how long is it and where do we meet?",
    "do we need travel insurance?",
    "can I bring my cat?",
    "is the boat ride included in the price?",
    "what's the dress code for the temples",
    "asdf qwerty",
]


def catalog(tours: int, faq: int, seed: int = 7) -> knowledge.KnowledgeIndex:
    rng = random.Random(seed)
    org_faq = [
        {"q": ["gift voucher", "gift card"], "a": "Vouchers valid 12 months."},
        {"q": ["pay cash", "cash", "bank transfer"], "a": "Card or cash."},
        {"q": ["private tour"], "a": "Any tour can run privately.", "follow_up": "Quote"},
    ]
    items = []
    for n in range(tours):
        entries = []
        for q, a in rng.sample(TOPICS, min(faq, len(TOPICS))):
            words = q.split()
            entries.append({"q": [q, f"about {q}", f"{words[0]} question {n}"], "a": a})
        items.append((f"tour-{n}", entries))
    return knowledge.build_index(org_faq, items)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tours", type=int, default=50)
    parser.add_argument("--faq", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    start = time.perf_counter()
    index = catalog(args.tours, args.faq)
    built = (time.perf_counter() - start) * 1000
    print(
        f"catalog: {args.tours} tours x {args.faq} FAQ ({len(index.entries)} entries), "
        f"index built in {built:.1f} ms"
    )
    for label, tour in (("tour in context", "tour-3"), ("no tour (every tour's FAQ)", None)):
        times = []
        for _ in range(args.rounds):
            for question in QUESTIONS:
                t0 = time.perf_counter()
                for clause in knowledge.clauses(question):
                    index.search(clause, tour=tour)
                times.append((time.perf_counter() - t0) * 1e6)
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        print(
            f"{label:28s} per question: p50 {statistics.median(times):6.0f} µs   "
            f"p99 {p99:6.0f} µs   max {times[-1]:6.0f} µs   ({len(times)} questions)"
        )


if __name__ == "__main__":
    main()
