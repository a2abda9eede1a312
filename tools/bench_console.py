"""Benchmark of the staff console's conversation list on realistic volumes (``make bench``).

    python -m tools.bench_console                       # SQLite and PostgreSQL, 10,000 / 200,000
    python -m tools.bench_console --backends sqlite --runs 100

For each backend it writes 10,000 conversations with 200,000 Rasa events (session
starts, patient messages with parse data, actions, slots, bot replies; ~5 % fallbacks,
~1 % emergencies, four channels, 90 days) into a scratch database: a SQLite file in a
temporary folder and a scratch PostgreSQL database on 127.0.0.1 that is dropped
afterwards. Rows are shaped exactly as Rasa's SQLTrackerStore writes them (its own
table, events serialised by Rasa's Event classes).

It then starts the real web app (the Sanic app from create_app) on a loopback port,
logs in, warms up, and times complete HTTP requests of the list page (plain, filtered,
searched, a deep page) from a client in the same process: median and p95 over --runs.
The first start's summary build over all events is timed separately.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
TARGET_MS = 300.0
PASSWORD = "benchmark password 1"

QUESTIONS = {
    "ask_definition": ["what are calcified lesions", "what does calcification mean", "is a calcified lesion cancer"],
    "ask_causes": ["why do calcium deposits form", "what causes calcifications in the kidney"],
    "ask_detection": ["how do they find calcifications", "will an x-ray show it", "do I need a CT scan"],
    "ask_types": ["what types of calcified lesions are there", "is a kidney stone a calcified lesion"],
    "ask_preparation": ["how should I prepare for the appointment", "can I eat before the scan"],
    "ask_treatment": ["how is it treated", "will I need surgery", "are there pills for calcifications"],
    "ask_specialist": ["which doctor treats this", "do I need a urologist"],
    "ask_recovery": ["how long is recovery", "when can I go back to work after surgery"],
    "greet": ["hello", "hi there", "good morning"],
    "thank": ["thanks", "thank you so much"],
    "request_appointment": ["I want to book an appointment", "can I see a doctor next week"],
    "request_second_opinion": ["I would like a second opinion"],
}
UNCLEAR = ["blorp", "my cat ate the remote", "asdf", "what is the weather", "can you sing"]
EMERGENCY = ["I have crushing chest pain", "I can't breathe and my arm is numb"]
CHANNELS = [("socketio", 0.55), ("telegram", 0.2), ("slack", 0.1), ("rest", 0.15)]


def _channel(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for name, share in CHANNELS:
        acc += share
        if x <= acc:
            return name
    return CHANNELS[-1][0]


def conversation_events(rng: random.Random, start: float, target: int) -> List:
    """About ``target`` Rasa events of one conversation."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    channel = _channel(rng)
    ts = start
    events = [ActionExecuted("action_session_start", timestamp=ts), SessionStarted(timestamp=ts + 0.01),
              ActionExecuted("action_listen", timestamp=ts + 0.02)]
    while len(events) < target:
        ts += rng.uniform(5, 90)
        roll = rng.random()
        if roll < 0.05:
            intent, text, conf = "nlu_fallback", rng.choice(UNCLEAR), rng.uniform(0.1, 0.44)
            action, reply = "action_two_stage_fallback", "Sorry, I'm not sure I understood. Did you mean one of these?"
        elif roll < 0.06:
            intent, text, conf = "report_emergency", rng.choice(EMERGENCY), rng.uniform(0.9, 1.0)
            action, reply = "action_give_emergency_advice", "Please call 112 now."
        else:
            intent = rng.choice(list(QUESTIONS))
            text, conf = rng.choice(QUESTIONS[intent]), rng.uniform(0.45, 1.0)
            action, reply = "action_answer_question", "From the clinic's guide: ..."
        ranking = [{"name": intent, "confidence": conf}]
        parse = {"text": text, "intent": {"name": intent, "confidence": conf}, "entities": [],
                 "intent_ranking": ranking}
        events.append(UserUttered(text, intent=parse["intent"], parse_data=parse, timestamp=ts,
                                  input_channel=channel, message_id=uuid.UUID(int=rng.getrandbits(128)).hex))
        events.append(ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=ts + 0.1))
        if action == "action_answer_question" and len(events) < target - 3:
            events.append(SlotSet("section", intent.replace("ask_", ""), timestamp=ts + 0.15))
        events.append(BotUttered(reply, {}, timestamp=ts + 0.2))
        events.append(ActionExecuted("action_listen", timestamp=ts + 0.3))
    return events[:target]


def event_rows(sender: str, events) -> Iterator[Dict]:
    """As SQLTrackerStore.save writes them."""
    for event in events:
        data = event.as_dict()
        yield {
            "sender_id": sender, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": data.get("name"), "data": json.dumps(data),
        }


