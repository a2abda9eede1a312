"""Reads the reports of ``rasa test nlu`` and fails if the scores are below the gate.

    python -m tools.nlu_gate reports/nlu --intent-f1 0.95 --entity-f1 0.90
    python -m tools.nlu_gate reports/nlu-cv --report-only

Intent score: macro-averaged F1 over intents. Entity score: micro-averaged F1 of the
rule-based entity extractor (GuideEntityExtractor), over all entity types.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

ENTITY_REPORT = "GuideEntityExtractor_report.json"


def scores(report_dir: Path) -> Dict[str, Dict[str, float]]:
    intents = json.loads((report_dir / "intent_report.json").read_text())
    out = {"intent": _averages(intents)}
    entity_file = report_dir / ENTITY_REPORT
    if entity_file.exists():
        out["entity"] = _averages(json.loads(entity_file.read_text()))
    return out


def _averages(report: Dict) -> Dict[str, float]:
    out = {}
    for key in ("macro avg", "micro avg", "weighted avg"):
        if key in report:
            out[key] = float(report[key]["f1-score"])
    if "micro avg" not in out and "accuracy" in report:
        out["micro avg"] = float(report["accuracy"])
    out["support"] = float(report.get("macro avg", {}).get("support", 0))
    return out


def weakest(report_dir: Path, name: str, count: int = 5) -> List[str]:
    path = report_dir / name
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    rows = [
        (v["f1-score"], k, v["support"])
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and not k.endswith("avg")
    ]
    return [f"{k} {f1:.3f} (n={int(n)})" for f1, k, n in sorted(rows)[:count]]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--intent-f1", type=float, default=0.95)
    parser.add_argument("--entity-f1", type=float, default=0.90)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)

    try:
        found = scores(args.report_dir)
    except (OSError, ValueError, KeyError) as exc:
        print(f"nlu gate: cannot read reports in {args.report_dir}: {exc}", file=sys.stderr)
        return 2
    intent_f1 = found["intent"]["macro avg"]
    entity_f1 = found.get("entity", {}).get("micro avg")
    print(f"intent macro-F1 {intent_f1:.3f}   (gate {args.intent_f1})")
    print("  weakest intents: " + "; ".join(weakest(args.report_dir, "intent_report.json")))
    if entity_f1 is None:
        print("entity F1: no report from GuideEntityExtractor")
    else:
        print(f"entity micro-F1 {entity_f1:.3f}   macro-F1 {found['entity'].get('macro avg', 0):.3f}"
              f"   (gate {args.entity_f1})")
        print("  weakest entities: " + "; ".join(weakest(args.report_dir, ENTITY_REPORT)))
    if args.report_only:
        return 0
    failed = intent_f1 < args.intent_f1 or entity_f1 is None or entity_f1 < args.entity_f1
    print("NLU gate: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
