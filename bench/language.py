"""Benchmark: what a message costs in five languages, and what five languages cost in
memory. Prints figures; asserts nothing.

    python -m bench.language [--messages 3000]

Per message: the customer's language chosen (services/language.py: lingua and the word
lists) and the message parsed in it (that language's classifier and entity words), as
bot/turn.Reading does. Memory: the peak resident size of a process that has built the app,
the five classifiers and the language detector (resident size after each step), measured
in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import pct

MEMORY = """
import sys
from pathlib import Path
from app import create_app
from config import TestConfig
create_app(TestConfig())
from intents import build_nlu
from intents.evaluate import eval_context
from services import language
def rss():
    status = Path("/proc/self/status").read_text()
    return next(int(l.split()[1]) // 1024 for l in status.splitlines() if l.startswith("VmRSS"))
base = rss()
nlu = build_nlu(cache_dir=Path(sys.argv[1]))
with_models = rss()
language.choose("hola, tienen plazas para mañana?", ["en", "pt", "es", "fr", "de"], None)
for code in ("en", "pt", "es", "fr", "de"):
    nlu.parse("sábado 2 adultos el 11 de diciembre", eval_context(code))
print(base, with_models, rss())
"""

ALL = ["en", "pt", "es", "fr", "de"]


def messages(count: int) -> list[tuple[str, str | None]]:
    """(text, the customer's stored language) from every language's training and held-out
    data, with chat's small variations; a third come from customers already known."""
    from intents import nlu_data
    from intents.evaluate import test_file
    from intents.training_data import load

    base = [
        (e.text, code)
        for code in ALL
        for e in load(nlu_data(code)).examples + load(test_file(code)).examples
    ]
    rng = random.Random(7)
    decorations = [lambda s: s, str.lower, str.upper, lambda s: s + " 🙏", lambda s: s + "??"]
    out: list[tuple[str, str | None]] = []
    for _ in range(count):
        text, code = rng.choice(base)
        out.append((rng.choice(decorations)(text), code if rng.random() < 0.33 else None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()

    import dataclasses

    from intents import build_nlu
    from intents.evaluate import eval_context
    from services import language

    with tempfile.TemporaryDirectory() as cache:
        nlu = build_nlu(cache_dir=Path(cache), backend="builtin")
        t0 = time.perf_counter()
        language.detector()
        loaded = time.perf_counter() - t0
        ctx = eval_context()
        texts = messages(args.messages)

        def one(text: str, stored: str | None) -> tuple[float, float, float]:
            # Wall time, and this thread's CPU time: on a shared machine whose load is above
            # its cores, the wall time's tail is other processes' turns, not this code.
            w0, c0 = time.perf_counter(), time.thread_time()
            code = language.choose(text, ALL, stored) or "en"
            c1 = time.thread_time()
            nlu.parse(text, dataclasses.replace(ctx, language=code))
            c2, w2 = time.thread_time(), time.perf_counter()
            return (c1 - c0) * 1000, (c2 - c0) * 1000, (w2 - w0) * 1000

        for text, stored in texts[:300]:  # warm-up
            one(text, stored)
        detect, cpu, wall = zip(*(one(text, stored) for text, stored in texts), strict=True)
        print(f"Language detector built in {loaded:.2f} s (low accuracy mode, five languages)")
        print(
            f"Detection over {len(texts)} messages, CPU: "
            f"median {statistics.median(detect):.3f} ms, p99 {pct(list(detect), 99):.3f} ms"
        )
        print(
            f"Detection + parse, CPU: median {statistics.median(cpu):.2f} ms, "
            f"p99 {pct(list(cpu), 99):.2f} ms, max {max(cpu):.2f} ms"
        )
        print(
            f"Detection + parse, wall: median {statistics.median(wall):.2f} ms, "
            f"p99 {pct(list(wall), 99):.2f} ms (load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores)"
        )
        out = subprocess.run(
            [sys.executable, "-c", MEMORY, cache],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
    app, models, everything = out.stdout.split()[-3:]
    print(
        f"Resident memory of one process: {app} MB with the app, {models} MB with the five "
        f"classifiers, {everything} MB with the language detector and every language's words"
    )


if __name__ == "__main__":
    main()
