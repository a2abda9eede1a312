"""One set's summary (by expectation group, by guide item, emergencies, latency, the gate),
its totals (all a sealed set may show) and its details for report.md and the console.

The whole run's report (the summary table over every set) is ``run_report``."""

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
    answered = probe_results + turns
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
        "errors": sum(1 for r in answered if r.error),
        "emergency": {
            "expected": sum(r.expects_emergency for r in answered),
            "false_alarms": sum(r.false_alarm for r in answered),
            "missed": sum(r.missed_emergency for r in answered),
        },
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
        "false_alarm_list": [
            {"where": "probe", "text": r.text, "expected": r.expect, "got": r.got}
            for r in probe_results if r.false_alarm
        ] + [
            {"where": f"{c.name} #{n}", "text": t.text, "expected": t.expect, "got": t.got}
            for c in conv_results for n, t in enumerate(c.turns, start=1) if t.false_alarm
        ],
    }


def totals(summary: Dict[str, Any]) -> Dict[str, Any]:
    """Only the totals of a summary: everything a sealed set may show."""
    p, c, e = summary["probes"], summary["conversations"], summary["emergency"]
    return {
        "probes": {k: p[k] for k in ("passed", "total", "pct")},
        "conversations": {k: c[k] for k in ("passed", "total", "pct", "turns_passed",
                                            "turns_total", "turn_pct")},
        "emergency": {"false_alarms": e["false_alarms"], "missed": e["missed"]},
        "errors": summary["errors"],
    }


def _md_cell(value: Any) -> str:
    if not isinstance(value, str):
        value = ", ".join(value) if isinstance(value, (list, tuple)) else str(value)
    return value.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: List[Sequence[Any]],
           align: Sequence[str]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    return lines + ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]


def render_details(name: str, summary: Dict[str, Any],
                   baseline: Optional[Dict[str, Any]]) -> List[str]:
    """report.md lines for one unsealed set: groups, items, emergencies, every failure."""
    b_groups = (baseline or {}).get("groups", {})
    b_items = (baseline or {}).get("items", {})
    dash = "n/a" if baseline is None else "-"
    pick = lambda table, key: table[key]["pct"] if key in table else dash  # noqa: E731
    e = summary["emergency"]
    lines = ["", f"## Set {name}: details", "",
             f"False emergency alarms: {e['false_alarms']}; missed emergencies: {e['missed']} "
             f"(of {e['expected']} expected); request errors: {summary['errors']}.", "",
             "### Single probes by expectation group", ""]
    lines += _table(["group", "hits", "total", "%", "baseline %"],
                    [(g, v["hits"], v["total"], v["pct"], pick(b_groups, g))
                     for g, v in summary["groups"].items()], ["---", "---:", "---:", "---:", "---:"])
    lines += ["", "### Single probes by guide item", ""]
    lines += _table(["item", "hits", "total", "baseline hits"],
                    [(ref, v["hits"], v["total"], b_items[ref]["hits"] if ref in b_items else dash)
                     for ref, v in summary["items"].items()], ["---", "---:", "---:", "---:"])
    lines += ["", f"### False emergency alarms ({len(summary['false_alarm_list'])})", ""]
    lines += _table(["where", "text", "expected", "got (first 200 chars)"],
                    [(f["where"], f["text"], f["expected"], f["got"])
                     for f in summary["false_alarm_list"]], ["---"] * 4) \
        if summary["false_alarm_list"] else ["None."]
    lines += ["", f"### Failed probes ({len(summary['failures'])})", ""]
    lines += _table(["text", "expected", "got (first 200 chars)", "why"],
                    [(f["text"], f["expected"], f["got"], f["reason"])
                     for f in summary["failures"]], ["---"] * 4) \
        if summary["failures"] else ["None."]
    fails = summary["conversation_failures"]
    lines += ["", f"### Failed conversation turns ({len(fails)})", ""]
    lines += _table(["conversation", "turn", "text", "expected", "got (first 200 chars)", "why"],
                    [(f["conversation"], f["turn"], f["text"], f["expected"], f["got"],
                      f["reason"]) for f in fails], ["---", "---:", "---", "---", "---", "---"]) \
        if fails else ["None."]
    return lines


def print_failures(name: str, summary: Dict[str, Any], out=None) -> None:
    """The console's detail for one unsealed set: false alarms and failures."""
    out = out or sys.stdout
    w = lambda s="": print(s, file=out)  # noqa: E731
    if summary["false_alarm_list"]:
        w()
        w(f"[{name}] false emergency alarms ({len(summary['false_alarm_list'])}):")
        for f in summary["false_alarm_list"]:
            w(f"  - [{f['where']}] {f['text']!r} expected {f['expected']}\n      got: {f['got']}")
    if summary["failures"]:
        w()
        w(f"[{name}] failed probes ({len(summary['failures'])}):")
        for f in summary["failures"]:
            w(f"  - {f['text']!r} expected {f['expected']}: {f['reason']}\n      got: {f['got']}")
    if summary["conversation_failures"]:
        w()
        w(f"[{name}] failed conversation turns ({len(summary['conversation_failures'])}):")
        for f in summary["conversation_failures"]:
            w(f"  - [{f['conversation']} #{f['turn']}] {f['text']!r} expected {f['expected']}: "
              f"{f['reason']}\n      got: {f['got']}")


