"""``make corrections``: teach the assistant the staff console's corrections, and measure it.

1. The corrected messages in the console (``staff_corrections`` in ``DATABASE_URL``)
   become ``data/nlu/corrections.yml`` (the whole file is rewritten: a correction deleted
   in the console leaves it).
2. ``rasa data validate --fail-on-warnings``: a correction that contradicts the training
   data (the same words under another intent) stops here, and the previous file is put
   back.
3. The model before and after retraining (``make train``) reads the held-out NLU test
   set (``tests/nlu/test_nlu.yml``, never trained on) and the corrected messages; the
   share of intents right is printed for both, and written to reports/corrections.json.

The corrected messages are trained on, so "after" on them shows that they were learnt;
the held-out set shows what they cost or bring elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "nlu" / "corrections.yml"
TEST_SET = ROOT / "tests" / "nlu" / "test_nlu.yml"
REPORT = ROOT / "reports" / "corrections.json"


def corrections_yaml(database_url: str) -> Tuple[str, int]:
    """The console's corrections as Rasa NLU YAML (empty when the console has none)."""
    import sqlalchemy as sa

    from storage.engine import create_engine
    from webapp.staff.corrections import training_data_yaml

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("staff_corrections"):
                return "", 0
            return training_data_yaml(conn)
    finally:
        engine.dispose()


def examples(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def intent_accuracy(model: str, sets: Dict[str, Sequence[Tuple[str, str]]]) -> Dict[str, Dict[str, float]]:
    """Per set: how many messages the model gives the labelled intent."""
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)  # not a debug line per message parsed
    agent = Agent.load(model)
    loop = asyncio.new_event_loop()
    try:
        out = {}
        for name, items in sets.items():
            right = sum(1 for text, intent in items
                        if loop.run_until_complete(agent.parse_message(text))["intent"]["name"] == intent)
            out[name] = {"right": right, "total": len(items), "share": right / len(items) if items else 0.0}
        return out
    finally:
        loop.close()


def validate(env: Dict[str, str], out: Path = OUT) -> Tuple[bool, str]:
    """Rasa's validation of the training data with ``out`` in it; (passed, the problems)."""
    data = ["data"] if ROOT / "data" in out.resolve().parents else ["data", str(out)]
    done = subprocess.run([sys.executable, "-m", "tools.rasa_cli", "data", "validate", "--fail-on-warnings",
                           "--data", *data], cwd=ROOT, env=env, capture_output=True, text=True)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "UserWarning" in line and "is not used in any story" not in line
                and "not found in the NLU training data" not in line]
    return done.returncode == 0, "\n".join(problems[-20:])


def newest_model() -> Optional[str]:
    models = sorted((ROOT / "models").glob("assistant-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return str(models[-1]) if models else None


def write(body: str, path: Path = OUT) -> Optional[str]:
    """Write the file; returns what it held before (None: it did not exist)."""
    previous = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(body, encoding="utf-8")
    return previous


def restore(previous: Optional[str], path: Path = OUT) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(previous, encoding="utf-8")


def show(label: str, result: Dict[str, Dict[str, float]]) -> None:
    for name, figures in result.items():
        print(f"  {label:<7} {name:<22} {figures['right']:>4} / {figures['total']:<4} "
              f"{100 * figures['share']:5.1f}%")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="the model trained without the new corrections (make passes it)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, as for the console")
    parser.add_argument("--no-train", action="store_true", help="write and validate only")
    parser.add_argument("--out", type=Path, default=OUT, help=argparse.SUPPRESS)  # tests write elsewhere
    args = parser.parse_args(argv)
    from clinic import settings as clinic

    body, count = corrections_yaml(args.database_url or clinic.database_url())
    if not count:
        print("The staff console holds no corrections yet: nothing to learn.")
        return 0
    previous = write(body, args.out)
    if previous == body:
        print(f"data/nlu/corrections.yml already holds the console's {count} corrected messages.")
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    ok, problems = validate(env, args.out)
    if not ok:
        restore(previous, args.out)
        print("The corrections contradict the training data; data/nlu/corrections.yml is unchanged.\n"
              "Fix or delete those corrections in the console (Training data), then run this again:\n" + problems)
        return 1
    print(f"data/nlu/corrections.yml: {count} corrected messages; the training data validates.")
    if args.no_train:
        return 0
    sets = {"held-out test set": examples(TEST_SET), "corrected messages": examples(args.out)}
    before = intent_accuracy(args.before, sets) if args.before and Path(args.before).exists() else None
    if subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, env=env).returncode != 0:
        print("Training failed; the model in use is unchanged.")
        return 1
    after_model = newest_model()
    after = intent_accuracy(after_model, sets)
    print("Intents right, before and after learning the corrections:")
    if before:
        show("before", before)
    show("after", after)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"corrections": count, "before_model": args.before, "after_model": after_model,
                                  "before": before, "after": after}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
