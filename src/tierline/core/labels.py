"""Labels: how an app names another app's objects without importing it.

The changes app links assets by id (changes and assets are both domain apps and may not import
each other), yet a change's page should say "LT-0042 (laptop-17)", not "Asset #17". The app that
owns the objects registers, from its AppConfig.ready, a function that turns ids into labels:

    register_labels("assets.asset", lambda ids: {pk: Label(text=..., url=...) for pk in ...})

and the app that holds the ids asks once per page (one query for all of them, never one per id):

    labels = labels_for("assets.asset", [17, 42])   # {17: Label("LT-0042", "/assets/17/")}

An id with no label in the answer is an object that does not exist (or is no longer there). A
target nobody registered, or a function that fails, answers {} (a failure is logged): the
asking page falls back to the id. `known(target)` says whether anyone answers for a target,
so a caller can tell "no such object" from "nobody to ask".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Label:
    """What a person reads for an object, and where it is (a path, or "" for none)."""

    text: str
    url: str = ""
    detail: str = ""


LabelsFn = Callable[[list[int]], dict[int, Label]]

_registry: dict[str, LabelsFn] = {}


def register_labels(target: str, fn: LabelsFn) -> None:
    """`fn(ids)` answers {id: Label} for the ids that exist. Registering again replaces it."""
    if not target or target != target.strip() or "." not in target:
        raise ValueError("A label target is named app.model, e.g. 'assets.asset'.")
    if not callable(fn):
        raise TypeError("register_labels needs a callable.")
    _registry[target] = fn


def unregister_labels(target: str) -> None:
    _registry.pop(target, None)


def known(target: str) -> bool:
    return target in _registry


def labels_for(target: str, ids: Iterable[int]) -> dict[int, Label]:
    """{id: Label} for those of `ids` that exist, from one call of the owner's function."""
    wanted = sorted({int(i) for i in ids})
    fn = _registry.get(target)
    if fn is None or not wanted:
        return {}
    try:
        answer = fn(wanted)
    except Exception:  # one broken app must not take the asking page down
        logger.exception("labels for %s failed", target)
        return {}
    return {pk: label for pk, label in answer.items() if pk in wanted and isinstance(label, Label)}
