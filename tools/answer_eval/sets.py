"""The probe sets of one run: ``--set NAME=PATH[:sealed]`` (repeatable) or ``--probes PATH``.

A **sealed** set is scored like any other, but only its totals ever leave the run:
messages, conversations and turns passed, false emergency alarms and missed emergencies
(the report, report.json and the console show nothing per group, per item or per probe,
and no text or reply). Problems found when validating it are counted, not shown.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

SEALED_SUFFIX = ":sealed"
DEFAULT_PROBES = "tests/eval/probes.yml"


@dataclass(frozen=True)
class SetSpec:
    name: str
    path: str
    sealed: bool = False


def parse_set(value: str) -> SetSpec:
    """``NAME=PATH`` or ``NAME=PATH:sealed``; argparse.ArgumentTypeError if malformed."""
    name, sep, path = value.partition("=")
    name, path = name.strip(), path.strip()
    sealed = path.endswith(SEALED_SUFFIX)
    if sealed:
        path = path[: -len(SEALED_SUFFIX)]
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH[:sealed], got {value!r}")
    if not all(ch.isalnum() or ch in "-_." for ch in name):
        raise argparse.ArgumentTypeError(f"set name {name!r}: letters, digits, - _ . only")
    return SetSpec(name, path, sealed)


def set_specs(sets: Sequence[SetSpec], probes: Optional[str]) -> List[SetSpec]:
    """The run's sets in order: every ``--set``, then ``--probes`` as an unsealed set named
    after its file; ``tests/eval/probes.yml`` when neither is given. ValueError on a
    repeated name."""
    specs = list(sets)
    if probes or not specs:
        path = probes or DEFAULT_PROBES
        specs.append(SetSpec(Path(path).stem, path, False))
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"set name used twice: {', '.join(repeated)}")
    return specs


def gate_set(specs: Sequence[SetSpec]) -> SetSpec:
    """The set ``--gate`` judges: the first sealed set, else the first set."""
    return next((s for s in specs if s.sealed), specs[0])
