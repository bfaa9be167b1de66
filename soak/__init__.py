"""`make soak`: the whole product under load and faults, as it runs in production.

gunicorn (the Procfile's web line), RQ workers with the scheduler (its worker line), the
machine's PostgreSQL, a Redis of the harness's own (so stopping it touches nothing else),
and local stand-ins for Twilio's and Stripe's APIs that answer like the real ones, can be
told to fail, and call our webhooks back signed as the real services sign them. Simulated
customers, guides and staff run the real journeys while faults are injected; at the end
the invariants are checked from the database and the stand-ins' logs.

    python -m soak [--minutes 5] [--concurrency 16] [--no-fault-redis ...]
"""
