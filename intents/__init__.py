"""NLU: intent and entity detection for customer messages.

    nlu = build_nlu(config)                      # built-in, or Rasa with a built-in fallback
    result = nlu.parse("sunset tour sat? 2 adults 2 kids", context_for_org(session, org, now))
    result.intent, result.entity("party_size"), result.as_rasa()

The training data (intents/data/nlu.yml) and pipeline (intents/config.yml) form a Rasa 3.x
project; rasa itself is never imported, it runs as its own server (make rasa).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from intents.builtin import BuiltinClassifier
from intents.entities import Entity, ParseContext, TourVocabulary
from intents.pipeline import FALLBACK, NLU, Backend, ParseResult
from intents.rasa_client import RasaBackend
from models import Organization, Tour

log = logging.getLogger(__name__)

NLU_DIR = Path(__file__).resolve().parent
NLU_DATA = NLU_DIR / "data" / "nlu.yml"
# Each further language's training data: intents/data/<language>/nlu.yml (Rasa's format;
# `rasa train nlu --nlu intents/data/pt/nlu.yml` trains that language's model).
NLU_LANGUAGES = ("pt", "es", "fr", "de")


def nlu_data(language: str) -> Path:
    return NLU_DATA if language == "en" else NLU_DIR / "data" / language / "nlu.yml"


INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "enquire",
    "check_availability",
    "ask_price",
    "book",
    "hold",
    "join_waitlist",
    "affirm",
    "deny",
    "choose_option",
    "pay",
    "cancel_booking",
    "reschedule",
    "booking_status",
    "human_handoff",
    "ask_info",
    "nlu_fallback",
)


def build_nlu(
    rasa_url: str | None = None,
    cache_dir: Path | None = None,
    backend: str | None = None,
    rasa_urls: Mapping[str, str] | None = None,
) -> NLU:
    """backend: "builtin", "rasa", or None to choose by rasa_url. rasa_url serves the
    English model; rasa_urls one server per further language (Rasa trains one model per
    language). A language without a server of its own keeps the built-in classifier."""
    builtin = BuiltinClassifier.load_or_train(NLU_DATA, cache_dir)
    others: dict[str, Backend] = {
        language: BuiltinClassifier.load_or_train(nlu_data(language), cache_dir)
        for language in NLU_LANGUAGES
        if nlu_data(language).exists()
    }
    use_rasa = backend == "rasa" or (backend is None and rasa_url)
    if not use_rasa:
        return NLU(builtin, others=others)
    if not rasa_url:
        raise ValueError("the rasa backend needs RASA_URL")
    english = _rasa(rasa_url, builtin)
    for language, url in (rasa_urls or {}).items():
        fallback = others.get(language)
        if isinstance(fallback, BuiltinClassifier):
            others[language] = _rasa(url, fallback)
    return NLU(english, others=others)


def _rasa(url: str, fallback: BuiltinClassifier) -> RasaBackend:
    rasa = RasaBackend(url, fallback=fallback)
    if not rasa.warm_up():
        log.warning("Rasa at %s did not answer the warm-up call", url)
    return rasa


VOCABULARY_TTL_SECONDS = 60
_vocabularies: dict[int, tuple[float, TourVocabulary]] = {}


def vocabulary_for_org(session: Session, organization_id: int) -> TourVocabulary:
    """The organization's tour names and aliases, rebuilt at most once a minute per process:
    every message needs them, and a catalog change may take a minute to be recognised."""
    cached = _vocabularies.get(organization_id)
    if cached is not None and time.monotonic() - cached[0] < VOCABULARY_TTL_SECONDS:
        return cached[1]
    tours = session.scalars(
        select(Tour).where(Tour.organization_id == organization_id, Tour.active.is_(True))
    )
    vocabulary = TourVocabulary.from_tours((t.slug, t.name, t.aliases or []) for t in tours)
    _vocabularies[organization_id] = (time.monotonic(), vocabulary)
    return vocabulary


def forget_vocabularies() -> None:
    _vocabularies.clear()


def context_for_org(
    session: Session, org: Organization, now: datetime, language: str = "en"
) -> ParseContext:
    """Extraction context for an organization: its tours, its local now, its date order,
    and the language the message is read in."""
    return ParseContext(
        now=now.astimezone(org.tz),
        tours=vocabulary_for_org(session, org.id),
        # Numeric dates: month first in the Americas, day first elsewhere.
        date_order="MDY" if org.timezone.startswith("America/") else "DMY",
        region=_region(org.owner_phone),
        language=language,
    )


@lru_cache(maxsize=256)
def _region(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None


__all__ = [
    "FALLBACK",
    "INTENTS",
    "NLU",
    "NLU_DATA",
    "NLU_LANGUAGES",
    "Entity",
    "ParseContext",
    "ParseResult",
    "TourVocabulary",
    "build_nlu",
    "context_for_org",
    "nlu_data",
    "vocabulary_for_org",
]
