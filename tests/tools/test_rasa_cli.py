"""What tools/rasa_cli.py sets before Rasa starts, checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
from tools.rasa_cli import skip_unused_imports
{skip}
import tensorflow as tf
import rasa.core.agent  # Rasa's whole server side, which imports TensorFlow's TFLite module
print(sys.modules.get("jax") is not None, float(tf.reduce_sum(tf.constant([1.0, 2.0]))))
"""


def run(skip: bool) -> str:
    code = CHECK.format(skip="skip_unused_imports()" if skip else "")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=300).stdout.split()


def test_jax_is_not_loaded_into_rasa_and_tensorflow_works():
    assert run(skip=True) == ["False", "3.0"]


def test_without_the_skip_tensorflow_loads_jax():
    """The reason for the skip: TensorFlow 2.12 imports jax whenever it is installed."""
    assert run(skip=False) == ["True", "3.0"]
