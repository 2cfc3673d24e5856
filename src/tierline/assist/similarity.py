"""How alike two tickets read: TF-IDF cosine over subject and description. No Django.

Why TF-IDF cosine and not a token-set Jaccard: Jaccard counts "the", "please" and "thanks" as
much as "VPN" or "payroll", and falls with the length of the longer text (a one-line report and
the same fault described in a paragraph share few of their words). TF-IDF gives a word the
weight of its rarity among the recent tickets (the `background` texts) and cosine is
length-normalised, so two short reports of the same fault score high and two long unrelated
ones that share the desk's boilerplate score low. Words alone, sublinear term frequency, the same
cleaning as the triage classifier; fitted afresh on each call over a few hundred texts
(milliseconds), so nothing is trained, stored or downloaded. Bigrams were tried: three people's
words for one VPN fault scored 0.38-0.42 with them and 0.61-0.67 without, while unrelated pairs
of the shared data set stay under 0.2 (99th percentile) either way; hence the defaults
(ASSIST_DUPLICATE_SIMILARITY 0.5, ASSIST_BURST_SIMILARITY 0.4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from tierline.assist.classifier import clean_text


def similarity_matrix(texts: Sequence[str], background: Sequence[str] = ()) -> np.ndarray:
    """The cosine similarity (0..1) of every pair of `texts`, the words weighted by their rarity
    among `texts` and `background` together. A text with no word scores 0 with every other."""
    if not texts:
        return np.zeros((0, 0))
    cleaned = [clean_text(t) for t in texts]
    corpus = cleaned + [clean_text(t) for t in background]
    vectorizer = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True)
    try:
        vectorizer.fit(corpus)
    except ValueError:  # no word in any text (empty, or punctuation only)
        return np.eye(len(texts))
    vectors = vectorizer.transform(cleaned)  # rows are L2-normalised: the dot is the cosine
    matrix = (vectors @ vectors.T).toarray()
    return np.clip(matrix, 0.0, 1.0)
