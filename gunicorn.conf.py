"""Read by gunicorn from the working directory (the Procfile's web line)."""

import gc

import log_redaction


def on_starting(server):
    log_redaction.install()


def post_fork(server, worker):
    log_redaction.install()


def post_worker_init(worker):
    # Load the NLU before the first message, then take everything loaded so far (the app,
    # the NLU model, the date parser's data: ~200,000 objects) out of the garbage
    # collector's view: a full collection would walk them all, stopping every thread of
    # the worker (up to 160 ms measured here in a process holding ~240,000 objects).
    from webhooks.twilio import warm_up

    try:
        warm_up(worker.wsgi)
    except Exception:  # a slow start is better than no worker: the first message loads it
        worker.log.exception("NLU warm-up failed")
    gc.freeze()
