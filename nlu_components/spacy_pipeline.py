"""The small spaCy pipeline the assistant uses (English tokenizer + lookup lemmatizer):
built here, and loaded once per process for the entity layer and the red-flag matcher.

Why not a pretrained ``en_core_web_*`` model: those are not published on PyPI, and the
assistant needs only tokens and lemmas (for the featurizers and the entity layer), not
word vectors, tags or parses. The lemma table comes from ``spacy-lookups-data`` (PyPI),
so the pipeline is rebuilt identically on any machine from pinned packages.

Usage: ``python -m nlu_components.spacy_pipeline build/spacy-en``
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def load_spacy(path: str):
    """The pipeline at ``path``, loaded once per process however many components use it."""
    import spacy

    return spacy.load(path)


def build(out_dir: Path) -> Path:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "calcified_lesions_lookup"
    nlp.meta["description"] = "Tokenizer and lookup lemmatizer for the patient assistant"
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nlu_components.spacy_pipeline OUT_DIR", file=sys.stderr)
        return 2
    print(f"spaCy pipeline written to {build(Path(argv[0]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
