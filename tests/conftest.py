import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GUIDE = ROOT / "knowledge" / "calcified-lesions.txt"
LAY_TERMS = ROOT / "knowledge" / "lay_terms.yml"
RED_FLAGS = ROOT / "knowledge" / "red_flags.yml"
SPACY_MODEL = ROOT / "build" / "spacy-en"


@pytest.fixture(scope="session")
def guide():
    from guide.parsing import load_guide

    return load_guide(GUIDE, LAY_TERMS)


@pytest.fixture(scope="session")
def nlp():
    import spacy

    if not (SPACY_MODEL / "meta.json").exists():
        from nlu_components.spacy_pipeline import build

        build(SPACY_MODEL)
    return spacy.load(SPACY_MODEL)
