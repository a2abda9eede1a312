"""Benchmark: time per message against its length, through the running assistant (``make bench``).

    python -m tools.bench_input --model models/assistant-X.tar.gz [--runs 5]

Starts the whole assistant (tools.launch.Stack) on free loopback ports with a scratch
SQLite database, then sends REST messages of growing length (a realistic sentence
repeated) and reports the median round trip per length. Before the input guard,
understanding time grew with about the square of the length (16K characters about
1 s, 64K about 12 s, 1 MB more than 18 minutes); with the 2,000-character cap the
time stays flat beyond it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SENTENCE = "my mother has calcium in her kidneys and we are worried about what happens next. "
LENGTHS = [100, 1_000, 2_000, 8_000, 64_000, 900_000]


def send(url: str, text: str) -> float:
    body = json.dumps({"sender": f"bench-{uuid.uuid4().hex}", "message": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
    return time.perf_counter() - started


def measure(rasa_url: str, runs: int) -> Dict[int, float]:
    url = f"{rasa_url}/webhooks/rest/webhook"
    for _ in range(3):
        send(url, SENTENCE)  # warm-up: first messages load lazily
    medians = {}
    for length in LENGTHS:
        text = (SENTENCE * (length // len(SENTENCE) + 1))[:length]
        medians[length] = statistics.median(send(url, text) for _ in range(runs)) * 1000
    return medians


def main(argv: List[str] = None) -> int:
    from tests.support import free_port
    from tools.launch import Stack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-input-") as folder:
        stack = Stack(args.model, rasa_port=free_port(), actions_port=free_port(), web_port=free_port(),
                      env={"DATABASE_URL": f"sqlite:///{folder}/bench.db"}, log_dir=Path(folder) / "logs")
        stack.start()
        try:
            medians = measure(stack.rasa_url, args.runs)
        finally:
            stack.stop()
    at_cap = medians[2_000]
    print(f"{'characters':>12}  {'median ms':>10}  {'x the 2,000-character time':>26}")
    for length, ms in medians.items():
        print(f"{length:>12,}  {ms:>10.1f}  {ms / at_cap:>26.2f}")
    print(json.dumps({"benchmark": "input_length", "runs": args.runs,
                      "median_ms": {str(k): round(v, 1) for k, v in medians.items()},
                      "ratio_900k_to_2k": round(medians[900_000] / at_cap, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
