"""The red-flag phrase file (``knowledge/red_flags.yml``): symptoms that need emergency advice.

Read by the NLU's ``RedFlagMatcher`` when it is trained (its phrases) and by the
action server at start (each flag's label, named in the emergency advice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml


class RedFlagFileError(Exception):
    """The red-flag phrase file is missing or malformed."""


def read_flags(path: Path) -> Dict[str, Dict[str, Any]]:
    """{flag id: {"label": str, "phrases": [str, ...]}} from the YAML file, checked."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RedFlagFileError(f"cannot read red-flag file {path}: {exc}") from exc
    flags = (data or {}).get("flags") if isinstance(data, dict) else None
    if not isinstance(flags, dict) or not flags:
        raise RedFlagFileError(f"red-flag file {path} has no 'flags' mapping")
    for flag, spec in flags.items():
        if not isinstance(spec, dict) or not spec.get("phrases") or not spec.get("label"):
            raise RedFlagFileError(f"red flag '{flag}' in {path} needs a label and phrases")
    return flags
