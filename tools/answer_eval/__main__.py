"""``python -m tools.answer_eval``: see ``tools/answer_eval/__init__.py``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from elsewhere (python tools/answer_eval)
    sys.path.insert(0, str(ROOT))

from tools.answer_eval.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
