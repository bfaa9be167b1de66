"""Read by gunicorn from the working directory (the Procfile's web line)."""

import log_redaction


def on_starting(server):
    log_redaction.install()


def post_fork(server, worker):
    log_redaction.install()
