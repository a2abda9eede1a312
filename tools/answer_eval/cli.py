"""Answer-level evaluation of the running assistant against patient-style probes.

The command line: ``python -m tools.answer_eval --help``. The guide and lay terms
default to the files the assistant itself reads (``guide.paths.knowledge_files``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Optional, Sequence

from guide.parsing import load_guide
from guide.paths import knowledge_files
from tools.answer_eval.checks import expect_group, load_responses
from tools.answer_eval.probes import ProbeSet, coverage, load_probes, validate_probes
from tools.answer_eval.report import print_summary, render_markdown, summarize
from tools.answer_eval.runner import RestClient, new_sender, run_conversation, run_turn

ROOT = Path(__file__).resolve().parents[2]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tools.answer_eval", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa server URL")
    ap.add_argument("--probes", default="tests/eval/probes.yml")
    ap.add_argument("--out", default="reports/eval", help="folder for report.md/report.json")
    knowledge = knowledge_files()
    ap.add_argument("--guide", default=str(knowledge.guide))
    ap.add_argument("--terms", default=str(knowledge.lay_terms))
    ap.add_argument("--domain", default="domain.yml")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--concurrency", type=int, default=1,
                    help="probes/conversations sent in parallel (latency is most honest at 1)")
    ap.add_argument("--only", action="append", default=[], metavar="GROUP",
                    help="run only probes and conversations touching this group (repeatable)")
    ap.add_argument("--gate", action="store_true",
                    help="exit 1 if probes or conversations fall below the thresholds")
    ap.add_argument("--min-probes", type=float, default=95.0)
    ap.add_argument("--min-conversations", type=float, default=90.0)
    ap.add_argument("--check-probes", action="store_true",
                    help="only validate the probe file and print its coverage")
    return ap.parse_args(argv)


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    guide = load_guide(_resolve(args.guide), _resolve(args.terms))
    responses = load_responses(_resolve(args.domain))
    probe_set = load_probes(_resolve(args.probes))
    problems = validate_probes(probe_set, guide, responses)
    if problems:
        print("probe file problems:", *problems, sep="\n  ", file=sys.stderr)
        return 2

    if args.check_probes:
        counts = coverage(probe_set)
        groups: Dict[str, int] = {}
        for p in probe_set.probes:
            groups[expect_group(p["expect"])] = groups.get(expect_group(p["expect"]), 0) + 1
        print(f"{len(probe_set.probes)} probes, {len(probe_set.conversations)} conversations "
              f"({sum(len(c['turns']) for c in probe_set.conversations)} turns)")
        for g, n in groups.items():
            print(f"  {g:<16}{n:>4}")
        thin = [i.ref for s in guide.sections.values() for i in s.items
                if sum(1 for p in probe_set.probes if p["expect"] == i.ref) < 3]
        print("items with fewer than 3 single probes:", ", ".join(thin) or "none")
        print("expectations used:", len(counts))
        return 0

    if args.only:
        wanted = set(args.only)
        touches = lambda e: expect_group(e["expect"]) in wanted  # noqa: E731
        probe_set = ProbeSet([p for p in probe_set.probes if touches(p)],
                             [c for c in probe_set.conversations if any(map(touches, c["turns"]))])

    client = RestClient(args.url, args.timeout)
    unreachable = client.ping()
    if unreachable:
        print(f"cannot reach the Rasa server at {args.url}: {unreachable}", file=sys.stderr)
        return 2

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    workers = max(1, args.concurrency)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        probe_results = list(pool.map(
            lambda p: run_turn(client, new_sender(), p, guide, responses), probe_set.probes))
        conv_results = list(pool.map(
            lambda c: run_conversation(client, c, guide, responses), probe_set.conversations))
    duration = round(time.perf_counter() - t0, 1)

    summary = summarize(probe_results, conv_results, guide, args.min_probes,
                        args.min_conversations)
    meta = {"url": args.url, "probes_file": str(args.probes),
            "started": started.isoformat(timespec="seconds"), "duration_s": duration}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = dict(meta, **summary, results={
        "probes": [asdict(r) for r in probe_results],
        "conversations": [dict(name=c.name, sender=c.sender, passed=c.passed,
                               turns=[asdict(t) for t in c.turns]) for c in conv_results],
    })
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (out / "report.md").write_text(render_markdown(summary, meta), encoding="utf-8")
    print_summary(summary)
    print(f"\nreport: {out / 'report.md'} and {out / 'report.json'}")
    if args.gate and not summary["gate"]["passed"]:
        print("GATE FAILED", file=sys.stderr)
        return 1
    return 0
