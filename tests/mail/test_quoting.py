"""Replies from the usual clients show their new text only: quoted history and signatures go."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierline.mail.parsing import parse
from tierline.mail.quoting import trim_reply

CORPUS = Path(__file__).parent / "corpus" / "talon"
CLIENTS = [
    "android",
    "aol",
    "apple_mail",
    "apple_mail_2",
    "comcast",
    "gmail",
    "hotmail",
    "iphone",
    "outlook",
    "sparrow",
    "thunderbird",
    "yahoo",
]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_reply_from_each_client_keeps_only_what_was_written(client):
    _, parsed = parse((CORPUS / f"standard_replies_{client}.eml").read_bytes())
    assert trim_reply(parsed.text) == "Hello"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Done.\n\n-----Original Message-----\nFrom: a\nSent: b", "Done."),
        (
            "Done.\n\nFrom: Help <help@example.org>\nSent: Monday\nTo: me\nSubject: x\n\nold",
            "Done.",
        ),
        ("Done.\n________________________________\nFrom: Help", "Done."),
        ("Done.\n-- \nErin, Finance", "Done."),
        ("Done.\n\nSent from my iPhone", "Done."),
        ("Done.\n\nLe lun. 3 mars 2025 à 10:00, Help <help@example.org> a écrit :\n> x", "Done."),
        ("Done.\n\nAm 03.03.2025 um 10:00 schrieb Help <help@example.org>:\n> x", "Done."),
        ("On Monday Help wrote:\n> did it work?\nYes, thanks.", "Yes, thanks."),
        ("Line one\nLine two", "Line one\nLine two"),
        ("> only a quote", "> only a quote"),
    ],
)
def test_history_markers_of_many_clients(text, kept):
    assert trim_reply(text) == kept
