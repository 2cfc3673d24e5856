"""People, departments, locations and the teams (tiers) that work tickets."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A part of the organisation employees belong to (Finance, Sales, ...)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A site: an office or building where people and devices are."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something a technician is good at (Networking, Windows, Printers...)."""

    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A group of technicians working one support tier. Tiers are teams."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=[(1, "1"), (2, "2"), (3, "3")])
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_tier_default = models.BooleanField(
        _("default team of its tier"),
        default=False,
        help_text=_("Escalating to a tier without naming a team sends the ticket here."),
    )
    email = models.EmailField(_("email"), blank=True)
    is_restricted = models.BooleanField(
        _("restricted"),
        default=False,
        help_text=_(
            "Only the team's members, team leads and administrators can read its tickets "
            "(for HR or security work)."
        ),
    )

    class Meta:
        ordering = ["tier", "name"]
        verbose_name = _("team")
        constraints = [
            models.UniqueConstraint(
                fields=["tier"],
                condition=models.Q(is_tier_default=True),
                name="one_default_team_per_tier",
            )
        ]

    def __str__(self) -> str:
        return self.name


# A caller id is matched on its last 9 digits: "+44 113 496 0123", "0113 496 0123" and
# "(0113) 4960123" are one number; an internal extension ("4711") is matched whole.
PHONE_KEY_DIGITS = 9
PHONE_KEY_SHORTEST = 3


def phone_key_for(phone: str) -> str:
    """The digits a phone number is matched on: its last 9, or all of a shorter one (an
    extension); "" when it has fewer than 3 digits."""
    digits = "".join(ch for ch in phone or "" if "0" <= ch <= "9")
    return digits[-PHONE_KEY_DIGITS:] if len(digits) >= PHONE_KEY_SHORTEST else ""


class User(AbstractUser):
    """Anyone who signs in: an employee who asks for help or a member of the help desk."""

    class Role(models.TextChoices):
        REQUESTER = "requester", _("Requester")
        TECHNICIAN = "technician", _("Technician")
        LEAD = "lead", _("Team lead")
        ADMIN = "admin", _("Administrator")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REQUESTER)
    phone = models.CharField(_("phone"), max_length=40, blank=True, db_index=True)
    # The phone's last digits, whatever its format: what a phone system's caller id is matched on
    # (`phone_key_for`; kept by save(), and by whoever bulk-creates people).
    phone_key = models.CharField(
        max_length=PHONE_KEY_DIGITS, blank=True, db_index=True, editable=False
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    desk = models.CharField(_("desk"), max_length=40, blank=True)
    is_vip = models.BooleanField(
        _("VIP"),
        default=False,
        help_text=_("Service-target policies may hold this person's tickets to tighter targets."),
    )
    teams = models.ManyToManyField(
        Team, blank=True, related_name="members", verbose_name=_("teams")
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="technicians")
    is_system = models.BooleanField(
        _("system user"),
        default=False,
        editable=False,
        help_text=_("An integration (mail, service targets, the assistant) acting on its own."),
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            # A person by email, any case (`queries.person_by_email`: each inbound mail's
            # sender): what `email__iexact` asks PostgreSQL, UPPER(email), without a scan.
            models.Index(Upper("email"), name="person_email_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs) -> None:
        self.phone_key = phone_key_for(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_key"}
        super().save(*args, **kwargs)

    @property
    def is_staff_member(self) -> bool:
        """Works tickets (technician, lead or admin), as opposed to asking for help."""
        return self.role != self.Role.REQUESTER or self.is_superuser

    @property
    def is_lead(self) -> bool:
        return self.role in (self.Role.LEAD, self.Role.ADMIN) or self.is_superuser

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def highest_tier(self) -> int:
        """The highest tier among the person's teams (0 when in none)."""
        return max((tier for _, tier in team_memberships(self)), default=0)


# --- team access (read once per request, cached on the user; people.queries hands it out) ---


def team_memberships(user: User) -> list[tuple[int, int]]:
    """(team id, tier) of each team the person is in (read with the restricted teams, once per
    request: cached on the user object)."""
    if getattr(user, "_tierline_teams", None) is None:
        _read_team_access(user)
    return user._tierline_teams


def restricted_team_ids_outside(user: User) -> list[int]:
    """Ids of the restricted teams (HR, security) the person is not a member of (read with the
    person's teams, once per request: cached on the user object)."""
    if getattr(user, "_tierline_hidden_teams", None) is None:
        _read_team_access(user)
    return user._tierline_hidden_teams


def _read_team_access(user: User) -> None:
    """The person's teams and the restricted teams they are not in: one query over the (small)
    team table, since a permission check usually needs both."""
    memberships: list[tuple[int, int]] = []
    hidden: list[int] = []
    if user.pk:
        is_member = Exists(
            User.teams.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk)
        )
        rows = (
            Team.objects.annotate(is_member=is_member)
            .filter(Q(is_member=True) | Q(is_restricted=True))
            .values_list("id", "tier", "is_member")
        )
        for team_id, tier, member in rows:
            if member:
                memberships.append((team_id, tier))
            else:
                hidden.append(team_id)
    else:
        hidden = list(Team.objects.filter(is_restricted=True).values_list("id", flat=True))
    user._tierline_teams = memberships
    user._tierline_hidden_teams = hidden
