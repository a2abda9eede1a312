"""Which knowledge files a trained component was built from, checked when it is loaded.

The entity layer and the red-flag matcher keep their phrases in the model. If the
knowledge files named by ``guide.paths.knowledge_files`` (``GUIDE_FILE`` ...) no
longer hold what they were trained from, the action server answers from one guide
while the NLU recognises the phrases of another; loading says so instead of letting
the two disagree silently. (Retraining is the Makefile's job: the model's name is a
hash of the same files.)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import rasa.shared.utils.io

from guide.paths import content_fingerprint

logger = logging.getLogger(__name__)

SOURCE_FILE = "knowledge_source.json"


def record(folder: Path, files: Iterable[Path]) -> None:
    """Write the fingerprint of ``files`` into the component's model folder."""
    rasa.shared.utils.io.dump_obj_as_json_to_file(
        Path(folder) / SOURCE_FILE, {"fingerprint": content_fingerprint(*files)})


def warn_if_changed(folder: Path, files: Iterable[Path], component: str) -> bool:
    """Log a warning (and return True) when ``files`` differ from those recorded at training."""
    files = [Path(f) for f in files]
    source = Path(folder) / SOURCE_FILE
    if not source.exists():  # a model trained before the fingerprint was recorded
        return False
    if not all(f.is_file() for f in files):
        return False  # Rasa alone, without the knowledge files: nothing to compare with
    trained = rasa.shared.utils.io.read_json_file(source).get("fingerprint")
    if trained == content_fingerprint(*files):
        return False
    logger.warning(
        "%s was trained from other knowledge files than %s now hold; retrain the model "
        "(make train) so that the assistant recognises what it answers from",
        component, ", ".join(str(f) for f in files))
    return True
