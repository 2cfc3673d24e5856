"""Markdown to safe HTML (core.markdown): what articles may contain and what never gets through."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tierline.core.markdown import plain_summary, render_markdown


def test_markdown_is_rendered():
    html = render_markdown(
        "# Printer\n\nSome **bold**, *em*, `code` and ~~old~~.\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nnet stop spooler\n```\n\n[help](https://example.org)"
    )
    assert "<h2>Printer</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<code>code</code>" in html and "<s>old</s>" in html
    assert "<ul>\n<li>one</li>" in html
    assert "<td>1</td>" in html
    assert "<pre><code>net stop spooler\n</code></pre>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">help</a>' in html


def test_headings_start_at_h2_and_keep_their_steps():
    assert render_markdown("## A\n\n### B").replace("\n", "") == "<h2>A</h2><h3>B</h3>"
    assert render_markdown("# A\n\n## B").replace("\n", "") == "<h2>A</h2><h3>B</h3>"
    assert "<h6>F</h6>" in render_markdown("# A\n\n###### F")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, [(name, value or "") for name, value in attrs]))


def tags_in(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The elements a browser would build from `html`, with their attributes."""
    parser = _Tags()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](https://example.org/a.png)",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://example.org></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_nothing_that_runs_gets_through(source):
    tags = tags_in(render_markdown(source))
    assert {tag for tag, _ in tags} <= {"p", "a"}
    for _, attrs in tags:
        assert all(name in ("href", "rel") for name, _ in attrs)
        assert all(value.startswith("https://") for name, value in attrs if name == "href"), attrs


def test_typed_html_is_shown_as_text():
    assert (
        render_markdown("Type <b>bold</b> & go") == "<p>Type &lt;b&gt;bold&lt;/b&gt; &amp; go</p>\n"
    )


def test_empty_and_none():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_plain_summary_drops_markup_and_cuts_at_a_word():
    assert plain_summary("## Fix\n\nOpen **the** door & <wait>.") == "Fix Open the door & <wait>."
    cut = plain_summary("word " * 100, 23)
    assert cut == "word word word word…"
