"""A Rasa NLU server as the intent backend: POST {RASA_URL}/model/parse with a short
timeout. Any failure (timeout, error status, malformed answer) falls back to the built-in
classifier for that message; the outage is logged once, and its end once."""

from __future__ import annotations

import logging
from typing import Any

import requests

from intents.builtin import BuiltinClassifier, Classification

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0


class RasaBackend:
    name = "rasa"

    def __init__(
        self, url: str, fallback: BuiltinClassifier, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.timeout = timeout
        self.http = requests.Session()
        self.failing = False

    def warm_up(self) -> bool:
        """One parse at start so the first customer does not pay for Rasa's lazy loading."""
        return self._call("hello") is not None

    def _call(self, text: str) -> dict[str, Any] | None:
        try:
            response = self.http.post(self.url, json={"text": text}, timeout=self.timeout)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            intent = body["intent"]
            if not isinstance(intent["name"], str) or not isinstance(
                intent["confidence"], int | float
            ):
                raise ValueError("intent without a name or confidence")
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            if not self.failing:
                log.warning(
                    "Rasa at %s failed (%s); the built-in classifier answers until it is back",
                    self.url,
                    type(exc).__name__,
                )
                self.failing = True
            return None
        if self.failing:
            log.info("Rasa at %s answers again", self.url)
            self.failing = False
        return body

    def classify(self, text: str, tour_spans: list[tuple[int, int]]) -> Classification:
        body = self._call(text)
        if body is None:
            return self.fallback.classify(text, tour_spans)
        ranking = [
            (str(r["name"]), float(r["confidence"]))
            for r in body.get("intent_ranking") or []
            if isinstance(r, dict)
            and isinstance(r.get("name"), str)
            and isinstance(r.get("confidence"), int | float)
        ]
        if not ranking:
            ranking = [(body["intent"]["name"], float(body["intent"]["confidence"]))]
        entities = [e for e in body.get("entities") or [] if isinstance(e, dict)]
        return Classification(sorted(ranking, key=lambda p: -p[1]), self.name, entities)
