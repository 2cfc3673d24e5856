"""The inverted file the suggested answers search: what it finds of an exact scan, rows added
after it was built, and the corpus that uses it over vector_index.MIN_ROWS rows."""

from __future__ import annotations

import numpy as np
import pytest

from tierline.assist import answers, vector_index
from tierline.assist.vector_index import InvertedFile


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def clustered() -> np.ndarray:
    """4,000 vectors around 200 topics (each one a topic plus noise), as tickets cluster."""
    rng = np.random.default_rng(3)
    topics = unit(rng.normal(size=(200, 384)))
    return unit(topics[rng.integers(0, 200, 4000)] + rng.normal(0, 0.03, (4000, 384)))


def test_probing_finds_what_the_exact_scan_finds(clustered):
    # given
    index = InvertedFile.build(clustered)
    queries = unit(clustered[:50] + np.random.default_rng(4).normal(0, 0.03, (50, 384)))

    # when
    recall = []
    for query in queries:
        exact = set(np.argsort(-(clustered @ query))[:5])
        rows, scores = index.search(query)
        recall.append(len(exact & set(rows[np.argsort(-scores)[:5]])) / 5)

    # then
    assert len(index.centroids) == 63 and index.size == 4000
    assert np.mean(recall) >= 0.95


def test_rows_added_after_the_build_are_found_and_kept_in_order(clustered):
    # given
    index = InvertedFile.build(clustered[:3000])

    # when
    grown = index.add(clustered[3000:], np.arange(3000, 4000))

    # then: the old index is unchanged, the new one finds a new row as itself
    assert index.size == 3000 and grown.size == 4000
    rows, scores = grown.search(clustered[3500])
    assert rows[np.argmax(scores)] == 3500
    assert np.array_equal(grown.matrix(4000), clustered)


def test_corpus_over_the_threshold_ranks_through_the_index(monkeypatch, clustered):
    # given: a corpus past the (lowered) threshold, then one row replaced and one added
    monkeypatch.setattr(vector_index, "MIN_ROWS", 1000)
    corpus = answers.Corpus()
    texts = [f"printer {i % 7} jam tray" if i % 2 else f"vpn {i % 5} drops" for i in range(4000)]
    corpus._add([("ticket", i, clustered[i].tobytes(), texts[i]) for i in range(4000)])
    corpus._add([("ticket", 10, clustered[10].tobytes(), "monitor flickers")])
    corpus._add([("ticket", 5000, clustered[20].tobytes(), "keyboard sticky keys")])
    state = corpus.state

    # when
    by_meaning = answers.nearest_by_meaning(state, clustered[10], ~state.live)
    exact = answers.nearest_by_meaning(state, clustered[10], ~state.live, exact=True)
    by_words = answers.nearest_by_words(state, "sticky keyboard", ~state.live)

    # then: the replaced row's old place is dead, its new one found; the tail's words found
    assert state.index is not None and state.vectors is None
    assert 10 not in by_meaning and state.keys[("ticket", 10)] == 4000
    assert by_meaning[0] == 4000 and set(by_meaning[:5]) == set(exact[:5])
    assert by_words == [state.keys[("ticket", 5000)]]
