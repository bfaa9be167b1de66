"""Business logic as plain functions over models and a SQLAlchemy session.

Nothing here imports Flask: the same function serves a webhook, an RQ job, the CLI and a
test. Functions never commit; the caller owns the transaction, so a failure anywhere
leaves nothing half-written.
"""
