"""Read by gunicorn from the working directory (the Procfile's web line)."""

from typing import Any

import log_redaction


def on_starting(server: Any) -> None:
    log_redaction.install()


def post_fork(server: Any, worker: Any) -> None:
    log_redaction.install()


def post_worker_init(worker: Any) -> None:
    # Load the NLU before the first message, then settle the garbage collector around
    # everything loaded so far (~200,000 objects; see services.runtime).
    from services.runtime import settle_garbage_collector
    from webhooks.twilio import warm_up

    try:
        warm_up(worker.wsgi)
    except Exception:  # a slow start is better than no worker: the first message loads it
        worker.log.exception("NLU warm-up failed")
    settle_garbage_collector()
