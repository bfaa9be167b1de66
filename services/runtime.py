"""What work outside a request runs with (jobs, the sweep, the outbox's deliveries): the
configuration and a session factory on its database. Passed as a parameter; there is no
process-wide one. The web app builds its own from its Config (create_app); a job that an
RQ worker runs gets one built from the environment variables, read as the app reads them
(from_environment)."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from config import Config
from models.db import make_engine, make_session_factory


@dataclass(frozen=True)
class Runtime:
    config: Config
    sessions: sessionmaker[Session]


def from_environment() -> Runtime:
    """An RQ worker's runtime, for each job it runs: the configuration from the environment
    (cheap to read), the database through one engine per process."""
    config = Config()
    return Runtime(config, _sessions(config.DATABASE_URL))


@lru_cache(maxsize=4)
def _sessions(database_url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(database_url))


# Handling one message makes tens of thousands of short-lived objects (ORM rows and their
# states, results, parsed forms); with CPython's default first threshold, 700, that was
# dozens of young-generation collections per message. 20,000 measured ~10% less CPU per
# message in-process here; the cycles such objects form are still collected, a little later.
GC_THRESHOLDS = (20_000, 20, 20)


def settle_garbage_collector() -> None:
    """For a long-running service process (a gunicorn worker, the RQ worker), once it has
    loaded what it keeps for its whole life (the app, the NLU model, the date parser's
    data): those objects are frozen out of the collector's view, so no collection walks
    them again (a full one took up to 160 ms here), and collections run less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
