"""Showing text safely: plain text is escaped at render; only HTML that arrives as HTML (mail)
is sanitised, with nh3.

Text people type is stored as typed (`core.text.normalise_text`), so `Printer & scanner
<2nd floor>` and `<DeviceNotFound>` stay what they are, and every page shows it through
`render_text` (the `as_html` and `sanitised` filters) or Django's autoescape.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import unquote

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_MAIL_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
_MAIL_ATTRIBUTES = {"a": {"href", "title"}}
_LINK_REL = "noopener noreferrer nofollow"


def render_html_from_mail(
    body_html: str | None, *, inline_images: Mapping[str, str] | None = None
) -> SafeString:
    """The HTML part of an incoming mail as safe HTML, for display: harmless formatting and
    http(s)/mailto links kept; scripts, handlers, styles and unknown tags dropped.

    `inline_images` maps a Content-ID to the address where Tierline serves that image: an
    `<img src="cid:...">` becomes an image shown in place. Every other image source (a remote
    address, a tracking pixel, data:) is dropped, so opening a mail tells its sender nothing.

    Only for HTML that arrived as HTML. Text a person typed is never parsed as HTML: it goes
    through `render_text`."""
    images = dict(inline_images or {})

    def keep(tag: str, attribute: str, value: str) -> str | None:
        is_cid = value[:4].lower() == "cid:"
        if tag == "img" and attribute == "src":
            return images.get(unquote(value[4:]).strip()) if is_cid else None
        return None if is_cid else value

    cleaned = nh3.clean(
        body_html or "",
        tags=_MAIL_TAGS | {"img"},
        attributes={**_MAIL_ATTRIBUTES, "img": {"src", "alt", "width", "height"}},
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel=_LINK_REL,
        attribute_filter=keep,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output


def clean_text(text: str | None) -> str:
    """Markup removed, as plain text (entities decoded, not escaped): only for names that are
    not typed text, such as an uploaded file's name. Typed text goes through
    `core.text.normalise_text` and keeps its angle brackets."""
    return html.unescape(nh3.clean(text or "", tags=set())).strip()


# An http(s) address in running text, ending before a space, a quote or an angle bracket.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than an address: "see https://x.org/a."
_URL_TAIL = ".,;:!?)]}"


def _link(url: str) -> tuple[str, str]:
    """(the address, the punctuation after it); a closing bracket stays when the address opens
    one (https://en.wikipedia.org/wiki/Foo_(bar))."""
    tail = ""
    while url and url[-1] in _URL_TAIL:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def render_text(text: str | None) -> SafeString:
    """Stored text as safe HTML, the one way every page shows a description, message, note,
    summary or work-order text: escaped, http(s) addresses made links, line breaks kept.

    The text is never parsed as HTML, so what was typed is what is shown, `<b>` included."""
    text = text or ""
    parts: list[str] = []
    end = 0
    for match in _URL.finditer(text):
        url, tail = _link(match.group())
        if url.lower() in ("http://", "https://"):
            continue
        parts.append(escape(text[end : match.start()]))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="{_LINK_REL}">{href}</a>')
        end = match.start() + len(url)
    parts.append(escape(text[end:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part escaped
