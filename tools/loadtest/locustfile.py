"""Locust user for ``make bench``: a patient holding one whole conversation per task.

Turns are sent one after another, each after the previous reply (as a patient waits for
the answer); every BENCH_BURST_EVERY-th conversation starts instead with its first
BURST_SIZE turns sent at the same moment (a patient pressing send repeatedly, or a
flaky connection retrying), which nginx spreads over the replicas. Each message the
assistant acknowledged (HTTP 200 with a reply) is appended to BENCH_LOG (JSON lines) for
the integrity check. Run by tools/loadtest/run.py:

    locust -f tools/loadtest/locustfile.py --headless -u 20 -r 20 -t 60s --host http://127.0.0.1:5005
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

import gevent
from locust import HttpUser, constant, task

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.loadtest.conversations import load_conversations  # noqa: E402

CONVERSATIONS = load_conversations()
RUN = os.environ.get("BENCH_RUN", "local")
BURST_EVERY = int(os.environ.get("BENCH_BURST_EVERY", "5"))
BURST_SIZE = 3
PATH = "/webhooks/rest/webhook"
_numbers = itertools.count()
_log = open(os.environ["BENCH_LOG"], "a", encoding="utf-8") if os.environ.get("BENCH_LOG") else None


def record(sender: str, text: str, seq) -> None:
    if _log is not None:
        _log.write(json.dumps({"sender": sender, "text": text, "seq": seq}) + "\n")
        _log.flush()


class Patient(HttpUser):
    wait_time = constant(0)

    def send(self, sender: str, text: str, seq) -> None:
        with self.client.post(PATH, json={"sender": sender, "message": text}, name=PATH,
                              catch_response=True, timeout=60) as response:
            try:
                replies = response.json()
            except ValueError:
                replies = None
            if response.status_code != 200 or not isinstance(replies, list) or not replies:
                response.failure(f"HTTP {response.status_code}, {len(replies or [])} replies")
                return
            response.success()
            record(sender, text, seq)

    @task
    def conversation(self) -> None:
        number = next(_numbers)
        turns = CONVERSATIONS[number % len(CONVERSATIONS)]
        sender = f"bench-{RUN}-{number}"
        start = 0
        if BURST_EVERY and number % BURST_EVERY == BURST_EVERY - 1 and len(turns) >= BURST_SIZE:
            # seq None: these may be stored in any order, but each exactly once
            gevent.joinall([gevent.spawn(self.send, sender, text, None) for text in turns[:BURST_SIZE]])
            start = BURST_SIZE
        for seq, text in enumerate(turns[start:], start):
            self.send(sender, text, seq)
