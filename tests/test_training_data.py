"""The training data never holds a message of the blind evaluation sets: their figures
would then measure recall of their own text. Messages of one or two words ("thanks",
"hi there") are left: every greeting is in both. The failure names the file and the
number of such examples only, never the text (the sealed and held-out sets must not leak
into a log). The old probes (tests/eval/probes.yml) were tuned into the data long ago and
are read as tuned on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
MIN_WORDS = 3
_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # "[kidney](location)" -> "kidney"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub(r"\1", text)).strip().lower()


def _eval_texts(path: Path) -> Iterator[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for value in data.values():
        for entry in value if isinstance(value, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("text"), str):
                yield entry["text"]
            for turn in (entry.get("turns") or []) if isinstance(entry, dict) else []:
                yield turn["text"]


def _training_examples() -> Iterator[str]:
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield line.strip()[2:]


def test_no_training_example_is_an_evaluation_message():
    training = {_norm(e) for e in _training_examples()}
    assert len(training) > 2000  # the data was read
    overlaps = {}
    for path in sorted((ROOT / "tests" / "eval" / "blind").rglob("*.yml")):
        count = sum(1 for text in set(map(_norm, _eval_texts(path)))
                    if text in training and len(text.split()) >= MIN_WORDS)
        if count:
            overlaps[str(path.relative_to(ROOT))] = count
    assert overlaps == {}, f"training examples equal to evaluation messages (counts only): {overlaps}"
