"""Benchmark: what the semantic layer costs per message (``make bench``).

    python -m tools.bench_semantic --model models/assistant-X.tar.gz [--set tests/eval/blind/dev.yml]

Loads the trained model in this process (Rasa's Agent, NLU only) and parses every
message of an evaluation set one at a time, as one conversation at a time would.
The two semantic components (``SentenceEmbeddingFeaturizer`` and
``GuideItemRetriever``, nlu_components/embeddings.py) are timed around their own
``process``; the rest of the pipeline is the parse time without them. The encoder's
memory of recent texts is emptied before each message, so every message pays for
its encoding once, as a new patient message does. Reports medians and the 95th
percentile; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def messages_of(path: Path) -> List[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts = [p["text"] for p in data.get("probes", [])]
    texts += [t["text"] for c in data.get("conversations", []) for t in c.get("turns", [])]
    return texts


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(model: str, texts: List[str]) -> Dict[str, float]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from nlu_components import embeddings
    from semantic import encoder

    spent = {"now": 0.0}

    def timed(method):
        def wrapper(self, messages):
            started = time.perf_counter()
            try:
                return method(self, messages)
            finally:
                spent["now"] += time.perf_counter() - started
        return wrapper

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no message text in the output
    for component in (embeddings.SentenceEmbeddingFeaturizer, embeddings.GuideItemRetriever):
        component.process = timed(component.process)
    agent = Agent.load(model)
    loop = asyncio.new_event_loop()
    for text in texts[:5]:
        loop.run_until_complete(agent.parse_message(text))  # warm-up: lazy loading
    total, semantic = [], []
    for text in texts:
        encoder.load()._encode_cached.cache_clear()
        spent["now"] = 0.0
        started = time.perf_counter()
        loop.run_until_complete(agent.parse_message(text))
        total.append((time.perf_counter() - started) * 1000)
        semantic.append(spent["now"] * 1000)
    loop.close()
    rest = [t - s for t, s in zip(total, semantic)]
    return {
        "messages": len(texts),
        "nlu_p50_ms": round(statistics.median(total), 2),
        "nlu_p95_ms": round(percentile(total, 0.95), 2),
        "semantic_p50_ms": round(statistics.median(semantic), 2),
        "semantic_p95_ms": round(percentile(semantic, 0.95), 2),
        "without_semantic_p50_ms": round(statistics.median(rest), 2),
        "semantic_share_of_nlu": round(sum(semantic) / sum(total), 3),
    }


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--set", default=str(ROOT / "tests" / "eval" / "blind" / "dev.yml"))
    args = parser.parse_args(argv)
    result = run(args.model, messages_of(Path(args.set)))
    print(f"semantic layer, {result['messages']} messages one at a time ({Path(args.set).name}):")
    print(f"  whole NLU parse  p50 {result['nlu_p50_ms']} ms, p95 {result['nlu_p95_ms']} ms")
    print(f"  semantic layer   p50 {result['semantic_p50_ms']} ms, p95 {result['semantic_p95_ms']} ms "
          f"({result['semantic_share_of_nlu']:.0%} of the parse)")
    print(f"  the rest         p50 {result['without_semantic_p50_ms']} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
