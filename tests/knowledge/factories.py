"""Factories for the knowledge base: articles are written through the service, as real ones are."""

from __future__ import annotations

from typing import Any

from tierline.knowledge import services
from tierline.knowledge.models import Article, Audience, Category


def category(name: str = "Printing") -> Category:
    return Category.objects.get_or_create(name=name)[0]


def article(by: Any, **kwargs: Any) -> Article:
    kwargs.setdefault("title", "Clear a paper jam on the floor 2 printer")
    kwargs.setdefault(
        "body",
        "## What you see\n\nThe printer stops and blinks orange.\n\n"
        "## What to do\n\n1. Open the front door.\n2. Pull the paper out gently.\n",
    )
    kwargs.setdefault("audience", Audience.PUBLIC)
    return services.create_article(by=by, **kwargs)


def internal_article(by: Any, **kwargs: Any) -> Article:
    kwargs.setdefault("title", "Reset the print server's spooler")
    kwargs.setdefault("body", "Run `net stop spooler` on PRINT01, then start it again.")
    return article(by, audience=Audience.INTERNAL, **kwargs)
