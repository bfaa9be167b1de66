"""Evaluation on the held-out test file: intent accuracy, per-intent precision / recall / F1,
the confusions, and per-entity precision / recall / F1 on normalised values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from intents.entities import ParseContext, TourVocabulary
from intents.pipeline import NLU
from intents.training_data import Example, load

# The moment the test file's relative dates are written against (see its header).
EVAL_NOW = datetime(2027, 1, 6, 10, 0, tzinfo=ZoneInfo("Asia/Kathmandu"))
TEST_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "nlu_test.yml"
LANGUAGES = ("en", "pt", "es", "fr", "de")


def test_file(language: str) -> Path:
    """The held-out set of a language: tests/data/nlu_test.yml for English,
    tests/data/<language>/nlu_test.yml for the others."""
    return TEST_FILE if language == "en" else TEST_FILE.parent / language / "nlu_test.yml"


INT_ENTITIES = ("party_size", "adults", "children", "option")
REPORTED_ENTITIES = (
    "tour",
    "date",
    "month",
    "time",
    "party_size",
    "adults",
    "children",
    "booking_ref",
    "option",
    "email",
    "phone",
)


def demo_vocabulary() -> TourVocabulary:
    """The demo catalog's tours: the ones the test file talks about."""
    from services.demo import render_demo_catalog

    catalog = yaml.safe_load(render_demo_catalog(EVAL_NOW.date()))
    return TourVocabulary.from_tours(
        (t["slug"], t["name"], _names(t.get("aliases", []))) for t in catalog["tours"]
    )


def _names(aliases: list[str] | dict[str, list[str]]) -> list[str]:
    """A tour's aliases: a list, or every language's of a map."""
    if isinstance(aliases, dict):
        return [name for names in aliases.values() for name in names]
    return list(aliases)


def eval_context(language: str = "en") -> ParseContext:
    return ParseContext(now=EVAL_NOW, tours=demo_vocabulary(), language=language)


def expected_entities(example: Example) -> set[tuple[str, str | int]]:
    found: set[tuple[str, str | int]] = set()
    for span in example.entities:
        value: str | int = int(span.value) if span.entity in INT_ENTITIES else span.value
        found.add((span.entity, value))
    names = {name for name, _ in found}
    if "party_size" not in names and names & {"adults", "children"}:
        found.add(("party_size", sum(int(v) for n, v in found if n in ("adults", "children"))))
    return found


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    intents: dict[str, Scores] = field(default_factory=dict)
    entities: dict[str, Scores] = field(default_factory=dict)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    entity_misses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def evaluate(nlu: NLU, examples: list[Example], ctx: ParseContext) -> Report:
    report = Report()
    for example in examples:
        result = nlu.parse(example.text, ctx)
        report.total += 1
        want, got = example.intent, result.intent
        report.intents.setdefault(want, Scores())
        report.intents.setdefault(got, Scores())
        if want == got:
            report.correct += 1
            report.intents[want].tp += 1
        else:
            report.intents[want].fn += 1
            report.intents[got].fp += 1
            report.confusions[(want, got)] += 1
            report.misses.append((example.text, want, got))
        expected = expected_entities(example)
        predicted = {(e.entity, e.value) for e in result.entities}
        for name in {n for n, _ in expected | predicted}:
            scores = report.entities.setdefault(name, Scores())
            exp = {v for n, v in expected if n == name}
            pred = {v for n, v in predicted if n == name}
            scores.tp += len(exp & pred)
            scores.fp += len(pred - exp)
            scores.fn += len(exp - pred)
            if exp != pred:
                report.entity_misses.append(
                    (
                        example.text,
                        f"{name}: expected {sorted(map(str, exp))}, got {sorted(map(str, pred))}",
                    )
                )
    return report


def entity_f1(report: Report) -> float:
    """F1 over every reported entity's values together (micro-averaged)."""
    total = Scores()
    for name in REPORTED_ENTITIES:
        if name in report.entities:
            s = report.entities[name]
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
    return total.f1


def format_summary(reports: dict[str, Report], backend: str) -> str:
    """One line per language and one overall: intent accuracy and entity F1."""
    lines = [f"Backend: {backend}", f"{'language':10} {'intent accuracy':>22} {'entity F1':>10}"]
    overall = Report()
    for language, report in reports.items():
        lines.append(
            f"{language:10} {report.accuracy:8.1%} ({report.correct:3d}/{report.total:3d})"
            f"      {entity_f1(report):10.3f}"
        )
        overall.total += report.total
        overall.correct += report.correct
        for name, s in report.entities.items():
            o = overall.entities.setdefault(name, Scores())
            o.tp, o.fp, o.fn = o.tp + s.tp, o.fp + s.fp, o.fn + s.fn
    lines.append(
        f"{'overall':10} {overall.accuracy:8.1%} ({overall.correct:3d}/{overall.total:3d})"
        f"      {entity_f1(overall):10.3f}"
    )
    return "\n".join(lines)


def format_report(report: Report, backend: str) -> str:
    lines = [
        f"Backend: {backend}",
        f"Intent accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
        "",
        f"{'intent':22} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
    ]
    for name in sorted(report.intents):
        s = report.intents[name]
        lines.append(f"{name:22} {s.precision:9.2f} {s.recall:7.2f} {s.f1:6.2f} {s.tp + s.fn:8d}")
    lines += ["", "Confusions (expected -> predicted: count):"]
    lines += [f"  {a} -> {b}: {n}" for (a, b), n in report.confusions.most_common()] or ["  none"]
    lines += ["", f"{'entity':22} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for name in REPORTED_ENTITIES:
        if name in report.entities:
            s = report.entities[name]
            lines.append(
                f"{name:22} {s.precision:9.2f} {s.recall:7.2f} {s.f1:6.2f} {s.tp + s.fn:8d}"
            )
    if report.misses:
        lines += ["", "Misclassified messages:"]
        lines += [f"  {text!r}: expected {want}, got {got}" for text, want, got in report.misses]
    if report.entity_misses:
        lines += ["", "Entity differences:"]
        lines += [f"  {text!r}: {detail}" for text, detail in report.entity_misses]
    return "\n".join(lines)


def run(nlu: NLU, test_file: Path = TEST_FILE, language: str = "en") -> Report:
    return evaluate(nlu, load(test_file).examples, eval_context(language))
