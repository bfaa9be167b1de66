"""Reads Rasa 3.x NLU training files (version "3.1"): intents with examples, entity
annotations `[text](entity)` and `[text]{"entity": ..., "value": ...}`, synonyms, regexes
and lookup tables. The same files train a Rasa server unchanged."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-case text -> value
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})


def parse_example(raw: str, intent: str) -> Example:
    """Strips the annotations from one example line, keeping their spans and values."""
    text_parts: list[str] = []
    spans: list[EntitySpan] = []
    pos = 0
    cursor = 0
    for match in ANNOTATION.finditer(raw):
        text_parts.append(raw[pos : match.start()])
        cursor += match.start() - pos
        surface = match.group("text")
        if match.group("entity"):
            entity, _, value = match.group("entity").partition(":")
            value = value or surface
        else:
            spec = json.loads(match.group("json"))
            entity, value = spec["entity"], str(spec.get("value", surface))
        spans.append(EntitySpan(entity, value, cursor, cursor + len(surface)))
        text_parts.append(surface)
        cursor += len(surface)
        pos = match.end()
    text_parts.append(raw[pos:])
    return Example("".join(text_parts), intent, tuple(spans))


def _lines(block: str) -> list[str]:
    return [line[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def load(*paths: str | Path) -> TrainingData:
    data = TrainingData()
    for path in paths:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for item in doc.get("nlu", []):
            block = item.get("examples", "")
            if "intent" in item:
                data.examples += [parse_example(line, item["intent"]) for line in _lines(block)]
            elif "synonym" in item:
                for line in _lines(block):
                    data.synonyms[line.lower()] = item["synonym"]
            elif "regex" in item:
                data.regexes.setdefault(item["regex"], []).extend(_lines(block))
            elif "lookup" in item:
                data.lookups.setdefault(item["lookup"], []).extend(_lines(block))
    return data
