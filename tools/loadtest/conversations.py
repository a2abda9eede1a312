"""What the simulated patients say: the conversations of the blind sets that may be read
(dev, fresh, late, fifth; never the sealed one), as they were written. Conversations that
ask to delete the patient's data are left out: a confirmed deletion would remove the
events the integrity check looks for."""

from __future__ import annotations

from pathlib import Path
from typing import List

import yaml

ROOT = Path(__file__).resolve().parents[2]
SETS = ("dev", "fresh", "late", "fifth")


def _expects(turn: dict) -> List[str]:
    expect = turn.get("expect")
    return [expect] if isinstance(expect, str) else list(expect or [])


def load_conversations(folder: Path = ROOT / "tests" / "eval" / "blind") -> List[List[str]]:
    conversations = []
    for name in SETS:
        data = yaml.safe_load((folder / f"{name}.yml").read_text(encoding="utf-8")) or {}
        for conversation in data.get("conversations") or []:
            turns = conversation.get("turns") or []
            if any("deletion" in _expects(t) for t in turns):
                continue
            conversations.append([str(t["text"]) for t in turns])
    return conversations
