"""A technician's saved queue filters."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404

from tierline.desk.models import SavedView
from tierline.desk.services.common import raise_if, require_text
from tierline.people.models import User


@transaction.atomic
def save_view(*, owner: User, name: str, query: str) -> SavedView:
    errors: dict[str, str] = {}
    name = require_text(errors, "name", name, max_length=60, label="A name", multiline=False)
    if len(query) > 1000:
        errors["query"] = "Too many filters to save."
    raise_if(errors)
    view, _ = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query.lstrip("?")}
    )
    return view


@transaction.atomic
def delete_saved_view(*, owner: User, pk: int) -> str:
    """Delete one of the owner's saved views; another person's (or none) is a 404."""
    view = SavedView.objects.filter(owner=owner, pk=pk).first()
    if view is None:
        raise Http404("No such saved view.")
    name = view.name
    view.delete()
    return name
