"""The evaluation's summary (by expectation group, by guide item, latency, the gate) and
its forms: report.md, the console print-out (report.json is the summary plus every result)."""

from __future__ import annotations

import math
import sys
from typing import Any, Dict, List, Optional, Sequence

from guide.model import Guide
from tools.answer_eval.checks import FULL_PREFIX, SPECIAL
from tools.answer_eval.runner import ConversationResult, TurnResult


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def _pct(hits: int, total: int) -> float:
    return round(100.0 * hits / total, 1) if total else 0.0


def summarize(probe_results: List[TurnResult], conv_results: List[ConversationResult],
              guide: Guide, min_probes: float, min_conversations: float) -> Dict[str, Any]:
    groups: Dict[str, Dict[str, Any]] = {}
    items: Dict[str, Dict[str, Any]] = {}
    order = list(guide.sections) + sorted(SPECIAL)
    for r in probe_results:
        g = groups.setdefault(r.group, {"hits": 0, "total": 0})
        g["total"] += 1
        g["hits"] += int(r.passed)
        if isinstance(r.expect, str) and r.expect.count(":") == 1 \
                and not r.expect.startswith(FULL_PREFIX):
            i = items.setdefault(r.expect, {"hits": 0, "total": 0})
            i["total"] += 1
            i["hits"] += int(r.passed)
    for bucket in list(groups.values()) + list(items.values()):
        bucket["pct"] = _pct(bucket["hits"], bucket["total"])
    groups = dict(sorted(groups.items(),
                         key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

    turns = [t for c in conv_results for t in c.turns]
    latencies = [r.latency_ms for r in probe_results + turns if r.latency_ms is not None]
    probes_passed = sum(r.passed for r in probe_results)
    convs_passed = sum(c.passed for c in conv_results)
    probe_pct = _pct(probes_passed, len(probe_results))
    conv_pct = _pct(convs_passed, len(conv_results))
    return {
        "probes": {"passed": probes_passed, "total": len(probe_results), "pct": probe_pct},
        "groups": groups,
        "items": dict(sorted(items.items())),
        "conversations": {
            "passed": convs_passed, "total": len(conv_results), "pct": conv_pct,
            "turns_passed": sum(t.passed for t in turns), "turns_total": len(turns),
            "turn_pct": _pct(sum(t.passed for t in turns), len(turns)),
        },
        "latency_ms": {
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": round(max(latencies), 1) if latencies else None, "requests": len(latencies),
        },
        "errors": sum(1 for r in probe_results + turns if r.error),
        "gate": {
            "min_probes_pct": min_probes, "min_conversations_pct": min_conversations,
            "passed": probe_pct >= min_probes and conv_pct >= min_conversations,
        },
        "failures": [
            {"text": r.text, "expected": r.expect, "got": r.got, "reason": r.reason}
            for r in probe_results if not r.passed
        ],
        "conversation_failures": [
            {"conversation": c.name, "turn": n, "text": t.text, "expected": t.expect,
             "got": t.got, "reason": t.reason}
            for c in conv_results if not c.passed
            for n, t in enumerate(c.turns, start=1) if not t.passed
        ],
    }


def _md_cell(value: Any) -> str:
    if not isinstance(value, str):
        value = ", ".join(value) if isinstance(value, (list, tuple)) else str(value)
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: Dict[str, Any], meta: Dict[str, Any]) -> str:
    p, c, lat = summary["probes"], summary["conversations"], summary["latency_ms"]
    lines = [
        "# Answer evaluation",
        "",
        f"- server: {meta['url']}  ",
        f"- probes file: {meta['probes_file']}  ",
        f"- run at: {meta['started']} ({meta['duration_s']} s)",
        "",
        "| measure | result |",
        "|---|---|",
        f"| single probes | {p['passed']}/{p['total']} ({p['pct']}%) |",
        f"| conversations (every turn right) | {c['passed']}/{c['total']} ({c['pct']}%) |",
        f"| conversation turns | {c['turns_passed']}/{c['turns_total']} ({c['turn_pct']}%) |",
        f"| latency p50 / p95 / max | {lat['p50']} / {lat['p95']} / {lat['max']} ms "
        f"({lat['requests']} requests) |",
        f"| request errors | {summary['errors']} |",
        f"| gate (probes >= {summary['gate']['min_probes_pct']}%, conversations >= "
        f"{summary['gate']['min_conversations_pct']}%) | "
        f"{'pass' if summary['gate']['passed'] else 'FAIL'} |",
        "",
        "## Single probes by expectation group",
        "",
        "| group | hits | total | % |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {g} | {v['hits']} | {v['total']} | {v['pct']} |"
              for g, v in summary["groups"].items()]
    lines += ["", "## Single probes by guide item", "", "| item | hits | total |",
              "|---|---:|---:|"]
    lines += [f"| {ref} | {v['hits']} | {v['total']} |" for ref, v in summary["items"].items()]
    lines += ["", f"## Failed probes ({len(summary['failures'])})", ""]
    if summary["failures"]:
        lines += ["| text | expected | got (first 200 chars) | why |", "|---|---|---|---|"]
        lines += [f"| {_md_cell(f['text'])} | {_md_cell(f['expected'])} | {_md_cell(f['got'])} "
                  f"| {_md_cell(f['reason'])} |" for f in summary["failures"]]
    else:
        lines.append("None.")
    lines += ["", f"## Failed conversation turns ({len(summary['conversation_failures'])})", ""]
    if summary["conversation_failures"]:
        lines += ["| conversation | turn | text | expected | got (first 200 chars) | why |",
                  "|---|---:|---|---|---|---|"]
        lines += [f"| {_md_cell(f['conversation'])} | {f['turn']} | {_md_cell(f['text'])} | "
                  f"{_md_cell(f['expected'])} | {_md_cell(f['got'])} | {_md_cell(f['reason'])} |"
                  for f in summary["conversation_failures"]]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def print_summary(summary: Dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    p, c, lat = summary["probes"], summary["conversations"], summary["latency_ms"]
    w = lambda s="": print(s, file=out)  # noqa: E731
    w(f"{'group':<16}{'hits':>6}{'total':>7}{'%':>8}")
    for g, v in summary["groups"].items():
        w(f"{g:<16}{v['hits']:>6}{v['total']:>7}{v['pct']:>8}")
    w()
    w(f"probes:        {p['passed']}/{p['total']} ({p['pct']}%)")
    w(f"conversations: {c['passed']}/{c['total']} ({c['pct']}%)  "
      f"turns {c['turns_passed']}/{c['turns_total']} ({c['turn_pct']}%)")
    w(f"latency:       p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    if summary["errors"]:
        w(f"request errors: {summary['errors']}")
    failures = summary["failures"]
    if failures:
        w()
        w(f"failed probes ({len(failures)}):")
        for f in failures:
            w(f"  - {f['text']!r} expected {f['expected']}: {f['reason']}\n      got: {f['got']}")
    if summary["conversation_failures"]:
        w()
        w("failed conversation turns:")
        for f in summary["conversation_failures"]:
            w(f"  - [{f['conversation']} #{f['turn']}] {f['text']!r} expected {f['expected']}: "
              f"{f['reason']}\n      got: {f['got']}")
