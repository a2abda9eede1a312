"""The probe file (``tests/eval/probes.yml``): single probes and conversations, each turn
a ``text`` and an ``expect``; read, validated against the guide, and counted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Union

import yaml

from guide.model import Guide
from tools.answer_eval.checks import parse_expect


@dataclass
class ProbeSet:
    probes: List[Dict[str, Any]]
    conversations: List[Dict[str, Any]]


def load_probes(path: Union[str, Path]) -> ProbeSet:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return ProbeSet(list(data.get("probes") or []), list(data.get("conversations") or []))


def validate_probes(probes: ProbeSet, guide: Guide,
                    responses: Dict[str, List[str]]) -> List[str]:
    """Problems with the probe file (empty list if it is usable)."""
    problems: List[str] = []

    def check(entry: Any, where: str) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) \
                or not entry["text"].strip():
            problems.append(f"{where}: needs a non-empty 'text'")
            return
        expect = entry.get("expect")
        alternatives = [expect] if isinstance(expect, str) else expect
        if not isinstance(alternatives, list) or not alternatives:
            problems.append(f"{where}: needs an 'expect'")
            return
        for alternative in alternatives:
            try:
                parse_expect(alternative, guide, responses)
            except ValueError as exc:
                problems.append(f"{where} ({entry['text']!r}): {exc}")

    for n, probe in enumerate(probes.probes, start=1):
        check(probe, f"probe {n}")
    for n, conv in enumerate(probes.conversations, start=1):
        turns = conv.get("turns") if isinstance(conv, dict) else None
        name = conv.get("name", f"#{n}") if isinstance(conv, dict) else f"#{n}"
        if not isinstance(turns, list) or not turns:
            problems.append(f"conversation {name!r}: needs 'turns'")
            continue
        for t, turn in enumerate(turns, start=1):
            check(turn, f"conversation {name!r} turn {t}")
    return problems


def coverage(probes: ProbeSet) -> Dict[str, int]:
    """How many probes and turns expect each expectation string."""
    counts: Dict[str, int] = {}
    entries = list(probes.probes) + [t for c in probes.conversations for t in c.get("turns", [])]
    for entry in entries:
        expect = entry.get("expect")
        for alternative in [expect] if isinstance(expect, str) else expect or ():
            counts[alternative] = counts.get(alternative, 0) + 1
    return counts
