"""`{% security_checks asset %}`: an asset's security check results on its page."""

from __future__ import annotations

from typing import Any

from django import template

from tierline.assets.compliance_views import checks_of

register = template.Library()


@register.inclusion_tag("assets/_checks.html")
def security_checks(asset: Any) -> dict[str, Any]:
    return {"checks": checks_of(asset)}
