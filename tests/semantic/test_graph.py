"""The ONNX graph written by make install (semantic/graph.py)."""

import json
import struct

import numpy as np
import pytest

from semantic import encoder, graph


def test_safetensors_are_read_without_the_safetensors_package(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, 8], dtype=np.int64)
    header = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
              "__metadata__": {"format": "pt"}}
    raw = json.dumps(header).encode()
    (tmp_path / "t.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + a.tobytes() + b.tobytes())
    tensors = graph.read_safetensors(tmp_path / "t.safetensors")
    assert set(tensors) == {"a", "b"}
    assert np.array_equal(tensors["a"], a) and np.array_equal(tensors["b"], b)


def test_a_graph_written_from_the_weights_gives_the_installed_encoders_vectors(tmp_path):
    installed = encoder.model_dir()
    for name in ("model.safetensors", "vocab.txt"):
        (tmp_path / name).symlink_to(installed / name)
    assert graph.write(tmp_path) == tmp_path / graph.GRAPH_FILE
    assert not list(tmp_path.glob("*.part"))
    fresh = encoder.Encoder(tmp_path)
    texts = ["who treats calcium in the kidneys?", "", "a much longer message " * 20]
    assert np.allclose(fresh.encode(texts), encoder.load().encode(texts), atol=1e-6)


def test_padding_does_not_change_a_vector():
    enc = encoder.load()
    short, long_ = "kidney", "what should i bring to my first appointment with the specialist?"
    together = enc.encode([short, long_], batch_size=2)  # the short one is padded
    assert np.allclose(together[0], enc._forward([enc.tokenizer.encode(short, encoder.MAX_TOKENS)])[0], atol=1e-5)


def test_without_the_graph_the_encoder_says_how_to_install_it(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n")
    with pytest.raises(encoder.EncoderMissing, match="make install"):
        encoder.Encoder(tmp_path)
