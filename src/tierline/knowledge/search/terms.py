"""What a typed search becomes, the same on both databases.

No operator, quote or bracket a person types can break a query or change its meaning: SQLite
gets only words (letters and digits, any script; at most MAX_WORDS), each quoted; PostgreSQL
gets the text to plainto_tsquery, which reads no operator (websearch_to_tsquery would read
"-word" and "or", which SQLite would not: the two must find the same). Every word must match
(in any order, any form: both engines stem English). Words the
PostgreSQL english configuration drops as stop words are dropped for SQLite as well, so
"the printer jam" finds the same tickets on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TEXT = 2000
MAX_WORDS = 16
MAX_WORD_LENGTH = 60
TICKET_NUMBER = re.compile(r"^\s*(?:([a-z]+)-?)?0*(\d{1,12})\s*$", re.IGNORECASE)
EMAIL = re.compile(r"^\s*([^@\s]+@[^@\s]+\.[^@\s]+)\s*$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# PostgreSQL's english stop words (snowball), which its parser drops from both sides.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing don down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own s same she should so some such t than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with you your yours yourself yourselves""".split()  # noqa: SIM905 (a list to read, not to edit)
)


@dataclass(frozen=True)
class Terms:
    text: str  # as typed (cut to MAX_TEXT): PostgreSQL parses it with its own parser
    words: tuple[str, ...]
    ticket_pk: int | None  # the text is a ticket number (TL-000123, 123) and nothing else
    email: str | None

    @property
    def empty(self) -> bool:
        return not self.words

    def as_postgres(self) -> str:
        """plainto_tsquery's input: the text as typed, so that PostgreSQL's parser cuts it as
        it cut the documents (an email, a host name stay one token); it reads no operator."""
        return self.text

    def as_fts5(self) -> str:
        """An FTS5 query: each word a quoted string (no operator can hide in it), all required."""
        return " ".join(f'"{word}"' for word in self.words)


def parse(text: str, prefix: str = "TL") -> Terms:
    """The words of `text` (lower case, stop words out), and a ticket number (with the site's
    `prefix` or none) or an email address if the text is nothing else."""
    text = (text or "")[:MAX_TEXT]
    number = TICKET_NUMBER.match(text)
    email = EMAIL.match(text)
    words = []
    for word in _WORD.findall(text.lower()):
        if word in STOP_WORDS or word in words:
            continue
        words.append(word[:MAX_WORD_LENGTH])
        if len(words) == MAX_WORDS:
            break
    ticket_pk = None
    if number and (number.group(1) is None or number.group(1).upper() == prefix.upper()):
        ticket_pk = int(number.group(2))
    return Terms(
        text=text,
        words=tuple(words),
        ticket_pk=ticket_pk,
        email=email.group(1) if email else None,
    )
