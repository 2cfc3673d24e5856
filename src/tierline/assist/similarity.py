"""How alike two tickets read: TF-IDF cosine over subject and description. No Django.

Why TF-IDF cosine and not a token-set Jaccard: Jaccard counts "the", "please" and "thanks" as
much as "VPN" or "payroll", and falls with the length of the longer text (a one-line report and
the same fault described in a paragraph share few of their words). TF-IDF gives a word the
weight of its rarity among the recent tickets (the `background` texts) and cosine is
length-normalised, so two short reports of the same fault score high and two long unrelated
ones that share the desk's boilerplate score low. Words alone, sublinear term frequency, the same
cleaning as the triage classifier; weighted afresh on each call over a few hundred texts, so
nothing is trained, stored or downloaded (only each text's word counts are cached, by text:
`Pairwise`, what the duplicate search uses, scores one pair at a time). Bigrams were tried: three people's
words for one VPN fault scored about 0.4 with them and 0.6-0.7 without, while unrelated pairs of
the shared data set (tests/assist/data) stay under 0.2 (99th percentile) either way; hence words
alone and the defaults (ASSIST_DUPLICATE_SIMILARITY 0.5, ASSIST_BURST_SIMILARITY 0.4).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from tierline.assist.classifier import clean_text


def similarity_matrix(texts: Sequence[str], background: Sequence[str] = ()) -> np.ndarray:
    """The cosine similarity (0..1) of every pair of `texts`, each word weighted by its rarity
    among the `background` texts. A text with no word scores 0 with every other.

    The rarity is counted over the background alone, not over the texts compared: ten reports
    of one VPN fault must not make "vpn" a common word, and two tickets of a new desk (no
    background yet) are compared by their words' counts alone (every weight 1).
    """
    if not texts:
        return np.zeros((0, 0))
    cleaned = [clean_text(t) for t in texts]
    rest = [clean_text(t) for t in background]
    counter = TfidfVectorizer(use_idf=False, norm=None, sublinear_tf=True)
    try:
        counts = counter.fit_transform(cleaned + rest).tocsr()
    except ValueError:  # no word in any text (empty, or punctuation only)
        return np.eye(len(texts))
    seen_in = np.asarray((counts[len(cleaned) :] > 0).sum(axis=0)).ravel()
    idf = np.log((1 + len(rest)) / (1 + seen_in)) + 1  # scikit-learn's smooth idf
    vectors = normalize(counts[: len(cleaned)].multiply(idf).tocsr())
    matrix = (vectors @ vectors.T).toarray()
    return np.clip(matrix, 0.0, 1.0)


# The words of a text as TfidfVectorizer's default analyser finds them (two or more word
# characters, lower-cased), after clean_text.
_WORD = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=2048)
def _counts(text: str) -> tuple[tuple[str, float], ...]:
    """Each word of `text` with its sublinear term frequency (1 + ln count); cached, since a
    burst compares each new ticket with the same few hundred recent texts."""
    counted = Counter(_WORD.findall(clean_text(text).lower()))
    return tuple((word, 1.0 + math.log(n)) for word, n in counted.items())


class Pairwise:
    """What `similarity_matrix(texts, background)[i, j]` gives, one pair at a time.

    The same TF-IDF cosine (sublinear term frequency, scikit-learn's smooth idf counted over
    the background alone, length-normalised), without building the vocabulary or the whole
    matrix: a new ticket is compared with a few hundred others but only a handful of pairs are
    ever asked for, and each text's words are counted once (cached by text). Scores agree with
    the matrix to rounding (tests/assist/test_similarity.py).
    """

    def __init__(self, texts: Sequence[str], background: Sequence[str] = ()) -> None:
        self._counts = [_counts(t) for t in texts]
        self._seen_in: Counter[str] = Counter()
        for text in background:
            self._seen_in.update(word for word, _ in _counts(text))
        self._n = len(background)
        self._idf: dict[str, float] = {}
        # Each text's vector when first asked for: most pairs are never scored.
        self._vectors: dict[int, dict[str, float]] = {}
        # No word anywhere: similarity_matrix answers with the identity.
        self._no_words = not any(self._counts) and not self._seen_in

    def _weight(self, word: str) -> float:
        idf = self._idf.get(word)
        if idf is None:  # scikit-learn's smooth idf, over the background alone
            idf = self._idf[word] = math.log((1 + self._n) / (1 + self._seen_in[word])) + 1
        return idf

    def _vector(self, i: int) -> dict[str, float]:
        vector = self._vectors.get(i)
        if vector is None:
            weighted = {w: tf * self._weight(w) for w, tf in self._counts[i]}
            length = math.sqrt(sum(v * v for v in weighted.values()))
            vector = {w: v / length for w, v in weighted.items()} if length else {}
            self._vectors[i] = vector
        return vector

    def __call__(self, i: int, j: int) -> float:
        if self._no_words:
            return 1.0 if i == j else 0.0
        a, b = self._vector(i), self._vector(j)
        if len(b) < len(a):
            a, b = b, a
        score = sum(v * b[w] for w, v in a.items() if w in b)
        return min(max(score, 0.0), 1.0)
