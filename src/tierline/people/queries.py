"""Reading the directory: people, teams and locations, shaped for the apps above it.

Other apps never query `people`'s tables themselves: they ask here, so that the directory can
change (an LDAP sync, a restricted team, a new role) in one place.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper

from tierline.core import batch
from tierline.people.models import (  # noqa: F401  (team access is read in models; asked for here)
    Department,
    Location,
    Team,
    User,
    phone_key_for,
    restricted_team_ids_outside,
    team_memberships,
)

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


def team_members(team_id: int) -> QuerySet[User]:
    """The active people of a team (not every lead: those who are told of its new tickets)."""
    return User.objects.filter(is_active=True, is_system=False, teams=team_id).distinct()


def people_by_usernames(usernames: Iterable[str]) -> QuerySet[User]:
    """Active people whose username is one of `usernames`, any case (an `@name` mention)."""
    query = Q(pk__in=[])
    for name in usernames:
        query |= Q(username__iexact=name)
    return User.objects.filter(query, is_active=True, is_system=False)


def search_people(queryset: QuerySet[User], text: str, *, max_words: int = 6) -> QuerySet[User]:
    """`queryset` narrowed to people whose name, username, email or phone contains every word of
    `text` (its first `max_words` words)."""
    for word in text.split()[:max_words]:
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    return queryset


def people_matching(text: str, limit: int = 10) -> list[User]:
    """Active people whose name, username, email or phone contains every word of `text`."""
    if not text.split():
        return []
    qs = search_people(active_people(), text, max_words=5)
    return list(qs.order_by("last_name", "first_name", "username")[:limit])


PHONE_CHARACTERS = frozenset("0123456789+-()./ ")


def looks_like_phone(text: str) -> bool:
    """Only a phone number's characters, with at least 3 digits ("+44 113 496 0123", "4711")."""
    typed = text.strip()
    return bool(typed) and set(typed) <= PHONE_CHARACTERS and bool(phone_key_for(typed))


def people_by_phone(number: str, limit: int = 10) -> list[User]:
    """Active people whose phone is `number` in any format (matched on its last digits, on an
    index): what a phone system's caller id finds. [] for a number with under 3 digits."""
    key = phone_key_for(number)
    if not key:
        return []
    found = active_people().filter(phone_key=key, is_system=False)
    return list(found.order_by("last_name", "first_name", "username")[:limit])


def person_for(text: str, limit: int = 10) -> tuple[User | None, list[User]]:
    """The one active person `text` names, and the active people it matches (at most `limit`).

    The person is the one whose username, email or phone is exactly `text`, else the only match;
    None when nobody or several match. What the call form, the new-ticket form and the portal's
    sharing use to turn typed words into a person."""
    typed = text.strip()
    if looks_like_phone(typed):
        # A number as a phone system or a technician types it: "+44 113 496 0123" is the
        # directory's "0113 496 0123".
        by_phone = people_by_phone(typed, limit=limit)
        if by_phone:
            return (by_phone[0] if len(by_phone) == 1 else None), by_phone
    matches = people_matching(typed, limit=limit)
    lowered = typed.lower()
    exact = [
        p for p in matches if lowered in {p.email.lower(), p.username.lower(), p.phone.lower()}
    ]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0], matches
    if not exact and len(matches) >= limit:
        # The exact username or email may sort beyond the first `limit` matches.
        login = people_by_login(typed)
        if len(login) == 1:
            return login[0], matches
    return None, matches


def people_by_login(typed: str, limit: int = 2) -> list[User]:
    """Active people whose username or email is exactly `typed` (case-insensitive)."""
    return list(active_people().filter(Q(username__iexact=typed) | Q(email__iexact=typed))[:limit])


def person_by_email(address: str) -> User | None:
    """The person whose email address is `address` (case-insensitive), for mail: an active
    person before a deactivated one, the earliest first; never a system user. None if nobody."""
    address = (address or "").strip()
    if not address:
        return None
    return (
        User.objects.filter(email__iexact=address, is_system=False)
        .order_by("-is_active", "pk")
        .first()
    )


def people_by_email(addresses: Iterable[str]) -> dict[str, User]:
    """`person_by_email` for many addresses in one query: each address (upper-cased) that
    names somebody, and whom `person_by_email` would give for it."""
    wanted = {a.strip().upper() for a in addresses if a and a.strip()}
    if not wanted:
        return {}
    found: dict[str, User] = {}
    rows = (
        User.objects.annotate(email_upper=Upper("email"))
        .filter(email_upper__in=wanted, is_system=False)
        .order_by("-is_active", "pk")
    )
    for person in rows:
        found.setdefault(person.email_upper, person)
    return found


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


def locations() -> QuerySet[Location]:
    return Location.objects.all()


def departments() -> QuerySet[Department]:
    return Department.objects.all()


def team_for_new_ticket(team_id: int | None) -> Team | None:
    """The team a new ticket goes to: the team `team_id` names, else Tier 1's default team
    (else its first by name). None when that team is gone or Tier 1 has none.

    Written as SQL because it runs for every ticket opened and building it through the ORM
    took longer than running it. Only names from the model's metadata go into the text;
    values are parameters. Tier 1's default is read once per batch of work (`core.batch`).
    """
    if team_id is None:
        return batch.memo("people:tier1-team", lambda: _team_for_new_ticket(None))
    return _team_for_new_ticket(team_id)


def _team_for_new_ticket(team_id: int | None) -> Team | None:
    q = connection.ops.quote_name
    meta = Team._meta
    fields = meta.concrete_fields
    column = {f.attname: q(f.column) for f in fields}
    if team_id is not None:
        where, params = f"{column['id']} = %s", [team_id]
    else:
        where, params = f"{column['tier']} = 1", []
    sql = (
        f"SELECT {', '.join(column.values())} FROM {q(meta.db_table)} WHERE {where}"  # noqa: S608
        f" ORDER BY {column['is_tier_default']} DESC, {column['name']} LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Team.from_db(connection.alias, [f.attname for f in fields], row)
