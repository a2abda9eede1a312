"""Where one message's time goes, stage by stage (part of ``make bench``).

    python -m tools.loadtest.profile --model models/assistant-X.tar.gz --database-url postgresql://...
        --redis-host 127.0.0.1 --actions-url http://127.0.0.1:5056/webhook

Loads the model in this process as a Rasa replica does (Rasa's Agent with the SQL
tracker store, the Redis lock store and the action endpoint), then sends the readable
blind sets' conversations one message at a time through ``Agent.handle_message`` and
times, per message:

- the lock (waiting for and taking the conversation's Redis lock),
- the tracker read and the tracker write (Rasa's SQL tracker store),
- every node of the model's graph: each NLU component, each policy, the ensemble,
- the calls to the action server (HTTP, its work included),

and reports the median and the share of the whole for each stage. The channel and
HTTP in front (nginx, Sanic, JSON) are the REST round trip minus ``handle_message``:
run.py puts both in the bench report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Stopwatch:
    """Time spent per stage during the current message."""

    def __init__(self) -> None:
        self.current: Dict[str, float] = defaultdict(float)
        self.per_message: List[Dict[str, float]] = []

    def add(self, stage: str, seconds: float) -> None:
        self.current[stage] += seconds * 1000

    def next_message(self, total_ms: float) -> None:
        self.current["total"] = total_ms
        self.per_message.append(dict(self.current))
        self.current = defaultdict(float)


def _stage(node_name: str) -> str:
    # "run_DIETClassifier3" -> "DIETClassifier"; policies and the ensemble keep their names
    name = node_name[4:] if node_name.startswith("run_") else node_name
    return name.rstrip("0123456789") or name


def instrument(watch: Stopwatch) -> None:
    """Wraps the stages with timers (in this process only)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode

    node_call = GraphNode.__call__

    def timed_node(self, *inputs):
        started = time.perf_counter()
        try:
            return node_call(self, *inputs)
        finally:
            watch.add(f"graph: {_stage(self._node_name)}", time.perf_counter() - started)

    GraphNode.__call__ = timed_node

    def timed_async(cls, method: str, stage: str) -> None:
        original = getattr(cls, method)

        async def wrapper(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                watch.add(stage, time.perf_counter() - started)

        setattr(cls, method, wrapper)

    timed_async(SQLTrackerStore, "retrieve", "tracker read")
    timed_async(SQLTrackerStore, "save", "tracker write")
    timed_async(RemoteAction, "run", "action server call")

    lock = LockStore.lock

    @asynccontextmanager
    async def timed_lock(self, conversation_id, lock_lifetime=None, wait_time_in_seconds=None):
        started = time.perf_counter()
        kwargs = {k: v for k, v in (("lock_lifetime", lock_lifetime), ("wait_time_in_seconds", wait_time_in_seconds))
                  if v is not None}
        async with lock(self, conversation_id, **kwargs) as ticket:
            watch.add("lock (take)", time.perf_counter() - started)
            yield ticket
            started = time.perf_counter()
        watch.add("lock (release)", time.perf_counter() - started)

    LockStore.lock = timed_lock


def profile(model: str, database_url: str, redis_host: str, redis_port: int, actions_url: str,
            token: str, conversations: List[List[str]], rasa_action_check: bool = False) -> Dict[str, object]:
    from tools.rasa_cli import skip_unused_imports

    skip_unused_imports()  # as tools/rasa_cli.py does for every replica, before TensorFlow loads
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    import rasa_ext
    from rasa.core.actions.action import RemoteAction

    original_check = RemoteAction._validate_action_result
    rasa_ext.install()  # as tools/rasa_cli.py does for every replica
    if rasa_action_check:  # "before": Rasa's own check of the action server's answer
        RemoteAction._validate_action_result = original_check
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    watch = Stopwatch()
    instrument(watch)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def load():
        # exactly a scaled replica's endpoints (deploy/endpoints.scale.yml), filled from the environment
        from rasa.core.utils import AvailableEndpoints

        os.environ.update({"DATABASE_URL": database_url, "REDIS_HOST": redis_host, "REDIS_PORT": str(redis_port),
                           "REDIS_DB": "4", "ACTION_ENDPOINT_URL": actions_url, "ACTION_SERVER_TOKEN": token})
        endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "deploy" / "endpoints.scale.yml"))
        return await load_agent(model_path=model, endpoints=endpoints)

    agent = loop.run_until_complete(load())
    run = uuid.uuid4().hex[:8]

    async def send(sender: str, text: str) -> float:
        started = time.perf_counter()
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender, input_channel="rest"))
        return (time.perf_counter() - started) * 1000

    for i, turns in enumerate(conversations[:3]):  # warm-up: lazy loading, connection pools
        for text in turns:
            loop.run_until_complete(send(f"profile-warm-{run}-{i}", text))
    watch.per_message.clear()
    watch.current.clear()
    for i, turns in enumerate(conversations):
        for text in turns:
            watch.next_message(loop.run_until_complete(send(f"profile-{run}-{i}", text)))
    loop.close()
    return summarize(watch.per_message)


def summarize(per_message: List[Dict[str, float]]) -> Dict[str, object]:
    stages = sorted({s for m in per_message for s in m if s != "total"})
    total = sum(m["total"] for m in per_message)
    rows = []
    for stage in stages:
        values = [m.get(stage, 0.0) for m in per_message]
        rows.append({"stage": stage, "p50_ms": round(statistics.median(values), 2),
                     "mean_ms": round(sum(values) / len(values), 2), "share": round(sum(values) / total, 3)})
    rows.sort(key=lambda r: -r["mean_ms"])
    measured = sum(sum(m.get(s, 0.0) for s in stages) for m in per_message)
    totals = [m["total"] for m in per_message]
    return {"messages": len(per_message), "handle_message_p50_ms": round(statistics.median(totals), 2),
            "handle_message_mean_ms": round(total / len(per_message), 2),
            "unattributed_share": round(1 - measured / total, 3), "stages": rows}


def render(result: Dict[str, object]) -> str:
    lines = [f"One message end to end inside a Rasa replica ({result['messages']} messages, one at a time): "
             f"handle_message p50 {result['handle_message_p50_ms']} ms, mean {result['handle_message_mean_ms']} ms",
             "", "| stage | p50 ms | mean ms | share |", "|---|---:|---:|---:|"]
    for row in result["stages"]:
        lines.append(f"| {row['stage']} | {row['p50_ms']} | {row['mean_ms']} | {row['share']:.1%} |")
    lines.append(f"| (Rasa's own code between the stages) | | | {result['unattributed_share']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    from tools.loadtest.conversations import load_conversations

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--actions-url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--rasa-action-check", action="store_true",
                        help="keep Rasa's own check of action answers (the 'before' of rasa_ext/action_calls.py)")
    args = parser.parse_args(argv)
    result = profile(args.model, args.database_url, args.redis_host, args.redis_port, args.actions_url,
                     args.token, load_conversations()[: args.conversations], args.rasa_action_check)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
