"""What the action server loads once at start: the guide and the red-flag labels.

``load()`` is called by ``actions.server`` before the server accepts requests, so a
missing or malformed file stops the server with a message naming the problem. Tests
and tools may call ``load()`` with their own settings (e.g. a copy of the guide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

from actions.settings import Settings
from guide.model import Guide
from guide.parsing import KnowledgeFileError, load_guide
from guide.red_flags import RedFlagFileError, read_flags


@dataclass(frozen=True)
class Resources:
    settings: Settings
    guide: Guide
    red_flag_labels: Dict[str, str]


_current: Optional[Resources] = None


def load(settings: Optional[Settings] = None) -> Resources:
    """Read the guide and the red-flag labels; raise KnowledgeFileError if unusable."""
    global _current
    settings = settings or Settings.from_env()
    guide = load_guide(settings.guide_file, settings.lay_terms_file)
    try:
        flags = read_flags(settings.red_flags_file)
    except RedFlagFileError as exc:
        raise KnowledgeFileError(str(exc)) from exc
    _current = Resources(settings, guide, {k: v["label"] for k, v in flags.items()})
    return _current


def current() -> Resources:
    """The loaded resources (loaded on first use outside the server, e.g. in a shell)."""
    return _current or load()
