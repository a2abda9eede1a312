"""The whole run's report over every set: report.json, report.md and the console.

report.md (and the console) start with one summary table, a row per set: messages %,
conversations %, false emergency alarms, missed emergencies, the semantic baseline's
messages % and conversations %, and the ratio assistant/baseline (messages); then every
set's totals, the assistant's latency over the whole run and the gate. Only unsealed sets
get details after that (report.md: groups, items and failures; console: failures).

report.json has the same structure: ``summary`` (the table's rows), ``latency_ms``,
``gate``, ``baseline`` (available or why not) and ``sets`` (per set: ``assistant`` and
``baseline`` summaries, ``ratio``, and for unsealed sets ``results``). For a sealed set
``assistant`` and ``baseline`` hold only totals (``report.totals``) and there is no
``results``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from tools.answer_eval.report import percentile, print_failures, render_details, totals
from tools.answer_eval.runner import ConversationResult, TurnResult
from tools.answer_eval.sets import SetSpec

NA = "n/a"


def ratio(assistant: float, baseline: Optional[float]) -> Optional[float]:
    """assistant % / baseline % (None without a baseline or at 0 %)."""
    return round(assistant / baseline, 2) if baseline else None


def results_json(probe_results: List[TurnResult],
                 conv_results: List[ConversationResult]) -> Dict[str, Any]:
    return {
        "probes": [asdict(r) for r in probe_results],
        "conversations": [dict(name=c.name, sender=c.sender, passed=c.passed,
                               turns=[asdict(t) for t in c.turns]) for c in conv_results],
    }


def set_entry(spec: SetSpec, summary: Dict[str, Any], baseline: Optional[Dict[str, Any]],
              probe_results: List[TurnResult],
              conv_results: List[ConversationResult]) -> Dict[str, Any]:
    """report.json's entry for one set: totals only if the set is sealed."""
    entry: Dict[str, Any] = {"name": spec.name, "file": spec.path, "sealed": spec.sealed}
    if spec.sealed:
        entry["assistant"] = totals(summary)
        entry["baseline"] = totals(baseline) if baseline is not None else None
    else:  # the gate is judged once for the run; the baseline has no latency
        entry["assistant"] = {k: v for k, v in summary.items() if k != "gate"}
        entry["baseline"] = None if baseline is None else {
            k: v for k, v in baseline.items() if k not in ("gate", "latency_ms")}
    b = entry["baseline"]
    entry["ratio"] = {
        "messages": ratio(summary["probes"]["pct"], b["probes"]["pct"] if b else None),
        "conversations": ratio(summary["conversations"]["pct"],
                               b["conversations"]["pct"] if b else None),
    }
    if not spec.sealed:
        entry["results"] = results_json(probe_results, conv_results)
    return entry


def summary_row(entry: Dict[str, Any]) -> Dict[str, Any]:
    a, b = entry["assistant"], entry["baseline"]
    return {
        "set": entry["name"], "sealed": entry["sealed"],
        "messages_pct": a["probes"]["pct"], "conversations_pct": a["conversations"]["pct"],
        "false_alarms": a["emergency"]["false_alarms"],
        "missed_emergencies": a["emergency"]["missed"],
        "baseline_messages_pct": b["probes"]["pct"] if b else None,
        "baseline_conversations_pct": b["conversations"]["pct"] if b else None,
        "ratio": entry["ratio"]["messages"],
    }


def build_report(entries: Sequence[Dict[str, Any]], meta: Dict[str, Any],
                 latencies: Sequence[float], gate_name: str, min_probes: float,
                 min_conversations: float, baseline_note: Optional[str]) -> Dict[str, Any]:
    by_name = {e["name"]: e for e in entries}
    target = by_name[gate_name]["assistant"]
    return dict(meta, **{
        "summary": [summary_row(e) for e in entries],
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                       "max": round(max(latencies), 1) if latencies else None,
                       "requests": len(latencies)},
        "gate": {"set": gate_name, "min_probes_pct": min_probes,
                 "min_conversations_pct": min_conversations,
                 "passed": target["probes"]["pct"] >= min_probes
                 and target["conversations"]["pct"] >= min_conversations},
        "baseline": {"available": baseline_note is None, "reason": baseline_note},
        "sets": by_name,
    })


