"""Playing the dialogues through the real signed Twilio webhook and scoring them.

A dialogue is met when every check holds; failed when a critical check fails (something
harmful: a paid booking cancelled, a second hold), when it could not be played, or when
fewer than half of its checks hold; partial otherwise."""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from cli.chat import inbound_form, post_inbound
from dialogues import world as worlds
from dialogues.checks import KINDS, Context, fill
from dialogues.script import CLASSES, Check, Dialogue
from extensions import app_runtime
from models import Message, Organization
from services.job_queue import JobQueue

AUTH_TOKEN = "eval-twilio-auth-token"
BASE_URL = worlds.BASE_URL
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"

MET, PARTIAL, FAILED = "met", "partial", "failed"


@dataclass
class Outcome:
    dialogue: Dialogue
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)  # "turn 2: why — detail"
    critical_failed: bool = False
    error: str | None = None
    transcript: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def result(self) -> str:
        if self.error or self.critical_failed:
            return FAILED
        if self.passed == self.total:
            return MET
        return PARTIAL if self.passed * 2 >= self.total else FAILED

    @property
    def first_failure(self) -> str:
        if self.error:
            return self.error
        return self.failures[0] if self.failures else ""


def _form(d: Dialogue, text: str, media: list[str]) -> dict[str, str]:
    prefix = "whatsapp:" if d.whatsapp else ""
    to = WHATSAPP_NUMBER if d.whatsapp else SMS_NUMBER
    form = inbound_form(prefix + d.phone, prefix + to, text, d.name)
    for i, content_type in enumerate(media):
        form[f"MediaUrl{i}"] = (
            f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages/"
            f"MM{uuid.uuid4().hex}/Media/ME{uuid.uuid4().hex}"
        )
        form[f"MediaContentType{i}"] = content_type
    form["NumMedia"] = str(len(media))
    return form


def _last_message_id(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.scalar(select(func.max(Message.id))) or 0


def _check(
    factory: sessionmaker[Session],
    org_id: int,
    outcome: Outcome,
    checks: list[Check],
    where: str,
    reply: str,
    since: int,
    refs: list[str],
) -> None:
    with factory() as s:
        org = s.get(Organization, org_id)
        assert org is not None
        ctx = Context(s, org, outcome.dialogue.phone, reply, since, refs)
        for check in checks:
            outcome.total += 1
            try:
                ok, detail = KINDS[check.kind](ctx, check.arg)
            except Exception as exc:  # a broken check is a failure to read, not a crash
                ok, detail = False, f"check raised {type(exc).__name__}: {exc}"
            if ok:
                outcome.passed += 1
            else:
                outcome.failures.append(f"{where}: {check.describe()} — {detail}")
                outcome.critical_failed |= check.critical


def play(
    app: Flask,
    engine: Engine,
    factory: sessionmaker[Session],
    world: worlds.World,
    d: Dialogue,
) -> Outcome:
    outcome = Outcome(d)
    started = time.perf_counter()
    client = app.test_client()
    try:
        now = datetime.now(UTC)
        jobs = JobQueue.of(app_runtime(app))
        with factory() as s:
            worlds.reset(engine, s, world, now, jobs)
        with factory() as s:
            refs = worlds.give(s, world, d.phone, d.name, d.given, now, jobs)
        start_id = _last_message_id(factory)
        replies_all: list[str] = []
        for n, line in enumerate(d.lines, 1):
            text = fill(line.say, refs)
            since = _last_message_id(factory)
            status, replies = post_inbound(client, _form(d, text, line.media), AUTH_TOKEN, BASE_URL)
            shown = text + (f" [{', '.join(line.media)}]" if line.media else "")
            outcome.transcript.append("> " + shown)
            if status != 200:
                outcome.transcript.append(f"  (HTTP {status})")
                outcome.error = f"turn {n}: the webhook answered HTTP {status}"
                break
            reply = "\n\n".join(replies)
            replies_all.append(reply)
            outcome.transcript += ["< " + r.replace("\n", "\n  ") for r in replies]
            _check(factory, world.org_id, outcome, line.expect, f"turn {n}", reply, since, refs)
        if outcome.error is None:
            _check(
                factory,
                world.org_id,
                outcome,
                d.end,
                "end",
                "\n\n".join(replies_all),
                start_id,
                refs,
            )
    except Exception as exc:
        outcome.error = f"could not be played: {type(exc).__name__}: {exc}"
        outcome.transcript.append(traceback.format_exc(limit=6))
    outcome.seconds = time.perf_counter() - started
    return outcome


def play_all(
    app: Flask,
    engine: Engine,
    factory: sessionmaker[Session],
    dialogues: Iterable[Dialogue],
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    with factory() as s:
        world = worlds.build(engine, s, datetime.now(UTC))
    outcomes = []
    for d in dialogues:
        outcome = play(app, engine, factory, world, d)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def _cut(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def table(outcomes: list[Outcome], width: int = 110) -> str:
    """The score as Markdown: the totals per class, then one row per conversation (by class)
    with the first check that failed."""
    rows = ["| class | conversations | met | partial | failed |", "|---|---|---|---|---|"]
    for cls in (*CLASSES, "all"):
        mine = [o for o in outcomes if cls in ("all", o.dialogue.cls)]
        if not mine:
            continue
        counts = {r: sum(o.result == r for o in mine) for r in (MET, PARTIAL, FAILED)}
        name = "**all**" if cls == "all" else cls
        rows.append(
            f"| {name} | {len(mine)} | {counts[MET]} | {counts[PARTIAL]} | {counts[FAILED]} |"
        )
    rows += [
        "",
        "| conversation | class | result | checks | first failed check |",
        "|---|---|---|---|---|",
    ]
    order = {cls: i for i, cls in enumerate(CLASSES)}
    for o in sorted(outcomes, key=lambda o: order[o.dialogue.cls]):  # stable: file order
        rows.append(
            f"| {o.dialogue.id} | {o.dialogue.cls} | {o.result} | {o.passed}/{o.total} "
            f"| {_cut(o.first_failure, width).replace('|', '/')} |"
        )
    return "\n".join(rows)
