"""All settings of the action server, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    guide_file: Path
    lay_terms_file: Path
    red_flags_file: Path
    emergency_number: str
    actions_port: int

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            guide_file=_path(env.get("GUIDE_FILE", "knowledge/calcified-lesions.txt")),
            lay_terms_file=_path(env.get("LAY_TERMS_FILE", "knowledge/lay_terms.yml")),
            red_flags_file=_path(env.get("RED_FLAGS_FILE", "knowledge/red_flags.yml")),
            emergency_number=env.get("EMERGENCY_NUMBER", "").strip()
            or "your local emergency number",
            actions_port=int(env.get("ACTIONS_PORT", "5055")),
        )
