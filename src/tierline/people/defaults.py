"""The teams a new installation starts with. Used by the data migration and by tests."""

from __future__ import annotations

from typing import Any

DEFAULT_TEAMS = [
    ("Tier 1 Service Desk", 1, "First contact: calls, portal and email; simple fixes."),
    (
        "Tier 2 Desktop & Applications",
        2,
        "Complex desktop, application and device issues; desk visits.",
    ),
    ("Tier 3 Infrastructure", 3, "Servers, network, identity: the hardest problems."),
]


def install_default_teams(apps: Any) -> None:
    """Create the three tier teams if they are missing. `apps` is a migration's app registry
    (or django.apps.apps)."""
    Team = apps.get_model("people", "Team")
    for name, tier, description in DEFAULT_TEAMS:
        Team.objects.get_or_create(
            name=name,
            defaults={"tier": tier, "description": description, "is_tier_default": True},
        )
