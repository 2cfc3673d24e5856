"""Typo tolerance: the index's words, and the nearest of them to a word it lacks.

Every document saved adds its words (letters only, 3 to 40 of them, lower case) to
`SearchWord`; `tierline search reindex` builds the list again. When a search finds nothing,
each typed word the list lacks is replaced by its nearest ("pinter" becomes "printer") and
the search runs again with those words, saying so. The nearest: on PostgreSQL the words
similar by trigrams (pg_trgm's `%`, served by a GIN index); on SQLite, or a PostgreSQL where
the extension could not be created, the words of the same first letter and about the same
length; then, either way, the closest by difflib's ratio.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from django.db.models.functions import Length

from tierline.knowledge.models_search import SearchWord
from tierline.knowledge.search import backends

MIN_LENGTH = 3
MAX_LENGTH = 40
CANDIDATES = 20000  # at most this many words are compared in Python
CUTOFF = 0.7  # difflib ratio below which a word is not offered ("pinter"/"printer": 0.92)
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def words_of(*texts: str) -> set[str]:
    """The words of these texts worth remembering: letters only, lower case."""
    found: set[str] = set()
    for text in texts:
        for word in _LETTERS.findall((text or "").lower()):
            if MIN_LENGTH <= len(word) <= MAX_LENGTH:
                found.add(word)
    return found


def remember(words: Iterable[str]) -> None:
    """Add these words (those already known are skipped by the database)."""
    SearchWord.objects.bulk_create(
        [SearchWord(word=word) for word in sorted(words)], ignore_conflicts=True, batch_size=1000
    )


def nearest(word: str) -> str | None:
    """The known word closest to `word`, or None when none is close enough."""
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH:
        return None
    candidates = backends.similar_words(word, limit=50)
    if candidates is None:  # no trigram index: the same first letter, about the same length
        candidates = list(
            SearchWord.objects.filter(word__startswith=word[0])
            .annotate(length=Length("word"))
            .filter(length__range=(len(word) - 2, len(word) + 2))
            .values_list("word", flat=True)[:CANDIDATES]
        )
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=CUTOFF)
    return close[0] if close else None


def corrected(words: tuple[str, ...]) -> str | None:
    """The words with each unknown one replaced by its nearest known word, or None when no
    word changed."""
    known = set(SearchWord.objects.filter(word__in=words).values_list("word", flat=True))
    out, changed = [], False
    for word in words:
        better = None if word in known or not word.isalpha() else nearest(word)
        if better and better != word:
            out.append(better)
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None
