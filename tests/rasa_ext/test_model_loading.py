"""The trained model loaded without Rasa's one-example training step (rasa_ext/model_loading.py)
predicts exactly what Rasa's own loading gives: every intent and confidence of the NLU test
set, each way loaded in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import trained_model

ROOT = Path(__file__).resolve().parents[2]


def parse_all(model: str, way: str, out: Path) -> dict:
    subprocess.run([sys.executable, __file__, model, way, str(out)], cwd=ROOT, check=True, timeout=600,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def test_predictions_equal_rasas_loading(tmp_path):
    model = trained_model()
    stock = parse_all(model, "stock", tmp_path / "stock.json")
    ours = parse_all(model, "ours", tmp_path / "ours.json")
    assert stock["training_steps"] > 0 and ours["training_steps"] == 0  # each way did what it says
    assert len(stock["rankings"]) > 300
    assert ours["rankings"] == stock["rankings"]


def _worker(model: str, way: str, out: str) -> None:
    """Loads ``model`` Rasa's way or ours and writes every test message's intent ranking."""
    import asyncio

    import yaml

    from tools.rasa_cli import disable_phoning_home, skip_unused_imports

    skip_unused_imports()
    disable_phoning_home()
    import tensorflow as tf
    from rasa.core.agent import load_agent

    from rasa_ext import model_loading

    if way == "ours":
        model_loading.install()
    steps = []
    fit = tf.keras.Model.fit
    tf.keras.Model.fit = lambda self, *a, **k: steps.append(1) or fit(self, *a, **k)
    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(load_agent(model_path=model))
    texts = []
    for block in yaml.safe_load((ROOT / "tests" / "nlu" / "test_nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        texts += [line.strip()[2:] for line in str(block.get("examples") or "").splitlines()
                  if line.strip().startswith("- ")]
    rankings = {}
    for text in texts:
        parsed = loop.run_until_complete(agent.parse_message(text))
        rankings[text] = [[r["name"], float(r["confidence"])] for r in parsed["intent_ranking"]]
    Path(out).write_text(json.dumps({"training_steps": len(steps), "rankings": rankings}), encoding="utf-8")


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
