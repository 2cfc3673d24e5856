"""The seam between the knowledge base and the apps that read its articles' text.

The assistant embeds the articles to suggest them, yet may not import the knowledge app
(domain apps are independent). The knowledge app registers a source from its AppConfig.ready
and publishes `ArticleSaved` after each save; a reader asks `article_texts(ids)` for what the
articles say now. With no source registered (the app is not installed) there are no articles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tierline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class ArticleSaved(Event):
    """An article was written or changed (create, edit, restore); published in its transaction."""

    article_id: int


@dataclass(frozen=True)
class ArticleText:
    """What an article says now, and where each side reads it."""

    id: int
    reference: str  # "KB-12"
    title: str
    body: str  # Markdown, as typed
    is_public: bool
    desk_url: str
    portal_url: str  # "" for an internal article


ArticleSource = Callable[[Sequence[int] | None], list[ArticleText]]

_source: ArticleSource | None = None


def register_article_source(source: ArticleSource) -> None:
    """Make `source(ids or None for all) -> [ArticleText]` the one way to read articles."""
    global _source
    if not callable(source):
        raise TypeError(f"{source!r} is not callable.")
    _source = source


def article_texts(ids: Sequence[int] | None = None) -> list[ArticleText]:
    """The articles `ids` (all when None) that exist; none when no source is registered."""
    if _source is None:
        return []
    return _source(None if ids is None else list(ids))
