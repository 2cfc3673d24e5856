"""Both engines of all-MiniLM-L6-v2 (ONNX Runtime and NumPy) against the real sentence-transformers.

`data/minilm_reference.json` holds the embeddings sentence-transformers 6.2.0 (torch 2.13.0,
CPU, max_seq_length 128, normalised) gave for ten texts (English, French, German, HTML, empty,
one word, a long paragraph), computed once in a virtualenv outside the repository; each of the
app's own engines must give the same vectors (cosine >= 0.999).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tierline.assist import embedding

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="session")
def numpy_encoder() -> embedding.Encoder:
    return embedding.Encoder(engine="numpy")


@pytest.fixture(scope="session", params=embedding.ENGINES)
def encoder(request, numpy_encoder) -> embedding.Encoder:
    """The process's model (ONNX Runtime), then the NumPy one: every test below runs on both."""
    if request.param == "numpy":
        return numpy_encoder
    return embedding.encoder()


def test_the_process_model_runs_on_onnx_runtime():
    assert embedding.encoder().engine == "onnx"
    assert embedding.encoder().layers == []  # the NumPy copy of the weights was let go


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        embedding.Encoder(engine="torch")


def test_the_engines_agree_on_every_length_and_batching(numpy_encoder):
    texts = [
        *REFERENCE["sentences"],
        "printer jam on floor 3 " * 40,
        "vpn",
        "Outlook & Teams <b>crash</b>\nafter the update",
    ]
    for max_tokens in (16, 64, 128):
        for batch_size in (1, 32):
            ours = embedding.encoder().encode(texts, batch_size=batch_size, max_tokens=max_tokens)
            reference = numpy_encoder.encode(texts, batch_size=batch_size, max_tokens=max_tokens)
            cosines = (ours * reference).sum(axis=1)
            assert cosines.min() >= 0.99999, (max_tokens, batch_size, cosines)


def test_forward_pass_matches_sentence_transformers(encoder):
    ours = encoder.encode(REFERENCE["sentences"])
    reference = np.array(REFERENCE["embeddings"], dtype=np.float32)
    cosines = (ours * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.shape == (len(REFERENCE["sentences"]),)
    assert cosines.min() >= 0.999, cosines


def test_vectors_are_unit_length_float32_whatever_the_batching(encoder):
    texts = REFERENCE["sentences"]
    together = encoder.encode(texts, batch_size=4)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert together.dtype == np.float32 and together.shape == (len(texts), embedding.DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Padding a text in a batch with longer ones changes nothing it reads.
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_meaning_not_words_paraphrase_scores_above_an_unrelated_text(encoder):
    vpn, paraphrase, printer = encoder.encode(
        [
            "My laptop cannot connect to the VPN since this morning.",
            "Remote access tunnel fails to establish from my notebook today.",
            "The printer on the third floor keeps jamming paper.",
        ]
    )
    assert float(vpn @ paraphrase) > float(vpn @ printer) + 0.1


def test_bad_input_never_crashes(encoder):
    texts = [
        "",
        " ",
        "\x00",
        "<script>alert(1)</script>",
        "网络连接失败",
        "x" * 200_000,
        "🙂" * 500,
    ]
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), embedding.DIMENSIONS)
    assert np.isfinite(vectors).all()
    assert encoder.encode([]).shape == (0, embedding.DIMENSIONS)


def test_numpy_runs_when_onnx_runtime_cannot_load_the_graph(monkeypatch, caplog, numpy_encoder):
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    from tierline.assist import onnx_graph

    def broken(*args, **kwargs):
        # ONNX Runtime's own error, as a session that can't be built raises it (a subclass of
        # Exception only: catching RuntimeError missed it).
        raise Fail("[ONNXRuntimeError] : 1 : FAIL : Failed to find existing initializer")

    monkeypatch.setattr(onnx_graph, "session", broken)
    fallback = embedding.Encoder()
    assert fallback.engine == "numpy"
    assert "using NumPy" in caplog.text
    text = ["The printer on the third floor keeps jamming paper."]
    np.testing.assert_allclose(fallback.encode(text), numpy_encoder.encode(text), atol=1e-6)
