"""The red-flag detector on the blind red-flag sets (tests/eval/blind/redflags*.yml).

Each set, written blind by a different writer, is split once (``random.Random(2026)``)
into a dev half, whose failures are printed and may be tuned on, and a held-out half,
reported as totals only. A missed emergency is counted apart from a false alarm: it
outweighs everything else.

    .venv/bin/python -m tools.red_flag_eval      (make eval-redflags)
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SETS = sorted((ROOT / "tests" / "eval" / "blind").glob("redflags*.yml"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, action="append", help="default: every redflags*.yml")
    parser.add_argument("--model", type=Path, help="a trained model: judge its whole NLU (the classifier "
                        "and the red-flag matcher: intent report_emergency), not the phrase matcher alone")
    args = parser.parse_args()

    import spacy

    from guide.paths import knowledge_files
    from guide.red_flags import read_flags
    from nlu_components.red_flags import RedFlagDetector

    if args.model:
        flags_of = nlu_flags(args.model)
    else:
        detector = RedFlagDetector(spacy.load(ROOT / "build" / "spacy-en"),
                                   read_flags(knowledge_files().red_flags))

        def flags_of(text):
            return sorted({f["value"] for f in detector.find(text)})
    for path in args.set or SETS:
        print(f"== {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
              f"{' (whole NLU of ' + args.model.name + ')' if args.model else ' (phrase matcher)'}")
        evaluate(flags_of, yaml.safe_load(path.read_text(encoding="utf-8"))["probes"])
    return 0


def nlu_flags(model: Path):
    """text -> the red flags found, or ["(classifier)"] when the NLU says report_emergency
    with no listed phrase."""
    import asyncio

    from rasa.core.agent import Agent

    from nlu_components.red_flags import EMERGENCY_INTENT

    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model))

    def flags_of(text):
        parsed = loop.run_until_complete(agent.parse_message(text))
        if (parsed.get("intent") or {}).get("name") != EMERGENCY_INTENT:
            return []
        return sorted({e["value"] for e in parsed.get("entities", []) if e.get("entity") == "red_flag"}) \
            or ["(classifier)"]
    return flags_of


def evaluate(flags_of, probes) -> None:
    order = list(range(len(probes)))
    random.Random(2026).shuffle(order)
    dev = set(order[: len(order) // 2])
    totals = {"dev": [0, 0, 0, 0], "held-out": [0, 0, 0, 0]}  # right, total, missed, false alarms
    failures = []
    for number, probe in enumerate(probes):
        found = flags_of(probe["text"])
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


if __name__ == "__main__":
    raise SystemExit(main())
