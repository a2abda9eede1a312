"""all-MiniLM-L6-v2 written out as an ONNX graph, from the PyPI package's safetensors file.

Built once by ``make install`` (tools/install_encoder.py) into the encoder's folder as
``model.onnx``; semantic.encoder runs it with ONNX Runtime. Why ONNX Runtime and not
TensorFlow, which the Rasa stack loads anyway: on this project's 2-core machine, one
20-piece message, median of 100, side by side in one run: TensorFlow (a traced
``tf.function``) 8.9 ms, ONNX Runtime on one thread 4.1 ms, on two threads 6.8 ms; the
vectors agree to 2e-7. Dynamic int8 quantisation ran in 1.5 ms but moved the vectors
(median cosine to float32 0.967, nearest neighbour among 120 patient messages changed
for 22%), so the weights stay float32.

The graph is the BERT encoder as the model's configuration describes it: word +
position + token-type embeddings, six layers of 12-head self-attention and a GELU
(erf) feed-forward, each with a residual LayerNorm; then mean pooling over the word
pieces and L2 normalisation (sentence-transformers' pooling configuration). The
weights are read without the ``safetensors`` or ``torch`` packages (a JSON header,
then raw little-endian arrays). The ``onnx`` package is needed only here, at install.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Dict, List

import numpy as np

DIMENSION = 384
LAYERS = 6
HEADS = 12
EPS = 1e-12
OPSET = 17  # LayerNormalization is an ONNX operator from opset 17
GRAPH_FILE = "model.onnx"
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, _ = info["data_offsets"]
        array = np.frombuffer(data, dtype=_DTYPES[info["dtype"]], count=int(np.prod(info["shape"])),
                              offset=base + start)
        tensors[name] = array.reshape(info["shape"])
    return tensors


class _Builder:
    """Collects nodes and weights; each node gets a unique name (ONNX Runtime's
    optimiser refuses a graph whose fused nodes would share an empty name)."""

    def __init__(self) -> None:
        self.nodes: List = []
        self.weights: List = []
        self._count = 0

    def const(self, name: str, value) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes) -> str:
        from onnx import helper

        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attributes))
        return out

    def layer_norm(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        return self.op("LayerNormalization", x, self.const(name + ".weight", weight),
                       self.const(name + ".bias", bias), axis=-1, epsilon=EPS)

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # PyTorch stores (out, in); MatMul wants (in, out)
        w = self.const(name + ".weight", np.ascontiguousarray(weight.T, dtype=np.float32))
        return self.op("Add", self.op("MatMul", x, w), self.const(name + ".bias", bias.astype(np.float32)))


def build(weights_file: Path):
    """The ONNX model: inputs ``ids`` (int64, batch x length) and ``mask`` (float32, 1 for
    a word piece, 0 for padding); output ``vectors`` (float32, batch x 384, unit length)."""
    from onnx import TensorProto, checker, helper

    w = {k: np.asarray(v, dtype=np.float32) for k, v in read_safetensors(weights_file).items()
         if v.dtype != np.int64}
    g = _Builder()
    head = DIMENSION // HEADS
    one = g.const("one", np.array(1.0, np.float32))
    axis_1 = g.const("axis_1", np.array([1], np.int64))
    axis_last = g.const("axis_last", np.array([-1], np.int64))
    picks = [g.const(f"pick_{i}", np.array(i, np.int64)) for i in range(3)]
    qkv_shape = g.const("qkv_shape", np.array([0, 0, 3, HEADS, head], np.int64))
    context_shape = g.const("context_shape", np.array([0, 0, DIMENSION], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(head), np.float32))

    # embeddings: word + position (the first `length` rows) + token type 0
    length = g.op("Slice", g.op("Shape", "ids"), axis_1, g.const("two", np.array([2], np.int64)))
    positions = g.op("Slice", g.const("position", w["embeddings.position_embeddings.weight"]),
                     g.const("zero", np.array([0], np.int64)), length, g.const("axis_0", np.array([0], np.int64)))
    x = g.op("Add", g.op("Gather", g.const("word", w["embeddings.word_embeddings.weight"]), "ids"), positions)
    x = g.op("Add", x, g.const("token_type", w["embeddings.token_type_embeddings.weight"][0]))
    x = g.layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], "embeddings.ln")
    # padding gets -1e9 before the softmax: (batch, 1, 1, length)
    bias = g.op("Mul", g.op("Sub", one, "mask"), g.const("minus_inf", np.array(-1e9, np.float32)))
    bias = g.op("Unsqueeze", bias, g.const("axes_1_2", np.array([1, 2], np.int64)))

    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        qkv = g.linear(x, qkv_w, qkv_b, p + "qkv")
        # (batch, length, 3*384) -> (3, batch, heads, length, 32)
        qkv = g.op("Transpose", g.op("Reshape", qkv, qkv_shape), perm=[2, 0, 3, 1, 4])
        q, k, v = (g.op("Gather", qkv, pick, axis=0) for pick in picks)
        scores = g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]))
        scores = g.op("Add", g.op("Mul", scores, scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), context_shape)
        attended = g.linear(context, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"],
                            p + "attention.output")
        x = g.layer_norm(g.op("Add", attended, x), w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], p + "ln1")
        hidden = g.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"], p + "in")
        erf = g.op("Erf", g.op("Mul", hidden, g.const(p + "rsqrt2", np.array(0.7071067811865476, np.float32))))
        hidden = g.op("Mul", g.op("Mul", hidden, g.const(p + "half", np.array(0.5, np.float32))),
                      g.op("Add", one, erf))
        out = g.linear(hidden, w[p + "output.dense.weight"], w[p + "output.dense.bias"], p + "out")
        x = g.layer_norm(g.op("Add", out, x), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
                         p + "ln2")

    # mean over the word pieces, then unit length
    summed = g.op("ReduceSum", g.op("Mul", x, g.op("Unsqueeze", "mask", axis_last)), axis_1, keepdims=0)
    pooled = g.op("Div", summed, g.op("Max", g.op("ReduceSum", "mask", axis_1, keepdims=1), one))
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[-1], keepdims=1),
                g.const("tiny", np.array(1e-12, np.float32)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["vectors"], name="vectors"))

    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", DIMENSION])],
        g.weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="calcified-lesions-assistant")
    model.ir_version = 8  # what ONNX Runtime 1.18 reads
    checker.check_model(model)
    return model


def write(directory: Path) -> Path:
    """Build ``model.onnx`` in ``directory`` from its ``model.safetensors``."""
    import onnx

    target = directory / GRAPH_FILE
    partial = target.with_suffix(".onnx.part")
    onnx.save(build(directory / "model.safetensors"), str(partial))
    partial.replace(target)
    return target
