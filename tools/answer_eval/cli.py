"""Answer-level evaluation of the running assistant against patient-style probe sets.

The command line: ``python -m tools.answer_eval --help``. The guide and lay terms
default to the files the assistant itself reads (``guide.paths.knowledge_files``).

    python -m tools.answer_eval --set sealed=tests/eval/blind/sealed.yml:sealed \\
        --set dev=tests/eval/blind/dev.yml --set old=tests/eval/probes.yml --gate

Every set is also answered by a plain semantic-search baseline (``baseline``), scored by
the same checks. A sealed set shows only its totals (``sets``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from guide.model import Guide
from guide.parsing import load_guide
from guide.paths import knowledge_files
from tools.answer_eval.baseline import load_baseline
from tools.answer_eval.checks import expect_group, load_responses
from tools.answer_eval.probes import ProbeSet, coverage, load_probes, validate_probes
from tools.answer_eval.report import summarize
from tools.answer_eval.run_report import build_report, print_console, set_entry, write_report
from tools.answer_eval.runner import RestClient, new_sender, run_conversation, run_turn
from tools.answer_eval.sets import SetSpec, gate_set, parse_set, set_specs

ROOT = Path(__file__).resolve().parents[2]


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tools.answer_eval", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa server URL")
    ap.add_argument("--set", dest="sets", action="append", default=[], type=parse_set,
                    metavar="NAME=PATH[:sealed]",
                    help="a probe set (repeatable); ':sealed' shows only its totals")
    ap.add_argument("--probes", default=None,
                    help="one more (unsealed) set named after the file; "
                         "tests/eval/probes.yml if no --set is given")
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
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the semantic-search baseline")
    ap.add_argument("--gate", action="store_true",
                    help="exit 1 if the sealed set (else the only/first set) falls below the "
                         "thresholds")
    ap.add_argument("--min-probes", type=float, default=95.0)
    ap.add_argument("--min-conversations", type=float, default=90.0)
    ap.add_argument("--check-probes", action="store_true",
                    help="only validate the probe sets and print their coverage")
    args = ap.parse_args(argv)
    try:
        args.specs = set_specs(args.sets, args.probes)
    except ValueError as exc:
        ap.error(str(exc))
    return args


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p


def _load_sets(specs: Sequence[SetSpec], guide: Guide, responses: Dict[str, List[str]]
               ) -> Optional[Dict[str, ProbeSet]]:
    """Every set, validated; None (after saying why) if one is unusable. A sealed set's
    problems are counted, never shown."""
    loaded, ok = {}, True
    for spec in specs:
        path = _resolve(spec.path)
        if not path.is_file():
            print(f"set {spec.name}: no such file {spec.path}", file=sys.stderr)
            ok = False
            continue
        loaded[spec.name] = load_probes(path)
        problems = validate_probes(loaded[spec.name], guide, responses)
        if problems and spec.sealed:
            print(f"set {spec.name} (sealed): {len(problems)} problem(s), not shown",
                  file=sys.stderr)
        elif problems:
            print(f"set {spec.name}: probe file problems:", *problems, sep="\n  ",
                  file=sys.stderr)
        ok = ok and not problems
    return loaded if ok else None


def _check_probes(spec: SetSpec, probe_set: ProbeSet, guide: Guide) -> None:
    turns = sum(len(c["turns"]) for c in probe_set.conversations)
    print(f"{spec.name}: {len(probe_set.probes)} probes, {len(probe_set.conversations)} "
          f"conversations ({turns} turns)" + (" [sealed: totals only]" if spec.sealed else ""))
    if spec.sealed:
        return
    groups: Dict[str, int] = {}
    for p in probe_set.probes:
        groups[expect_group(p["expect"])] = groups.get(expect_group(p["expect"]), 0) + 1
    for g, n in groups.items():
        print(f"  {g:<16}{n:>4}")
    thin = [i.ref for s in guide.sections.values() for i in s.items
            if sum(1 for p in probe_set.probes if p["expect"] == i.ref) < 3]
    print("  items with fewer than 3 single probes:", ", ".join(thin) or "none")
    print("  expectations used:", len(coverage(probe_set)))


def _only(probe_set: ProbeSet, groups: Sequence[str]) -> ProbeSet:
    wanted = set(groups)
    touches = lambda e: expect_group(e["expect"]) in wanted  # noqa: E731
    return ProbeSet([p for p in probe_set.probes if touches(p)],
                    [c for c in probe_set.conversations if any(map(touches, c["turns"]))])


def _run_set(client: RestClient, probe_set: ProbeSet, guide: Guide,
             responses: Dict[str, List[str]], workers: int) -> Tuple[list, list]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        probe_results = list(pool.map(
            lambda p: run_turn(client, new_sender(), p, guide, responses), probe_set.probes))
        conv_results = list(pool.map(
            lambda c: run_conversation(client, c, guide, responses), probe_set.conversations))
    return probe_results, conv_results


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    guide = load_guide(_resolve(args.guide), _resolve(args.terms))
    responses = load_responses(_resolve(args.domain))
    loaded = _load_sets(args.specs, guide, responses)
    if loaded is None:
        return 2
    if args.check_probes:
        for spec in args.specs:
            _check_probes(spec, loaded[spec.name], guide)
        return 0
    if args.only:
        loaded = {name: _only(probe_set, args.only) for name, probe_set in loaded.items()}

    client = RestClient(args.url, args.timeout)
    unreachable = client.ping()
    if unreachable:
        print(f"cannot reach the Rasa server at {args.url}: {unreachable}", file=sys.stderr)
        return 2
    baseline, baseline_note = (None, "switched off (--no-baseline)") if args.no_baseline \
        else load_baseline(guide)

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    entries, latencies = [], []
    for spec in args.specs:
        probe_results, conv_results = _run_set(client, loaded[spec.name], guide, responses,
                                               max(1, args.concurrency))
        latencies += [r.latency_ms for r in probe_results + [t for c in conv_results
                                                             for t in c.turns]
                      if r.latency_ms is not None]
        summary = summarize(probe_results, conv_results, guide, args.min_probes,
                            args.min_conversations)
        base = None
        if baseline is not None:
            base = summarize(*baseline.run(loaded[spec.name], guide, responses), guide,
                             args.min_probes, args.min_conversations)
        entries.append(set_entry(spec, summary, base, probe_results, conv_results))
    meta = {"url": args.url, "started": started.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - t0, 1)}
    report = build_report(entries, meta, latencies, gate_set(args.specs).name,
                          args.min_probes, args.min_conversations, baseline_note)
    out = Path(args.out)
    write_report(report, out)
    print_console(report)
    print(f"\nreport: {out / 'report.md'} and {out / 'report.json'}")
    if args.gate and not report["gate"]["passed"]:
        print(f"GATE FAILED ({report['gate']['set']})", file=sys.stderr)
        return 1
    return 0
