"""The built-in intent classifier: a logistic regression over word and character n-grams,
trained at start-up from intents/data/nlu.yml and cached on disk, keyed by the training
data and the library versions so a change retrains it."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from intents.training_data import TrainingData, load

log = logging.getLogger(__name__)

MODEL_VERSION = "1"
OUT_OF_SCOPE = "out_of_scope"

_DIGITS = re.compile(r"\d+")
_REF = re.compile(r"\b(?:bk|ld|qt)[\s\-#]?[2-9a-z]{5}\b")
_SPACE = re.compile(r"\s+")


def normalise(text: str, tour_spans: list[tuple[int, int]] | None = None) -> str:
    """What the classifier sees: tour names as one placeholder (so intents do not depend on
    one operator's catalog), references and numbers as placeholders, lower case."""
    for start, end in sorted(tour_spans or [], reverse=True):
        text = text[:start] + " tourname " + text[end:]
    text = text.lower()
    text = _REF.sub(" bookingref ", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def _training_text(data: TrainingData) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for example in data.examples:
        spans = [(e.start, e.end) for e in example.entities if e.entity == "tour"]
        texts.append(normalise(example.text, spans))
        labels.append(example.intent)
    return texts, labels


@dataclass(frozen=True)
class Classification:
    ranking: list[tuple[str, float]]  # best first
    backend: str
    entities: list[dict[str, Any]] = field(default_factory=list)  # raw, from Rasa only


def build_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1
                ),
            ),
        ]
    )
    return Pipeline([("features", features), ("model", LogisticRegression(C=30, max_iter=5000))])


class BuiltinClassifier:
    name = "builtin"

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.labels: list[str] = list(pipeline.classes_)
        self._fast = _FastScorer(pipeline)

    @classmethod
    def train(cls, data: TrainingData) -> BuiltinClassifier:
        texts, labels = _training_text(data)
        pipeline = build_pipeline()
        pipeline.fit(texts, labels)
        return cls(pipeline)

    @classmethod
    def load_or_train(cls, nlu_path: Path, cache_dir: Path | None) -> BuiltinClassifier:
        raw = nlu_path.read_bytes()
        key = hashlib.sha256(raw + f"{MODEL_VERSION}/{sklearn.__version__}".encode()).hexdigest()[
            :16
        ]
        cached = cache_dir / f"builtin-{key}.joblib" if cache_dir else None
        if cached and cached.exists():
            try:
                return cls(joblib.load(cached))
            except Exception:  # a corrupt or incompatible cache is retrained, not fatal
                log.warning("NLU cache %s unreadable; retraining", cached)
        model = cls.train(load(nlu_path))
        if cached:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(".tmp")
                joblib.dump(model.pipeline, tmp)
                tmp.replace(cached)  # atomic: concurrent starters never read half a file
            except OSError as exc:
                log.warning("could not cache the NLU model: %s", exc)
        return model

    def classify(self, text: str, tour_spans: list[tuple[int, int]]) -> Classification:
        probs = self._fast.predict_proba(normalise(text, tour_spans))
        ranking = sorted(
            zip(self.labels, (float(p) for p in probs), strict=True), key=lambda p: -p[1]
        )
        return Classification(ranking, self.name)


class _FastScorer:
    """The fitted pipeline's predict_proba for one message, without scikit-learn's per-call
    machinery (input validation, sparse matrices, joblib), which costs several times the
    arithmetic. It uses the fitted vectorizers' own analyzers, vocabularies and idf, and the
    fitted coefficients, so the result is the same (tests/test_nlu.py checks it)."""

    def __init__(self, pipeline: Pipeline) -> None:
        union: FeatureUnion = pipeline.named_steps["features"]
        model: LogisticRegression = pipeline.named_steps["model"]
        self.parts = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            self.parts.append(
                (vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset)
            )
            offset += len(vectorizer.vocabulary_)
        self.coef = np.ascontiguousarray(model.coef_.T)  # features x classes
        self.intercept = model.intercept_

    def predict_proba(self, text: str) -> np.ndarray:
        indices: list[int] = []
        weights: list[float] = []
        for analyze, vocabulary, idf, offset in self.parts:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            values = tf * idf[columns]  # sublinear tf x idf, then l2 per vectorizer
            values /= np.sqrt(values @ values)
            indices.extend((columns + offset).tolist())
            weights.extend(values.tolist())
        scores = self.intercept.copy()
        if indices:
            scores += np.asarray(weights) @ self.coef[np.asarray(indices)]
        scores = np.exp(scores - scores.max())
        probabilities: np.ndarray = scores / scores.sum()
        return probabilities
