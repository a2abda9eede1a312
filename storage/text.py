"""Stored text made safe to show, encode and export, in linear time.

Rasa stores what channels hand it; old rows (from before the input guard) or a
client that bypasses it can hold lone UTF-16 surrogates, NUL and other control
characters. Encoding such text to UTF-8 raises, and NUL breaks CSV writers and
PostgreSQL text columns. ``printable`` replaces them (one ``re.sub`` pass, no
backtracking), so any stored text can be rendered, searched and exported.
"""

from __future__ import annotations

import re
from typing import Any, Optional

REPLACEMENT = "\ufffd"
# Lone surrogates and C0/C1 controls other than tab, newline and carriage return.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: Any, limit: Optional[int] = None) -> str:
    """``text`` as a str with unsafe code points replaced; cut to ``limit`` characters."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _UNSAFE.sub(REPLACEMENT, text)
