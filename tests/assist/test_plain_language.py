"""The plain-language checker on its own: sentences, syllables, the grade, jargon, any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.assist.plain_language import (
    GlossaryEntry,
    check,
    count_syllables,
    mask_not_prose,
    prose_of_markdown,
    split_sentences,
)

GLOSSARY = [
    GlossaryEntry("reboot", "restart"),
    GlossaryEntry("DNS", "the system that turns website names into addresses"),
    GlossaryEntry("IP address", "the number that identifies a device on a network"),
    GlossaryEntry("IP", "internet address"),
    GlossaryEntry("cache", "stored copy", "Clearing it deletes the copies."),
    GlossaryEntry("multi-factor authentication", "the second sign-in step"),
    GlossaryEntry("<b>&amp;", "a < b & c"),
]

GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent a new nation, "
    "conceived in liberty, and dedicated to the proposition that all men are created equal."
)


def sentences_of(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(mask_not_prose(text))]


# --- sentences ------------------------------------------------------------------------------


def test_abbreviations_initials_and_decimals_end_no_sentence():
    text = (
        "Restart it, e.g. from the Start menu. Dr. Smith saw it at 3.5 p.m. yesterday. "
        "Ask J. Smith, i.e. Facilities. Done!"
    )
    assert sentences_of(text) == [
        "Restart it, e.g. from the Start menu.",
        "Dr. Smith saw it at 3.5 p.m. yesterday.",
        "Ask J. Smith, i.e. Facilities.",
        "Done!",
    ]


def test_blank_lines_and_list_items_are_their_own_sentences():
    text = "Hi Ann,\n\nTry these:\n- close Outlook\n- open it again\n\nThanks"
    assert sentences_of(text) == [
        "Hi Ann,",
        "Try these:",
        "- close Outlook",
        "- open it again",
        "Thanks",
    ]


def test_dots_in_addresses_and_code_end_no_sentence():
    text = "See https://example.com/a.b?c=d. Then run `ipconfig /all. Now` again."
    assert sentences_of(text) == [
        "See https://example.com/a.b?c=d.",
        "Then run `ipconfig /all. Now` again.",
    ]


# --- syllables and the grade ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("the", 1),
        ("make", 1),
        ("table", 2),
        ("restart", 2),
        ("computer", 3),
        ("escalate", 3),
        ("media", 3),
        ("radio", 3),
        ("station", 2),
        ("wanted", 2),
        ("joined", 1),
        ("boxes", 2),
        ("games", 1),
        ("configuration", 5),
        ("authentication", 5),
        ("going", 2),
        ("4455", 1),
    ],
)
def test_syllable_heuristic(word, syllables):
    assert count_syllables(word) == syllables


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        # dictionary syllable counts give these Flesch-Kincaid grades
        ("The cat sat on the mat.", 0.0),  # -1.45, shown as 0
        (
            "Please restart your laptop and try again. If it still does not work, call us today.",
            2.3,
        ),
        (GETTYSBURG, 15.0),
        (
            "The configuration of the authentication infrastructure necessitates "
            "comprehensive documentation.",
            27.3,
        ),
    ],
)
def test_known_texts_grade_within_a_grade(text, grade):
    assert check(text).grade == pytest.approx(grade, abs=1.0)


def test_a_long_hard_sentence_is_flagged_and_scored_down():
    result = check(GETTYSBURG)
    assert result.words == 30 and result.sentences == 1
    assert [s.kind for s in result.suggestions] == ["long_sentence", "grade"]
    assert result.long_sentences[0].words == 30
    assert result.long_sentences[0].opening == "Four score and seven years ago…"
    assert result.grade_flagged
    assert result.score < 60 and result.verdict != "Plain"


def test_the_long_sentence_limit_is_configurable():
    text = "One two three four five six."
    assert not check(text).long_sentences
    assert check(text, long_sentence_words=5).long_sentences[0].words == 6


def test_a_plain_reply_has_no_suggestions():
    result = check("Please restart your laptop and try again. If it still fails, call us.")
    assert result.suggestions == () and result.score == 100 and result.verdict == "Plain"


def test_empty_and_wordless_text():
    for text in ("", "   \n\n ", "!!! ... ???", "https://example.com/only"):
        result = check(text, glossary=GLOSSARY)
        assert result.words == 0 and result.grade is None and result.score == 100
        assert result.suggestions == ()


# --- jargon ---------------------------------------------------------------------------------


def test_jargon_any_case_whole_words_plurals_and_phrases():
    text = "Reboot twice. The DNS caches and your ip address, multi factor authentication."
    hits = check(text, glossary=GLOSSARY).jargon
    assert [(h.term, h.found) for h in hits] == [
        ("reboot", "Reboot"),
        ("DNS", "DNS"),
        ("cache", "caches"),
        ("IP address", "ip address"),
        ("multi-factor authentication", "multi factor authentication"),
    ]
    for hit in hits:
        assert text[hit.start : hit.end] == hit.found


def test_jargon_inside_words_addresses_and_code_is_not_flagged():
    text = (
        "Rebooting the cachet. See https://example.com/reboot/dns, mail dns@example.com, "
        "run `ipconfig /flushdns reboot` or\n```\nreboot now\n```\nIPv6 only."
    )
    assert check(text, glossary=GLOSSARY).jargon == ()


def test_one_suggestion_a_term_with_its_count_and_note():
    result = check("Clear the cache. Then the cache again. Reboot.", glossary=GLOSSARY)
    messages = [s.message for s in result.suggestions]
    assert messages == [
        "Instead of “cache” (2 times), try “stored copy”. Clearing it deletes the copies.",
        "Instead of “Reboot”, try “restart”.",
    ]
    assert len(result.jargon) == 3
    assert result.score == 90  # 5 a distinct term


def test_terms_with_markup_characters_are_plain_text():
    result = check("Why <b>&amp; here?", glossary=GLOSSARY)
    assert result.jargon[0].found == "<b>&amp;"
    assert result.suggestions[0].message == "Instead of “<b>&amp;”, try “a < b & c”."


def test_markdown_prose_drops_link_addresses_and_marks():
    body = "## Fix\n\nOpen **the [VPN page](https://vpn.example/reboot)** and `reboot`.\n> Note"
    assert prose_of_markdown(body) == "Fix\n\nOpen the VPN page and `reboot`.\nNote"
    assert check(prose_of_markdown(body), glossary=GLOSSARY).jargon == ()


# --- any text -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(list(".!?`\n -'’") + ["e.g.", "DNS", "http://", "```", "Dr. "]),
        ),
        max_size=40,
    ).map("".join),
    terms=st.lists(st.text(min_size=0, max_size=12), max_size=5),
)
def test_any_text_and_any_glossary_never_crash(text, terms):
    glossary = [GlossaryEntry(t, "plain") for t in terms] + GLOSSARY
    result = check(text, glossary=glossary)
    assert 0 <= result.score <= 100
    assert result.grade is None or result.grade >= 0
    assert result.sentences <= result.words or result.words == 0
    for hit in result.jargon:
        assert text[hit.start : hit.end] == hit.found
    for s in result.suggestions:
        assert s.start is None or 0 <= s.start <= s.end <= len(text)
    check(prose_of_markdown(text), glossary=glossary)
