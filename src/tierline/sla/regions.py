"""The regions whose public holidays a business calendar can count: the `holidays` package's
countries and subdivisions. No model here: `Calendar.clean` asks it (models import nothing of
the sla app's logic), and calendars.py reads the holidays from it."""

from __future__ import annotations

from datetime import date

import holidays


def holiday_problem(country: str, subdivision: str) -> str | None:
    """Why a country/subdivision can't give holidays (a sentence), or None if it can."""
    if not country:
        return "Give a country for the region's holidays, or no region." if subdivision else None
    supported = holidays.list_supported_countries()
    if country not in supported:
        return f"“{country}” is not a country the holidays package knows (use ISO codes: GB, DE, US...)."
    if subdivision and subdivision not in supported[country]:
        known = ", ".join(supported[country][:30]) or "none"
        return f"“{subdivision}” is not a region of {country} (known: {known})."
    return None


def public_holidays(country: str, subdivision: str, years: range) -> set[date]:
    if not country:
        return set()
    return set(
        holidays.country_holidays(country, subdiv=subdivision or None, years=list(years)).keys()
    )
