"""How alike two tickets read: TF-IDF cosine over subject and description. No Django.

Why TF-IDF cosine and not a token-set Jaccard: Jaccard counts "the", "please" and "thanks" as
much as "VPN" or "payroll", and falls with the length of the longer text (a one-line report and
the same fault described in a paragraph share few of their words). TF-IDF gives a word the
weight of its rarity among the recent tickets (the `background` texts) and cosine is
length-normalised, so two short reports of the same fault score high and two long unrelated
ones that share the desk's boilerplate score low. Words alone, sublinear term frequency, the same
cleaning as the triage classifier; fitted afresh on each call over a few hundred texts
(milliseconds), so nothing is trained, stored or downloaded. Bigrams were tried: three people's
words for one VPN fault scored about 0.4 with them and 0.6-0.7 without, while unrelated pairs of
the shared data set (tests/assist/data) stay under 0.2 (99th percentile) either way; hence words
alone and the defaults (ASSIST_DUPLICATE_SIMILARITY 0.5, ASSIST_BURST_SIMILARITY 0.4).
"""

from __future__ import annotations

from collections.abc import Sequence

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