def _v(value: Any, suffix: str = "") -> str:
    return NA if value is None else f"{value}{suffix}"


def _rows(report: Dict[str, Any]) -> List[List[str]]:
    return [[r["set"] + (" (sealed)" if r["sealed"] else ""), _v(r["messages_pct"]),
             _v(r["conversations_pct"]), str(r["false_alarms"]),
             (f"**{r['missed_emergencies']}**" if r["missed_emergencies"] else "0"),
             _v(r["baseline_messages_pct"]), _v(r["baseline_conversations_pct"]),
             _v(r["ratio"], "x")] for r in report["summary"]]


HEADER = ["set", "messages %", "conversations %", "false alarms", "missed emergencies",
          "baseline messages %", "baseline conversations %", "ratio"]


def _totals_lines(report: Dict[str, Any]) -> List[str]:
    lines = []
    for name, e in report["sets"].items():
        p, c = e["assistant"]["probes"], e["assistant"]["conversations"]
        lines.append(f"{name}: messages {p['passed']}/{p['total']} ({p['pct']}%), conversations "
                     f"{c['passed']}/{c['total']} ({c['pct']}%), turns {c['turns_passed']}/"
                     f"{c['turns_total']} ({c['turn_pct']}%), request errors "
                     f"{e['assistant']['errors']}")
    return lines


def _emergency_line(report: Dict[str, Any]) -> str:
    missed = sum(r["missed_emergencies"] for r in report["summary"])
    alarms = sum(r["false_alarms"] for r in report["summary"])
    return (f"MISSED EMERGENCIES: {missed} (a missed emergency outweighs every other result); "
            f"false emergency alarms: {alarms}")


def _footer(report: Dict[str, Any]) -> List[str]:
    lat, gate, base = report["latency_ms"], report["gate"], report["baseline"]
    return [
        f"latency (assistant, whole run): p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"max {lat['max']} ms ({lat['requests']} requests)",
        f"gate on {gate['set']} (messages >= {gate['min_probes_pct']}%, conversations >= "
        f"{gate['min_conversations_pct']}%): {'pass' if gate['passed'] else 'FAIL'}",
        "baseline: semantic search, each message answered with the nearest guide passage; "
        "ratio = assistant messages % / baseline messages %"
        if base["available"] else f"baseline: not available ({base['reason']})",
    ]


def _lines(report: Dict[str, Any]) -> List[str]:
    return [_emergency_line(report)] + _totals_lines(report) + _footer(report)


def render_markdown(report: Dict[str, Any]) -> str:
    lines = ["# Answer evaluation", ""]
    lines += ["| " + " | ".join(HEADER) + " |", "|---|" + "---:|" * (len(HEADER) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    lines += [""] + [f"- {line}  " for line in _lines(report)]
    sets = ", ".join(f"{n} = {e['file']}" + (" (sealed: totals only)" if e["sealed"] else "")
                     for n, e in report["sets"].items())
    lines += [f"- server: {report['url']}; run at {report['started']} "
              f"({report['duration_s']} s)  ", f"- sets: {sets}"]
    for name, e in report["sets"].items():
        if not e["sealed"]:
            lines += render_details(name, e["assistant"], e["baseline"])
    return "\n".join(lines) + "\n"


def print_console(report: Dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    rows = [[h.replace("conversations", "convs").replace("baseline", "base")
             .replace("emergencies", "emerg.") for h in HEADER]]
    rows += [[cell.replace("**", "") for cell in row] for row in _rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for row in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))), file=out)
    print(file=out)
    for line in _lines(report):
        print(line, file=out)
    for name, e in report["sets"].items():
        if not e["sealed"]:
            print_failures(name, e["assistant"], out)


def write_report(report: Dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
