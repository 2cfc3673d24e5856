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


# --- auto-triage's int8 copy -----------------------------------------------------------------


def test_the_int8_copy_stays_close_to_the_float32_model():
    # given: the texts of the reference, and ticket-like ones, cut as triage cuts them
    texts = [
        *REFERENCE["sentences"],
        "printer jam on floor 3 " * 40,
        "Outlook & Teams <b>crash</b>\nafter the update",
        "",
    ]
    tokens = embedding.TRIAGE_TOKENS
    # when
    int8 = embedding.triage_encoder().encode(texts, max_tokens=tokens)
    float32 = embedding.encoder().encode(texts, max_tokens=tokens)
    # then: unit vectors, close to the float32 ones (measured: median 0.994 on 400 tickets)
    assert int8.dtype == np.float32 and int8.shape == (len(texts), embedding.DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosines = (int8 * float32).sum(axis=1)
    assert cosines.min() >= 0.97, cosines
    assert np.median(cosines) >= 0.985, cosines
    # and the same text gives the same vector alone and in a batch (stored vectors are reused)
    alone = embedding.triage_vectors([texts[1]])[0]
    np.testing.assert_allclose(alone, embedding.triage_vectors(texts)[1], atol=1e-5)


def test_the_triage_vectors_read_only_the_first_word_pieces():
    start = "my laptop will not connect to the office wifi since this morning"
    a = embedding.triage_vectors([start + " and the printer is out of toner " * 20])
    b = embedding.triage_vectors([start + " the coffee machine is broken too " * 20])
    c = embedding.triage_vectors([start])
    assert float(a[0] @ b[0]) > float(a[0] @ c[0]) - 0.2  # the tails barely count...
    assert float(a[0] @ b[0]) < 1.0  # ...but the first 32 pieces include a few of them


def test_int8_does_not_fall_back_to_float32_when_onnx_runtime_fails(monkeypatch):
    # A triage model learned from int8 vectors: float32 ones would not be what it learned.
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    from tierline.assist import onnx_graph

    def broken(*args, **kwargs):
        raise Fail("[ONNXRuntimeError] : 1 : FAIL : no MatMulInteger here")

    monkeypatch.setattr(onnx_graph, "session", broken)
    with pytest.raises(embedding.ModelMissing, match="int8"):
        embedding.Encoder(int8=True)
    with pytest.raises(ValueError, match="ONNX Runtime only"):
        embedding.Encoder(engine="numpy", int8=True)


def test_triage_vectors_in_chunks_are_those_of_each_text_alone(monkeypatch):
    texts = [*REFERENCE["sentences"][:4], "", "vpn " * 300, "printer jam"]
    monkeypatch.setattr(embedding, "TRIAGE_CHUNK", 3)
    chunked = embedding.triage_vectors(texts)
    assert chunked.shape == (len(texts), embedding.DIMENSIONS)
    for text, vector in zip(texts, chunked, strict=True):
        np.testing.assert_allclose(vector, embedding.triage_vectors([text])[0], atol=1e-6)
    assert embedding.triage_vectors([]).shape == (0, embedding.DIMENSIONS)
