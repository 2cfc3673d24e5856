"""The plain-language check: jargon, very long sentences and the reading grade of a text.

Pure Python, no Django: the reply composer's check (assist/views.py) and the knowledge base
article panel (assist/panels.py) hand it the text and the active glossary. It only advises; it
never stops anything being sent or saved.

    result = check(text, glossary=[GlossaryEntry("reboot", "restart")])
    result.score, result.grade, result.suggestions

- Sentences are split on ., ! and ? followed by a space and a capital (or the end), on blank
  lines and on list items; abbreviations ("e.g.", "i.e.", "Dr.", an initial) end nothing.
- The grade is Flesch-Kincaid's: 0.39 x words per sentence + 11.8 x syllables per word - 15.59,
  with syllables counted by a vowel-group heuristic (within a grade or so of a dictionary).
- Jargon is matched whole words or phrases, any case, with a plural ("-s", "-es", "'s"); nothing
  inside a web address, an email address or a code span (`...` or a ``` block) is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

LONG_SENTENCE_WORDS = 25  # a sentence with more words than this is flagged
TARGET_GRADE = 8.0  # plain English for the public: about what a 13-year-old reads easily
MIN_WORDS_FOR_GRADE = 15  # below this the grade of a text says little; it is shown, not flagged

ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "approx",
        "appt",
        "dept",
        "est",
        "incl",
        "min",
        "max",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "tel",
        "ext",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "a.m",
        "p.m",
        "fig",
        "ref",
        "ca",
        "co",
        "corp",
        "inc",
        "ltd",
        "jr",
        "sr",
    ]
)

# Not prose: web and email addresses, code spans and fenced blocks. Masked before anything is
# counted or matched, so their dots end no sentence and their words are no jargon.
_NOT_PROSE = re.compile(
    r"```.*?(?:```|\Z)"  # a fenced block (to the end if it is never closed)
    r"|`[^`\n]*`"  # a code span
    r"|\b(?:https?|ftp)://(?:[^\s<>\"]*[^\s<>\".,;:!?'’)\]])?"  # a web address, not its
    r"|\bwww\.[^\s<>\"]*[^\s<>\".,;:!?'’)\]]"  # sentence's closing punctuation
    r"|(?<![^\s<>\"(\[])[^\s<>\"@`]+@[^\s<>\"@`]+\.[^\s<>\"@`]*[^\s<>\"@`.,;:!?'’)\]]"  # an email address
    r"|\\\\[^\s]+",  # a UNC path (\\server\share)
    re.DOTALL | re.IGNORECASE,
)
_MASK = "\x00"

_WORD = re.compile(r"[^\W_](?:[^\W_]|['’.\-](?=[^\W_]))*")
_END = re.compile(r"[.!?]+[\"'”’)\]]*")
_LIST_ITEM = re.compile(r"\n[ \t]*(?:[-*•]|\d+[.)])[ \t]+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_NEXT_VISIBLE = re.compile(r"\s*(\S)")


@dataclass(frozen=True)
class GlossaryEntry:
    """A term and its plain alternative (a row of assist.GlossaryTerm, or any pair)."""

    term: str
    plain: str
    note: str = ""


@dataclass(frozen=True)
class JargonHit:
    """Where a glossary term appears: `text[start:end] == found`."""

    term: str
    found: str
    plain: str
    note: str
    start: int
    end: int


@dataclass(frozen=True)
class LongSentence:
    start: int
    end: int
    words: int
    opening: str  # its first few words, to find it by


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "jargon", "long_sentence" or "grade"
    message: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class CheckResult:
    words: int
    sentences: int
    grade: float | None  # Flesch-Kincaid, None for a text with no words
    score: int  # 0 (hard going) to 100 (plain)
    long_sentences: tuple[LongSentence, ...] = ()
    jargon: tuple[JargonHit, ...] = ()
    suggestions: tuple[Suggestion, ...] = field(default=())
    grade_flagged: bool = False

    @property
    def verdict(self) -> str:
        if self.score >= 80:
            return "Plain"
        if self.score >= 50:
            return "Fair"
        return "Hard to read"


def mask_not_prose(text: str) -> str:
    """The text with addresses and code replaced by a filler of the same length (positions
    keep)."""
    return _NOT_PROSE.sub(lambda m: _MASK * len(m.group()), text)


_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
# Heading and quote marks at a line's start, emphasis marks around words, table bars.
_MD_MARKS = re.compile(
    r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?)|[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}|\|"
)


def prose_of_markdown(body: str) -> str:
    """The words of a Markdown text as a reader meets them: a link's text without its address,
    no heading, quote, emphasis or table marks (list items stay items). Code spans and blocks
    stay, for `check` to mask."""
    return _MD_MARKS.sub("", _MD_LINK.sub(lambda m: m.group(1), body))


def count_syllables(word: str) -> int:
    """A heuristic count: groups of vowels, less a silent final e, -es or -ed, plus the vowel
    pairs usually said as two beats (me-di-a, ra-di-o, vi-de-o, i-de-a, be-ing); at least one."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 1  # a number or a word in another script: one beat, as the formula expects
    if len(w) <= 3:
        return 1
    # make, late (not table); joined (not wanted); games (not boxes, pages)
    w = re.sub(r"(?:(?<=[^laeiouy])e|(?<=[^aeiouytd])ed|(?<=[^laeiouysxzcgh])es)$", "", w)
    count = len(re.findall(r"[aeiouy]+", w[1:] if w.startswith("y") else w))
    count += len(re.findall(r"(?<![ctg])ia|(?<![tscgx])io|(?<!p)eo|(?<!q)ua|uo|iu|ea$", w))
    count += 1 if re.search(r"[aeiouy]ing$", w) else 0
    return max(1, count)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` (already masked), in order, without blanks."""
    cuts: set[int] = {0, len(text)}
    cuts.update(m.start() + 1 for m in _BLANK_LINE.finditer(text))
    cuts.update(m.start() + 1 for m in _LIST_ITEM.finditer(text))
    for m in _END.finditer(text):
        end = m.end()
        if end < len(text) and not text[end].isspace():
            continue  # 3.5, v2.1, "e.g.x": inside a token
        following = _NEXT_VISIBLE.match(text, end)
        if following and following.group(1).islower():
            continue  # "e.g. the", "approx. ten": a sentence goes on in lower case
        if m.group().startswith("."):
            # The word the dot ends (an abbreviation is short: look back a little only).
            token = re.search(r"\S*$", text[max(0, m.start() - 12) : m.start()]).group()
            token = token.lstrip("(\"'“‘[").lower()
            if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue  # "e.g. Outlook", "J. Smith"
        cuts.add(end)
    # A line that ends with a sentence's punctuation ends that sentence.
    cuts.update(m.end() for m in re.finditer(r"[.!?:]\n", text))
    spans = []
    edges = sorted(cuts)
    for a, b in zip(edges, edges[1:], strict=False):
        chunk = text[a:b]
        if _WORD.search(chunk):
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((a + lead, a + len(chunk.rstrip())))
    return spans


@lru_cache(maxsize=16)
def _glossary_pattern(
    entries: tuple[GlossaryEntry, ...],
) -> tuple[re.Pattern[str] | None, dict[str, GlossaryEntry]]:
    by_key: dict[str, GlossaryEntry] = {}
    for entry in entries:
        key = _key(entry.term)
        if key and key not in by_key:
            by_key[key] = entry
    if not by_key:
        return None, by_key
    # Longest first: "IP address" wins over "IP" where both match.
    alternatives = [
        r"[\s\-]+".join(re.escape(part) for part in re.split(r"[\s\-]+", key))
        for key in sorted(by_key, key=len, reverse=True)
    ]
    pattern = re.compile(
        r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?:e?s|['’]s)?(?![^\W_])",
        re.IGNORECASE,
    )
    return pattern, by_key


def _key(term: str) -> str:
    return " ".join(re.split(r"[\s\-]+", term.strip().lower())).strip()


def _entry_for(found: str, by_key: dict[str, GlossaryEntry]) -> GlossaryEntry | None:
    key = _key(found)
    for candidate in (key, re.sub(r"['’]s$", "", key), key[:-1], key[:-2]):
        if candidate in by_key:
            return by_key[candidate]
    return None


def find_jargon(masked: str, original: str, glossary: Iterable[GlossaryEntry]) -> list[JargonHit]:
    pattern, by_key = _glossary_pattern(tuple(glossary))
    if pattern is None:
        return []
    hits = []
    for m in pattern.finditer(masked):
        entry = _entry_for(m.group(), by_key)
        if entry is not None:
            hits.append(
                JargonHit(
                    term=entry.term,
                    found=original[m.start() : m.end()],
                    plain=entry.plain,
                    note=entry.note,
                    start=m.start(),
                    end=m.end(),
                )
            )
    return hits


def _opening(sentence: str, words: int = 6) -> str:
    found = _WORD.findall(sentence)
    shown = " ".join(found[:words])
    return shown + ("…" if len(found) > words else "")


def check(
    text: str,
    *,
    glossary: Iterable[GlossaryEntry] = (),
    long_sentence_words: int = LONG_SENTENCE_WORDS,
    target_grade: float = TARGET_GRADE,
) -> CheckResult:
    """Check `text` and say what would make it plainer. Any string is accepted."""
    masked = mask_not_prose(text)
    spans = split_sentences(masked)
    words = syllables = 0
    long_sentences = []
    for start, end in spans:
        found = _WORD.findall(masked[start:end])
        words += len(found)
        syllables += sum(count_syllables(w) for w in found)
        if len(found) > long_sentence_words:
            long_sentences.append(LongSentence(start, end, len(found), _opening(masked[start:end])))
    sentences = len(spans)
    grade = None
    if words:
        raw = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
        grade = round(max(0.0, raw), 1)
    jargon = find_jargon(masked, text, glossary)
    grade_flagged = grade is not None and words >= MIN_WORDS_FOR_GRADE and grade > target_grade

    suggestions: list[Suggestion] = []
    seen: dict[str, int] = {}
    for hit in jargon:
        seen[hit.term.lower()] = seen.get(hit.term.lower(), 0) + 1
    for hit in jargon:  # one suggestion a term, at its first place
        times = seen.pop(hit.term.lower(), 0)
        if not times:
            continue
        message = f"Instead of “{hit.found}”{f' ({times} times)' if times > 1 else ''}, "
        message += f"try “{hit.plain}”."
        if hit.note:
            message += f" {hit.note}"
        suggestions.append(Suggestion("jargon", message, hit.start, hit.end))
    for s in long_sentences:
        suggestions.append(
            Suggestion(
                "long_sentence",
                f"A sentence of {s.words} words (“{s.opening}”): split it in two or more.",
                s.start,
                s.end,
            )
        )
    if grade_flagged:
        suggestions.append(
            Suggestion(
                "grade",
                f"Reading grade {grade:.0f}: aim for {target_grade:.0f} or below. "
                "Shorter sentences and everyday words bring it down.",
            )
        )
    return CheckResult(
        words=words,
        sentences=sentences,
        grade=grade,
        score=_score(grade if grade_flagged else None, target_grade, long_sentences, jargon),
        long_sentences=tuple(long_sentences),
        jargon=tuple(jargon),
        suggestions=tuple(suggestions),
        grade_flagged=grade_flagged,
    )


def _score(
    grade: float | None,
    target_grade: float,
    long_sentences: list[LongSentence],
    jargon: list[JargonHit],
) -> int:
    """100, less 8 a grade over the target (at most 40), 10 a long sentence (at most 30) and
    5 a distinct jargon term (at most 30)."""
    penalty = 0.0
    if grade is not None:
        penalty += min(40.0, 8 * max(0.0, grade - target_grade))
    penalty += min(30, 10 * len(long_sentences))
    penalty += min(30, 5 * len({hit.term.lower() for hit in jargon}))
    return max(0, min(100, round(100 - penalty)))
