"""What a new installation starts with: categories, the priority matrix, resolution codes.

Used by the data migration and by tests.
"""

from __future__ import annotations

from typing import Any

from tierline.desk.choices import Level, Priority

CATEGORIES = {
    "Accounts & access": ["Password reset", "New starter", "Leaver", "Permissions"],
    "Hardware": [
        "Laptop & desktop",
        "Monitor",
        "Printer & scanner",
        "Phone & headset",
        "Peripherals",
    ],
    "Software": ["Email & calendar", "Office apps", "Install request", "Business applications"],
    "Network": ["VPN", "Wi-Fi", "Wired network", "File shares"],
    "Security": ["Phishing report", "Lost or stolen device", "Malware"],
    "Other": [],
}
# The impact × urgency matrix: what a new installation configures, and what the desk uses for
# a cell an administrator has deleted. The one copy of it.
DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (Level.HIGH, Level.HIGH): Priority.CRITICAL,
    (Level.HIGH, Level.MEDIUM): Priority.HIGH,
    (Level.HIGH, Level.LOW): Priority.MEDIUM,
    (Level.MEDIUM, Level.HIGH): Priority.HIGH,
    (Level.MEDIUM, Level.MEDIUM): Priority.MEDIUM,
    (Level.MEDIUM, Level.LOW): Priority.LOW,
    (Level.LOW, Level.HIGH): Priority.MEDIUM,
    (Level.LOW, Level.MEDIUM): Priority.LOW,
    (Level.LOW, Level.LOW): Priority.LOW,
}
RESOLUTION_CODES = [
    ("fixed", "Fixed"),
    ("workaround", "Workaround given"),
    ("advice", "Advice or how-to given"),
    ("replaced", "Hardware replaced"),
    ("installed", "Software installed or configured"),
    ("duplicate", "Duplicate"),
    ("no-fault", "No fault found"),
    ("user-cancelled", "Cancelled by requester"),
]


def install_desk_defaults(apps: Any) -> None:
    """Create the default categories, priority matrix and resolution codes if missing. `apps` is a
    migration's app registry (or django.apps.apps)."""
    Category = apps.get_model("desk", "Category")
    PriorityRule = apps.get_model("desk", "PriorityRule")
    ResolutionCode = apps.get_model("desk", "ResolutionCode")
    for top, children in CATEGORIES.items():
        parent, _ = Category.objects.get_or_create(
            name=top, parent=None, defaults={"full_name": top}
        )
        for child in children:
            Category.objects.get_or_create(
                name=child, parent=parent, defaults={"full_name": f"{top} › {child}"}
            )
    for (impact, urgency), priority in DEFAULT_MATRIX.items():
        PriorityRule.objects.get_or_create(
            impact=impact, urgency=urgency, defaults={"priority": priority}
        )
    for code, name in RESOLUTION_CODES:
        ResolutionCode.objects.get_or_create(code=code, defaults={"name": name})
