"""The pairwise similarity the duplicate search uses gives what the whole TF-IDF matrix gives."""

from __future__ import annotations

import numpy as np
import pytest

from tests.assist.slice import TEXT, rows
from tests.assist.test_duplicates import OTHER, VPN
from tierline.assist.similarity import Pairwise, similarity_matrix


def _texts() -> list[str]:
    mixed = [f"{s}\n{d}" for s, d in VPN + OTHER]
    return mixed + [r[TEXT] for r in rows()[:60]]


@pytest.mark.parametrize("background_size", [0, 1, 200])
def test_pairwise_scores_are_the_matrix(background_size):
    texts = _texts()
    background = [r[TEXT] for r in rows()[100 : 100 + background_size]]
    matrix = similarity_matrix(texts, background)
    pairs = Pairwise(texts, background)
    got = np.array([[pairs(i, j) for j in range(len(texts))] for i in range(len(texts))])
    assert got.shape == matrix.shape
    np.testing.assert_allclose(got, matrix, rtol=0, atol=1e-9)
    # The VPN reports read alike, a VPN report and the payroll question do not.
    assert pairs(0, 1) >= 0.4 and pairs(0, len(VPN) + 2) < 0.2


def test_texts_without_words_score_as_the_matrix():
    for texts, background in [
        (["...", "!!"], []),
        (["...", "vpn down", "vpn down"], ["printer jam"]),
        (["", "<b></b>"], ["?"]),
    ]:
        matrix = similarity_matrix(texts, background)
        pairs = Pairwise(texts, background)
        got = np.array([[pairs(i, j) for j in range(len(texts))] for i in range(len(texts))])
        np.testing.assert_allclose(got, matrix, rtol=0, atol=1e-9)


def test_html_and_case_are_cleaned_as_the_matrix_cleans_them():
    texts = ["<p>VPN <b>DOWN</b></p> again", "vpn down again", "Ünïcode ÄÖ café"]
    background = ["the printer", "CAFÉ opening hours"]
    matrix = similarity_matrix(texts, background)
    pairs = Pairwise(texts, background)
    assert pairs(0, 1) == pytest.approx(matrix[0, 1], abs=1e-9) and pairs(0, 1) > 0.99
    assert pairs(1, 2) == pytest.approx(matrix[1, 2], abs=1e-9)
