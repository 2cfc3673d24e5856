"""Relations between assets, edited on an asset's page (`assets.relations` has the rules)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tierline.assets import relations
from tierline.assets.views import _asset
from tierline.assets.views_diagnostics import asset_url, refused_page
from tierline.core.inputs import parse_id
from tierline.desk.views.queue import staff_required


@require_POST
@staff_required
def relation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Form fields: `relation` (a kind, or `~kind` for the other way round) and `other` (the
    other asset's tag, number or hostname)."""
    asset = _asset(pk)
    choice = (request.POST.get("relation") or "")[:40]
    reference = (request.POST.get("other") or "").strip()[:253]
    if choice not in dict(relations.direction_choices()):
        return refused_page(
            request, "Choose how the assets are related.", asset_url(asset), status=400
        )
    other = relations.find_asset(reference)
    if other is None:
        return refused_page(
            request,
            f"No asset “{reference}” (give its tag, number or hostname).",
            asset_url(asset),
            status=400,
        )
    kind = choice.lstrip("~")
    first, second = (other, asset) if choice.startswith("~") else (asset, other)
    try:
        relations.add_relation(from_asset=first, to_asset=second, kind=kind, by=request.user)
    except relations.RelationError as error:
        return refused_page(request, str(error), asset_url(asset), status=400)
    return redirect("assets:detail", pk=asset.pk)


@require_POST
@staff_required
def relation_remove(request: HttpRequest, pk: int) -> HttpResponse:
    asset = _asset(pk)
    relation_id = parse_id(request.POST.get("relation"))
    if relation_id is None or not relations.remove_relation(
        relation_id=relation_id, asset=asset, by=request.user
    ):
        return refused_page(request, "That relation is gone already.", asset_url(asset), status=404)
    return redirect("assets:detail", pk=asset.pk)
