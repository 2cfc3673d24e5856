"""Reading the directory: people, teams and locations, shaped for the apps above it.

Other apps never query `people`'s tables themselves: they ask here, so that the directory can
change (an LDAP sync, a restricted team, a new role) in one place.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tierline.people.models import Location, Team, User

STAFF_ROLES = (User.Role.TECHNICIAN, User.Role.LEAD, User.Role.ADMIN)


def everyone() -> QuerySet[User]:
    """Every person, active or not (for lookups of who did something once)."""
    return User.objects.all()


def active_people() -> QuerySet[User]:
    """People who can still sign in and ask for help."""
    return User.objects.filter(is_active=True)


def staff_people() -> QuerySet[User]:
    """Everyone who works tickets, for technician and assignee pickers."""
    return User.objects.filter(is_active=True).filter(
        ~Q(role=User.Role.REQUESTER) | Q(is_superuser=True)
    )


def desk_people() -> QuerySet[User]:
    """Everyone on the help desk side, active or not (filters over past work)."""
    return User.objects.exclude(role=User.Role.REQUESTER)


def members_and_leads(team_id: int | None) -> QuerySet[User]:
    """Who may be given a ticket of this team: its active technicians, and every lead or admin."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(teams=team_id) | Q(role__in=[User.Role.LEAD, User.Role.ADMIN]))
        .exclude(role=User.Role.REQUESTER)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def people_matching(text: str, limit: int = 10) -> list[User]:
    """Active people whose name, username, email or phone contains every word of `text`."""
    words = text.split()[:5]
    if not words:
        return []
    qs = active_people()
    for word in words:
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    return list(qs.order_by("last_name", "first_name", "username")[:limit])


def people_by_login(typed: str, limit: int = 2) -> list[User]:
    """Active people whose username or email is exactly `typed` (case-insensitive)."""
    return list(active_people().filter(Q(username__iexact=typed) | Q(email__iexact=typed))[:limit])


def teams() -> QuerySet[Team]:
    """Every team, by tier then name."""
    return Team.objects.all()


def teams_at_or_above(tier: int) -> QuerySet[Team]:
    return Team.objects.filter(tier__gte=tier)


def teams_below(tier: int) -> QuerySet[Team]:
    return Team.objects.filter(tier__lt=tier)


def default_team_for_tier(tier: int) -> Team | None:
    """The team a ticket sent to `tier` without a named team goes to (its default, else the
    first by name); None when the tier has no team."""
    return Team.objects.filter(tier=tier).order_by("-is_tier_default", "name").first()


def team_memberships(user: User) -> list[tuple[int, int]]:
    """(team id, tier) of each team the person is in: one query, cached on the user object for
    the request (permission checks ask many times)."""
    cached = getattr(user, "_tierline_teams", None)
    if cached is None:
        cached = list(user.teams.values_list("id", "tier")) if user.pk else []
        user._tierline_teams = cached
    return cached


def restricted_team_ids_outside(user: User) -> list[int]:
    """Ids of the restricted teams (HR, security) the person is not a member of: one query."""
    return list(
        Team.objects.filter(is_restricted=True)
        .exclude(members=user.pk)
        .values_list("id", flat=True)
    )


def locations() -> QuerySet[Location]:
    return Location.objects.all()
