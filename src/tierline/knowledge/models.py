"""The knowledge app's models. The search index's live in models_search.py (joined here)."""

from tierline.knowledge.models_search import SearchDocument  # noqa: F401
