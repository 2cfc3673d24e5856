"""Markdown that people write (knowledge base articles) as safe HTML, at display.

The source is stored as typed. markdown-it-py renders it (CommonMark, plus tables and
strikethrough) with raw HTML off, so `<script>` typed in an article is shown as text; nh3 then
keeps only the tags Markdown makes, so nothing a renderer bug or a crafted link lets through
reaches a page. Headings move so the article's top level is `<h2>`: the page's title is the only `<h1>`.
"""

from __future__ import annotations

import html

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_LINK_REL = "noopener noreferrer nofollow"

# Built once: a MarkdownIt holds only its rules and options, and rendering does not change it.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable(["table", "strikethrough"])


def render_markdown(source: str | None) -> SafeString:
    """`source` (Markdown) as sanitised HTML for a page."""
    env: dict = {}
    tokens = _markdown.parse(source or "", env)
    headings = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    if headings:
        # The article's top heading level becomes <h2>, under the page's <h1>, whether its
        # author started at "#" or "##"; levels below keep their steps.
        shift = 2 - min(int(t.tag[1]) for t in headings)
        for token in headings:
            token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
    rendered = _markdown.renderer.render(tokens, _markdown.options, env)
    cleaned = nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=_LINK_REL,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output


def plain_summary(source: str | None, length: int = 200) -> str:
    """The first words of an article as plain text (for lists): Markdown rendered, every tag
    removed, whitespace collapsed. Escaped by the template like any text."""
    text = nh3.clean(_markdown.render(source or ""), tags=set())
    words = " ".join(html.unescape(text).split())
    return words if len(words) <= length else words[: length - 1].rsplit(" ", 1)[0] + "…"
