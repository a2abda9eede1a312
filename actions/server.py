"""Starts the action server after loading the guide once.

``python -m actions.server`` is what ``make run`` uses instead of ``rasa run actions``:
it checks the knowledge files first and exits with a clear message if one is missing
or malformed, rather than failing on the first patient's question.
"""

from __future__ import annotations

import logging
import sys

from actions import resources
from actions.knowledge import KnowledgeFileError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        loaded = resources.load()
    except KnowledgeFileError as exc:
        print(f"Action server not started: {exc}", file=sys.stderr)
        return 2
    guide = loaded.guide
    logging.getLogger(__name__).info(
        "Loaded the guide %s: %d sections, %d items",
        guide.path,
        len(guide.sections),
        sum(len(s.items) for s in guide.sections.values()),
    )
    from rasa_sdk.endpoint import run

    run("actions", port=loaded.settings.actions_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
