"""Every change to the directory: one function each, one transaction each."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from tierline.core import batch
from tierline.core.history import record
from tierline.people.models import Team, User

# The integrations that act on tickets by themselves, so that history always names an actor.
SYSTEM_USERS: dict[str, str] = {
    "scheduler": "Tierline scheduler",
    "mail": "Tierline mail",
    "sla": "Tierline service targets",
    "assistant": "Tierline assistant",
    "assets": "Tierline estate",
}


def system_user(key: str) -> User:
    """The system user of one integration, created the first time it is asked for.

    A system user cannot sign in (no usable password, not active) and is marked `is_system`;
    its username is `tierline-<key>`. Safe under concurrency: two first callers get one row.
    """
    if key not in SYSTEM_USERS:
        raise ValueError(f"Unknown system user {key!r}; known: {', '.join(SYSTEM_USERS)}.")
    username = f"tierline-{key}"
    # Read once per batch of work (`core.batch`); one made below is remembered only once it
    # is committed (made inside a savepoint that rolls back, it would be gone).
    memo_key = f"people:system-user:{key}"
    user = batch.memo(
        memo_key, lambda: User.objects.filter(username=username, is_system=True).first()
    )
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(
                username=username,
                first_name=SYSTEM_USERS[key],
                role=User.Role.ADMIN,
                is_active=False,
                is_system=True,
            )
            user.set_unusable_password()
            user.save()
    except IntegrityError:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_system:
            raise ValueError(
                f"The username {username!r} is taken by a person: rename them first."
            ) from None
    if not transaction.get_connection().in_atomic_block:
        batch.remember(memo_key, user)
    return user


@transaction.atomic
def set_team_members(*, team: Team, members: Iterable[User], by: User) -> Team:
    """Make `members` the team's members (the admin's team page): one history entry naming
    who joined and who left, none when nothing changed."""
    wanted = {person.pk: person for person in members}
    current = {person.pk: person for person in team.members.all()}
    joined = [wanted[pk] for pk in wanted.keys() - current.keys()]
    left = [current[pk] for pk in current.keys() - wanted.keys()]
    if not joined and not left:
        return team
    team.members.add(*joined)
    team.members.remove(*left)

    def names(people: list[User]) -> str:
        return ", ".join(sorted(str(person) for person in people))

    record(
        team,
        by,
        "members changed",
        field="members",
        old=names(list(current.values())),
        new=names(list(wanted.values())),
        summary="; ".join(
            part
            for part in (
                f"joined: {names(joined)}" if joined else "",
                f"left: {names(left)}" if left else "",
            )
            if part
        ),
    )
    return team


_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


@transaction.atomic
def requester_from_email(*, address: str, name: str = "") -> User:
    """A new requester for someone who first writes in by email (from an allowed domain).

    Their username is the address (made unique with a number if taken), their name what the
    mail's From said; they have no usable password (they may set one through a reset, or sign
    in through the directory). The address must be valid; an existing person with it is
    returned as is, so two first mails from one sender make one person.
    """
    address = (address or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"email": f"“{address}” is not an email address."}) from None
    existing = User.objects.filter(email__iexact=address, is_system=False).order_by("pk").first()
    if existing is not None:
        return existing
    base = _USERNAME_UNSAFE.sub("", address.lower())[:140] or "requester"
    username, number = base, 1
    while User.objects.filter(username=username).exists():
        number += 1
        username = f"{base}-{number}"
    first, _, last = " ".join(name.split()).partition(" ")
    user = User(
        username=username,
        email=address,
        first_name=first[:150],
        last_name=last[:150],
        role=User.Role.REQUESTER,
    )
    user.set_unusable_password()
    user.save()
    return user
