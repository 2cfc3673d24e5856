"""Changes to the on-call rota beyond one row in the admin: repeating shifts week by week."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.sla.models import Shift

MAX_WEEKS = 12


@dataclass
class Repeated:
    made: list[Shift] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each copy was not made


@transaction.atomic
def repeat_weekly(*, shift_ids: Iterable[int], weeks: int = 1) -> Repeated:
    """Copy each shift 1..`weeks` weeks later (same team, person, kind, name and clock times,
    in UTC). A copy that would overlap another shift of its person is skipped and said why."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"Repeat for 1 to {MAX_WEEKS} weeks.")
    done = Repeated()
    for shift in Shift.objects.filter(pk__in=list(shift_ids)).order_by("start", "pk"):
        for week in range(1, weeks + 1):
            copy = Shift(
                team_id=shift.team_id,
                person_id=shift.person_id,
                kind=shift.kind,
                name=shift.name,
                start=shift.start + timedelta(weeks=week),
                end=shift.end + timedelta(weeks=week),
            )
            try:
                copy.full_clean()
            except ValidationError as exc:
                done.skipped.append(f"{copy}: {' '.join(exc.messages)}")
                continue
            copy.save()
            done.made.append(copy)
    return done
