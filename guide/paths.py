"""Which knowledge files the assistant reads: decided here and nowhere else.

The action server (``actions/settings.py``), the NLU components (when trained, for
Rasa's fingerprint, and when loaded) and the Makefile's model fingerprint all call
:func:`knowledge_files`, so setting ``GUIDE_FILE`` changes the answers, the
recognised phrases and the model name together; before, it changed only the answers
and the two could disagree silently.

``python -m guide.paths`` prints the three paths, one per line (guide, lay terms, red
flags), for the Makefile. Standard library only: the Makefile runs it with the
system's ``python3``, before the virtualenv exists.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Environment variable -> the file read when it is unset (relative to the project root).
DEFAULTS = {
    "GUIDE_FILE": "knowledge/calcified-lesions.txt",
    "LAY_TERMS_FILE": "knowledge/lay_terms.yml",
    "RED_FLAGS_FILE": "knowledge/red_flags.yml",
}


@dataclass(frozen=True)
class KnowledgeFiles:
    guide: Path
    lay_terms: Path
    red_flags: Path

    def __iter__(self) -> Iterator[Path]:
        return iter((self.guide, self.lay_terms, self.red_flags))


def _path(value: str) -> Path:
    """Relative paths are read from the project root, wherever the process started."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def knowledge_files(env: Optional[Mapping[str, str]] = None) -> KnowledgeFiles:
    """The guide, lay-terms and red-flag files named by the environment (``os.environ``
    unless ``env`` is given), with the shipped files as defaults. Nothing is read here:
    callers check the files and name the one that is missing or malformed."""
    env = os.environ if env is None else env
    guide, lay_terms, red_flags = (_path(env.get(name, default)) for name, default in DEFAULTS.items())
    return KnowledgeFiles(guide=guide, lay_terms=lay_terms, red_flags=red_flags)


def content_fingerprint(*paths: Path) -> str:
    """SHA-256 of the files' contents, in order (a missing file counts as ``<missing>``).

    Contents only, not where the files are: the same knowledge gives the same
    fingerprint in any checkout."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"<missing>")
        digest.update(b"\x00")  # so that moving bytes from one file to the next shows
    return digest.hexdigest()


def main() -> int:
    for path in knowledge_files():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