def create_request_tables(url: str) -> None:
    """The action server's request tables, made by its own migrations."""
    from storage.requests import RequestStore

    store = RequestStore(url)
    try:
        store.migrate()
    finally:
        store.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, conversations: int, events: int, seed_value: int = 7) -> Tuple[int, int]:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from webapp.staff import tables as t
    from webapp.staff.accounts import create_user
    from storage.engine import create_engine, migrate

    store = SQLTrackerStore(host=url)  # creates Rasa's events table and index
    store.engine.dispose()
    create_request_tables(url)
    rng = random.Random(seed_value)
    now = time.time()
    per = events // conversations
    extra = events - per * conversations
    engine = create_engine(url)
    written = 0
    batch: List[Dict] = []
    requests: List[Dict] = []
    with engine.begin() as conn:
        for i in range(conversations):
            sender = uuid.UUID(int=rng.getrandbits(128)).hex
            start = now - rng.uniform(0, 90 * 86400)
            rows = list(event_rows(sender, conversation_events(rng, start, per + (1 if i < extra else 0))))
            batch += rows
            written += len(rows)
            if rng.random() < 0.03:
                requests.append(dict(
                    reference=f"CL-{i:06d}", kind=rng.choice(["appointment", "second_opinion", "handoff"]),
                    status=rng.choice(["new", "contacted", "closed"]), conversation_id=sender,
                    channel="socketio", idempotency_key=uuid.uuid4().hex, notify_attempts=0,
                    created_at=sa.func.now(), updated_at=sa.func.now()))
            if len(batch) >= 5000:
                conn.execute(t.events.insert(), batch)
                batch = []
        if batch:
            conn.execute(t.events.insert(), batch)
        for req in requests:
            conn.execute(t.requests.insert().values(**req))
    migrate(engine, "staff")
    with engine.begin() as conn:
        create_user(conn, "bench", PASSWORD, "admin", actor="bench")
    engine.dispose()
    return conversations, written


def _stats(samples: List[float]) -> Tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def measure(url: str, runs: int) -> Dict[str, object]:
    import re

    from sanic_testing.reusable import ReusableClient

    from webapp.app import create_app
    from webapp.settings import WebSettings

    settings = WebSettings(database_url=url, rasa_url="http://localhost:5005", port=0)
    app = create_app(settings)
    client = ReusableClient(app, port=free_port(), server_kwargs={"access_log": False})
    started = time.perf_counter()
    client.run()  # migrations and the first summary build over all events
    startup = time.perf_counter() - started
    try:
        _, page = client.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        _, resp = client.post("/staff/login", data={"username": "bench", "password": PASSWORD,
                                                    "csrf_token": token}, allow_redirects=False)
        assert resp.status == 303, resp.status
        pages = {
            "list (newest first)": "/staff/",
            "list, fallback=yes": "/staff/?fallback=yes",
            "list, low confidence + channel": "/staff/?low_confidence=yes&channel=telegram",
            "list, search 'surgery'": "/staff/?q=surgery",
            "list, page 150": "/staff/?page=150",
        }
        results: Dict[str, object] = {"startup_s": startup}
        for label, path in pages.items():
            for _ in range(5):  # warm-up
                client.get(path)
            samples = []
            for _ in range(runs):
                t0 = time.perf_counter()
                _, resp = client.get(path, allow_redirects=False)
                samples.append((time.perf_counter() - t0) * 1000)
                assert resp.status == 200, (path, resp.status)
            results[label] = _stats(samples)
        return results
    finally:
        client.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--strict", action="store_true", help=f"exit 1 if a p95 is above {TARGET_MS:.0f} ms")
    args = parser.parse_args(argv)
    if args.events < args.conversations * 4:
        parser.error("give at least four events per conversation")

    import logging
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
    logging.getLogger("sanic.root").setLevel(logging.WARNING)

    worst = 0.0
    for backend in args.backends:
        scratch = None
        folder = tempfile.TemporaryDirectory(prefix="bench-console-")
        if backend == "sqlite":
            url = f"sqlite:///{Path(folder.name) / 'bench.db'}"
        else:
            import psycopg2

            scratch = f"bench_console_{uuid.uuid4().hex[:10]}"
            admin = psycopg2.connect(f"{PG_SERVER}/postgres")
            admin.autocommit = True
            admin.cursor().execute(f'CREATE DATABASE "{scratch}"')
            url = f"{PG_SERVER}/{scratch}"
        try:
            t0 = time.perf_counter()
            n_conv, n_events = seed(url, args.conversations, args.events)
            print(f"\n{backend}: {n_conv} conversations, {n_events} events seeded in {time.perf_counter() - t0:.1f} s")
            results = measure(url, args.runs)
            print(f"  first start (migrations + summary of all events): {results.pop('startup_s'):.2f} s")
            print(f"  {'page':34} {'median':>9} {'p95':>9}   ({args.runs} runs, warm)")
            for label, (median, p95) in results.items():
                worst = max(worst, p95)
                mark = "ok" if p95 < TARGET_MS else "OVER TARGET"
                print(f"  {label:34} {median:7.1f}ms {p95:7.1f}ms   {mark}")
        finally:
            if scratch:
                cur = admin.cursor()
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (scratch,))
                cur.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
                admin.close()
            folder.cleanup()
    print(f"\nTarget: list page under {TARGET_MS:.0f} ms; worst p95 {worst:.1f} ms")
    return 1 if args.strict and worst >= TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
