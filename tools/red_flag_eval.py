"""The red-flag detector on the blind red-flag set (tests/eval/blind/redflags.yml).

The set is split once (``random.Random(2026)``) into a dev half, whose failures are
printed and may be tuned on, and a held-out half, reported as totals only. A missed
emergency is counted apart from a false alarm: it outweighs everything else.

    .venv/bin/python -m tools.red_flag_eval      (make eval-redflags)
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests" / "eval" / "blind" / "redflags.yml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=SET)
    args = parser.parse_args()

    import spacy

    from guide.paths import knowledge_files
    from guide.red_flags import read_flags
    from nlu_components.red_flags import RedFlagDetector

    probes = yaml.safe_load(args.set.read_text(encoding="utf-8"))["probes"]
    order = list(range(len(probes)))
    random.Random(2026).shuffle(order)
    dev = set(order[: len(order) // 2])
    detector = RedFlagDetector(spacy.load(ROOT / "build" / "spacy-en"), read_flags(knowledge_files().red_flags))
    totals = {"dev": [0, 0, 0, 0], "held-out": [0, 0, 0, 0]}  # right, total, missed, false alarms
    failures = []
    for number, probe in enumerate(probes):
        found = sorted({f["value"] for f in detector.find(probe["text"])})
        emergency = probe["expect"] == "emergency"
        part = "dev" if number in dev else "held-out"
        row = totals[part]
        row[1] += 1
        if bool(found) == emergency:
            row[0] += 1
        elif emergency:
            row[2] += 1
        else:
            row[3] += 1
        if part == "dev" and bool(found) != emergency:
            failures.append(f"  dev {'MISSED' if emergency else 'false alarm'}: {probe['text']!r} {found}")
    for part, (right, total, missed, alarms) in totals.items():
        print(f"{part}: {right}/{total} right ({100 * right / total:.1f}%), "
              f"missed emergencies {missed}, false alarms {alarms}")
    print("\n".join(failures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
