"""Read-side helpers of the assistant: the active glossary and the plain-language check with it."""

from __future__ import annotations

from tierline.assist import plain_language
from tierline.assist.models import GlossaryTerm
from tierline.assist.plain_language import CheckResult, GlossaryEntry

# What the reply composer's check reads; a reply is far shorter. Longer text gets a message,
# never a half-checked answer.
REPLY_MAX_CHARS = 20_000


def glossary_entries() -> tuple[GlossaryEntry, ...]:
    """The active glossary, one query (about a hundred short rows)."""
    rows = GlossaryTerm.objects.filter(active=True).values_list("term", "plain", "note")
    return tuple(GlossaryEntry(term, plain, note) for term, plain, note in rows.order_by("pk"))


def check_reply(text: str) -> CheckResult:
    """A public reply as the technician typed it (the caller keeps it under REPLY_MAX_CHARS)."""
    return plain_language.check(text, glossary=glossary_entries())


def check_article(body: str) -> CheckResult:
    """A knowledge base article's Markdown body, as its reader meets it."""
    return plain_language.check(plain_language.prose_of_markdown(body), glossary=glossary_entries())
