"""all-MiniLM-L6-v2: text in, a unit-length 384-dimension vector out.

Run with TensorFlow, which the Rasa stack already loads: one traced graph for any
batch and length, on oneDNN's kernels. Measured on this project's 2-core machine
(one 23-piece message, median of 80): numpy/OpenBLAS 19-21 ms, TensorFlow 12 ms,
TensorFlow with XLA the same as without (``make bench`` reports the per-message cost
beside the rest of a turn). The weights are read from the safetensors file without
the ``safetensors`` or ``torch`` packages (a JSON header, then raw little-endian
arrays). Mean pooling over the word pieces and L2 normalisation, as the model's
sentence-transformers configuration says.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from semantic.wordpiece import WordPiece

MODEL_NAME = "all-MiniLM-L6-v2"
# Where tools/install_encoder.py unpacks the PyPI package's model files.
DEFAULT_DIR = Path(sys.prefix) / "share" / "encoders" / MODEL_NAME
ENV_DIR = "ENCODER_DIR"
MAX_TOKENS = 256  # the model's max_seq_length
DIMENSION = 384
LAYERS = 6
HEADS = 12
EPS = 1e-12
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class EncoderMissing(RuntimeError):
    """The model files are not where they should be (run ``make install``)."""


def model_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or DEFAULT_DIR)


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=_DTYPES[info["dtype"]], count=int(np.prod(info["shape"])),
                              offset=base + start)
        tensors[name] = array.reshape(info["shape"])
    return tensors


class Encoder:
    def __init__(self, directory: Path) -> None:
        weights_file = directory / "model.safetensors"
        vocab_file = directory / "vocab.txt"
        if not weights_file.is_file() or not vocab_file.is_file():
            raise EncoderMissing(f"the sentence encoder is not installed in {directory} "
                                 f"(run `make install`, or set {ENV_DIR})")
        self.directory = directory
        self._traced = None
        self.tokenizer = WordPiece.from_file(vocab_file)
        w = read_safetensors(weights_file)
        f32 = lambda name: np.ascontiguousarray(w[name], dtype=np.float32)  # noqa: E731
        self.word = f32("embeddings.word_embeddings.weight")
        self.position = f32("embeddings.position_embeddings.weight")
        self.token_type = f32("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append({
                "qkv_w": np.ascontiguousarray(qkv_w.T, dtype=np.float32), "qkv_b": qkv_b.astype(np.float32),
                "out_w": np.ascontiguousarray(f32(p + "attention.output.dense.weight").T),
                "out_b": f32(p + "attention.output.dense.bias"),
                "ln1": (f32(p + "attention.output.LayerNorm.weight"), f32(p + "attention.output.LayerNorm.bias")),
                "in_w": np.ascontiguousarray(f32(p + "intermediate.dense.weight").T),
                "in_b": f32(p + "intermediate.dense.bias"),
                "ff_w": np.ascontiguousarray(f32(p + "output.dense.weight").T),
                "ff_b": f32(p + "output.dense.bias"),
                "ln2": (f32(p + "output.LayerNorm.weight"), f32(p + "output.LayerNorm.bias")),
            })

    def _graph(self):
        """The traced forward pass: (ids, mask) of shape (batch, length) -> unit vectors."""
        import tensorflow as tf

        const = lambda a: tf.constant(a)  # noqa: E731
        word, position, token_type = const(self.word), const(self.position), const(self.token_type)
        emb_ln = tuple(map(const, self.emb_ln))
        layers = [{k: tuple(map(const, v)) if isinstance(v, tuple) else const(v) for k, v in layer.items()}
                  for layer in self.layers]
        head = DIMENSION // HEADS

        def norm(x, weight, bias):
            mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) * tf.math.rsqrt(var + EPS) * weight + bias

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32),
                                      tf.TensorSpec([None, None], tf.float32)])
        def forward(ids, mask):
            size, length = tf.shape(ids)[0], tf.shape(ids)[1]
            x = norm(tf.gather(word, ids) + position[:length] + token_type, *emb_ln)
            bias = ((1.0 - mask) * -1e9)[:, None, None, :]
            for layer in layers:
                qkv = tf.matmul(x, layer["qkv_w"]) + layer["qkv_b"]
                qkv = tf.transpose(tf.reshape(qkv, [size, length, 3, HEADS, head]), [2, 0, 3, 1, 4])
                scores = tf.matmul(qkv[0], qkv[1], transpose_b=True) * (1.0 / np.sqrt(head)) + bias
                context = tf.matmul(tf.nn.softmax(scores), qkv[2])
                context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [size, length, DIMENSION])
                x = norm(tf.matmul(context, layer["out_w"]) + layer["out_b"] + x, *layer["ln1"])
                hidden = tf.matmul(x, layer["in_w"]) + layer["in_b"]
                hidden = 0.5 * hidden * (1.0 + tf.math.erf(hidden * 0.7071067811865476))
                x = norm(tf.matmul(hidden, layer["ff_w"]) + layer["ff_b"] + x, *layer["ln2"])
            pooled = tf.reduce_sum(x * mask[:, :, None], 1) / tf.maximum(tf.reduce_sum(mask, 1, keepdims=True), 1.0)
            return pooled / tf.maximum(tf.norm(pooled, axis=1, keepdims=True), 1e-12)

        return forward

    def _forward(self, batch: List[List[int]]) -> np.ndarray:
        if self._traced is None:
            self._traced = self._graph()
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int32)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1.0
        return self._traced(ids, mask).numpy().astype(np.float32)

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
