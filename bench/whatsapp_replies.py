"""Benchmark: WhatsApp replies that go out through Twilio's REST API, at a steady rate.
Prints figures; asserts nothing.

    python -m bench.whatsapp_replies [--seconds 20] [--rate 50] [--rounds 2] [--workers 2]
                                     [--answer-in worker|webhook]

Starts gunicorn with the app (the Procfile's 2 workers x 4 threads), `--workers` RQ
workers (`flask jobs work`), and the soak's Twilio stand-in (soak/standins.py) in this
process as both the Messages API and the Content API. Separate client processes send
signed WhatsApp messages, evenly spaced at `--rate` in all, each simulated customer typing
bench.webhook's journey (greeting, a date, "1", "yes", status, thanks). Each round runs
twice back to back on the same server: first without the organization's WhatsApp content
(words only), then after `flask whatsapp sync` made it through the stand-in (rows and
buttons).

`--answer-in worker` (production's default, ANSWER_IN_WORKER=1): the webhook stores each
message and answers Twilio with empty TwiML; an RQ worker answers the customer through the
REST API (bot/inbound.py). `--answer-in webhook` (ANSWER_IN_WORKER=0, as before): the
webhook runs the turn and answers in its TwiML, except a turn that offers rows or buttons,
whose replies go through the outbox, one RQ job per turn. It prints the webhook's own
latency, and for the turns answered through the REST API the time from posting the message
to the stand-in accepting its first and its last reply.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bench import bench_redis, pct, production_secrets
from bench.webhook import (
    JOURNEY,
    PATH,
    ROOT,
    TOKEN,
    cpu_counters,
    demo_stack,
    share_of_cores,
    start,
    wait_for,
)
from soak.standins import TwilioStandIn

DB = "tourbot_bench_whatsapp"
REDIS = bench_redis(5)
# Its own port (bench.webhook's is 18081), so the two can run on one machine.
APP_PORT = 18083
BIN = Path(sys.executable).parent


def client(
    worker: int, seconds: float, interval: float, start_at: float, out: Any, tag: str
) -> None:
    """One client process: customers one after another on WhatsApp, one message every
    `interval` seconds; reports (MessageSid, posted at, latency ms, answered in TwiML)."""
    conn = http.client.HTTPConnection("127.0.0.1", APP_PORT, timeout=30)
    validator = RequestValidator(TOKEN)
    url = f"http://127.0.0.1:{APP_PORT}{PATH}"
    sent: list[tuple[str, float, float, bool]] = []
    errors = 0
    n = worker % len(JOURNEY)  # clients start at different steps: a steady mix
    while time.time() < start_at:
        time.sleep(0.001)
    next_send, deadline = start_at, start_at + seconds
    while True:
        next_send += interval
        if (delay := next_send - time.time()) > 0:
            time.sleep(delay)
        if time.time() >= deadline:
            break
        customer, step = divmod(n, len(JOURNEY))
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:+1555{tag}{worker % 10}{customer % 10000:04d}",
            "To": "whatsapp:+14155238886",
            "Body": JOURNEY[step],
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, form),
        }
        posted, t0 = time.time(), time.perf_counter()
        try:
            conn.request("POST", PATH, body=urlencode(form).encode(), headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                errors += 1
            sent.append(
                (
                    form["MessageSid"],
                    posted,
                    (time.perf_counter() - t0) * 1000,
                    b"<Message>" in payload,
                )
            )
        except OSError:
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", APP_PORT, timeout=30)
        n += 1
    out.put((sent, errors))


def paced(clients: int, seconds: float, rate: float, tag: str) -> tuple[list, int]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    interval = clients / rate
    start_at = time.time() + 1.0
    procs = [
        ctx.Process(
            target=client,
            args=(w, seconds, interval, start_at + interval * w / clients, out, tag),
        )
        for w in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    return [s for r in results for s in r[0]], sum(r[1] for r in results)


def wait_for_outbox(db_url: str, timeout: float = 300) -> float:
    """Seconds until no outbound message is waiting to be sent, nor inbound one to be
    answered."""
    engine = create_engine(db_url)
    started = time.time()
    with engine.connect() as conn:
        while time.time() - started < timeout:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM messages WHERE direction = 'outbound' "
                    "AND status IN ('queued', 'retrying')"
                )
            ) + conn.scalar(text("SELECT count(*) FROM pending_inbound"))
            conn.commit()
            if not waiting:
                break
            time.sleep(0.5)
    engine.dispose()
    return time.time() - started


def cpu_seconds(groups: dict[str, list[int]], database: str) -> dict[str, float]:
    """CPU seconds used so far by each named set of process groups (the processes `start`
    made, with their children), and by PostgreSQL's backends on the bench's database."""
    used = dict.fromkeys([*groups, "PostgreSQL"], 0.0)
    owner = {pgid: name for name, pgids in groups.items() for pgid in pgids}
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            name = owner.get(int(fields[2]))
            if name is None and database in (proc / "cmdline").read_text(errors="replace"):
                name = "PostgreSQL"
        except OSError:
            continue
        if name is not None:
            used[name] += (int(fields[11]) + int(fields[12])) / tick
    return used


def through_rest(
    db_url: str, sent: list, standin: TwilioStandIn
) -> tuple[list[float], list[float], int, int]:
    """For the messages answered through the REST API: ms from posting to the stand-in
    accepting the turn's first and its last reply; and how many were, and how many of
    those replies the stand-in never accepted."""
    accepted = {m.sid: m.at for m in standin.sent}
    posted = {sid: at for sid, at, _, _ in sent}
    turns: dict[str, list[str | None]] = {}
    engine = create_engine(db_url)
    with engine.connect() as conn:
        for inbound_sid, reply_sid in conn.execute(
            text(
                "SELECT i.provider_sid, r.provider_sid FROM messages r "
                "JOIN messages i ON i.id = r.reply_to_id "
                "WHERE r.kind = 'reply' AND r.status <> 'reply' AND i.provider_sid = ANY(:sids) "
                "ORDER BY r.id"
            ),
            {"sids": list(posted)},
        ):
            turns.setdefault(inbound_sid, []).append(reply_sid)
    engine.dispose()
    first, last, missing = [], [], 0
    for inbound_sid, replies in turns.items():
        times = [accepted[s] for s in replies if s in accepted]
        missing += len(replies) - len(times)
        if times:
            first.append((min(times) - posted[inbound_sid]) * 1000)
            last.append((max(times) - posted[inbound_sid]) * 1000)
    return first, last, len(turns), missing


def figures(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {statistics.median(values):.0f} ms, p99 {pct(values, 99):.0f} ms, "
        f"max {max(values):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument(
        "--answer-in",
        choices=("worker", "webhook"),
        default="worker",
        help="who answers: an RQ worker after the webhook stored the message (production's "
        "default), or the webhook itself (ANSWER_IN_WORKER=0, as before issue 19's cut)",
    )
    args = parser.parse_args()

    secrets_ = production_secrets()
    standin = TwilioStandIn(secrets_["TWILIO_ACCOUNT_SID"], TOKEN, callbacks=False)
    db_url, env = demo_stack(DB, REDIS)
    env.update(
        TWILIO_API_BASE=standin.start(),
        TWILIO_ACCOUNT_SID=secrets_["TWILIO_ACCOUNT_SID"],
        PUBLIC_BASE_URL=f"http://127.0.0.1:{APP_PORT}",
        ANSWER_IN_WORKER="1" if args.answer_in == "worker" else "0",
    )
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
    procs = [
        start([*gunicorn, "--timeout", "30", "--bind", f"127.0.0.1:{APP_PORT}", "app:app"], env)
    ]
    procs += [
        start([str(BIN / "flask"), "--app", "app", "jobs", "work"], env)
        for _ in range(args.workers)
    ]
    groups = {"web": [procs[0].pid], "RQ workers": [p.pid for p in procs[1:]]}
    engine = create_engine(db_url)
    try:
        wait_for(APP_PORT)
        paced(4, 3, 40, "90")  # warm-up: the workers load the NLU model
        wait_for_outbox(db_url)
        print(
            f"answered in the {args.answer_in}; "
            f"gunicorn 2 workers x 4 threads, {args.workers} RQ workers, PostgreSQL, Redis; "
            f"{args.clients} client processes, WhatsApp customers only, paced at "
            f"{args.rate:.0f} msg/s for {args.seconds:.0f} s; Twilio stand-in in the harness; "
            f"{os.cpu_count()} cores shared by everything; load before: "
            f"{os.getloadavg()[0]:.1f}"
        )
        for round_ in range(args.rounds):
            for content in (False, True):
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM whatsapp_contents"))
                if content:
                    subprocess.run(
                        [str(BIN / "flask"), "--app", "app", "whatsapp", "sync"],
                        cwd=ROOT,
                        env=env,
                        check=True,
                        capture_output=True,
                    )
                busy0, steal0 = cpu_counters()
                cpu0 = cpu_seconds(groups, DB)
                sent, errors = paced(
                    args.clients, args.seconds, args.rate, f"{round_}{int(content)}"
                )
                busy1, steal1 = cpu_counters()
                drained = wait_for_outbox(db_url)
                cpu1 = cpu_seconds(groups, DB)
                latencies = [ms for _, _, ms, _ in sent]
                twiml = sum(1 for *_, answered in sent if answered)
                first, last, turns, missing = through_rest(db_url, sent, standin)
                name = "with rows and buttons" if content else "words only (no content made)"
                print(
                    f"round {round_ + 1}, {name}: {len(sent) / args.seconds:.1f} msg/s sent, "
                    f"{errors} errors; cores busy "
                    f"{share_of_cores(busy1 - busy0, args.seconds)}, "
                    f"{share_of_cores(steal1 - steal0, args.seconds)} stolen; load "
                    f"{os.getloadavg()[0]:.1f}"
                )
                print(f"  webhook:                      {figures(latencies)}")
                print(
                    f"  answered in the TwiML:        {twiml}; through the REST API: {turns} "
                    f"(outbox drained {drained:.0f} s after the run; {missing} replies never "
                    "accepted)"
                )
                if turns:
                    print(f"  posted -> first reply accepted: {figures(first)}")
                    print(f"  posted -> last reply accepted:  {figures(last)}")
                per_message = ", ".join(
                    f"{name} {(cpu1[name] - cpu0[name]) * 1000 / max(len(sent), 1):.1f} ms"
                    for name in cpu1
                )
                print(f"  CPU per message (until drained): {per_message}")
        refused = standin.refused_content
        print(f"content messages the stand-in refused as invalid: {len(refused)}")
    finally:
        engine.dispose()
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        standin.stop()


if __name__ == "__main__":
    main()
