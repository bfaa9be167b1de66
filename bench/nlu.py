"""Benchmark: the built-in NLU backend's parse time, start-up time and memory. Prints
figures; asserts nothing. With RASA_URL set, also times the same messages against Rasa.

    python -m bench.nlu [--messages 3000]

Each start-up figure is measured in a fresh subprocess, so imports are counted too.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import pct

STARTUP = """
import time, sys
from pathlib import Path
t0 = time.perf_counter()
from intents import build_nlu
from intents.evaluate import eval_context
nlu = build_nlu(cache_dir=Path(sys.argv[1]))
nlu.parse("hello", eval_context())
print(time.perf_counter() - t0)
"""


def messages(count: int) -> list[str]:
    """Realistic customer messages: the held-out test file and training data, with the
    small variations real chat has (case, emoji, greetings, trailing punctuation)."""
    from intents import NLU_DATA
    from intents.evaluate import TEST_FILE
    from intents.training_data import load

    base = [e.text for e in load(TEST_FILE).examples + load(NLU_DATA).examples]
    rng = random.Random(5)
    decorations = [
        lambda s: s,
        str.lower,
        str.upper,
        lambda s: "hi, " + s,
        lambda s: s + " 🙏",
        lambda s: s + "??",
        lambda s: s + " thanks",
    ]
    return [rng.choice(decorations)(rng.choice(base)) for _ in range(count)]


def startup_seconds(cache_dir: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", STARTUP, cache_dir],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return float(out.stdout.strip().splitlines()[-1])


def time_parses(nlu, texts: list[str], ctx) -> list[float]:  # type: ignore[no-untyped-def]
    timings = []
    for text in texts:
        t0 = time.perf_counter()
        nlu.parse(text, ctx)
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        cold = startup_seconds(cache)  # trains and writes the cache
        warm = statistics.median(startup_seconds(cache) for _ in range(3))
    print(
        f"Start-up to first answer: {cold:.2f} s training (no cache), {warm:.2f} s from the cache"
    )

    from intents import build_nlu
    from intents.evaluate import eval_context

    with tempfile.TemporaryDirectory() as cache:
        nlu = build_nlu(cache_dir=Path(cache), backend="builtin")
    ctx = eval_context()
    texts = messages(args.messages)
    time_parses(nlu, texts[:200], ctx)  # warm-up
    timings = time_parses(nlu, texts, ctx)
    print(
        f"Built-in parse over {len(texts)} messages: median {statistics.median(timings):.2f} ms, "
        f"p99 {pct(timings, 99):.2f} ms, max {max(timings):.2f} ms"
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak resident memory of this process with the model loaded: {rss_mb:.0f} MB")

    rasa_url = os.environ.get("RASA_URL")
    if rasa_url:
        rasa = build_nlu(rasa_url, backend="rasa")
        sample = texts[:1000]
        timings = time_parses(rasa, sample, ctx)
        print(
            f"Rasa backend ({rasa_url}) over {len(sample)} messages, HTTP + our extractors: "
            f"median {statistics.median(timings):.2f} ms, p99 {pct(timings, 99):.2f} ms"
        )


if __name__ == "__main__":
    main()
