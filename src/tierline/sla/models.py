"""Service targets: calendars (when the desk counts time), policies (what it promises) and the
clock each ticket runs against them. The sla app writes these and nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tierline.desk.choices import Priority, Status
from tierline.desk.models import Category, Ticket
from tierline.people.models import Department, Skill, Team
from tierline.sla.choices import RuleTrigger, WaitUnit
from tierline.sla.regions import holiday_problem
from tierline.sla.rule_checks import validate_rule

# Ten years, in minutes: a longer target is a typing error.
MAX_TARGET_MINUTES = 10 * 366 * 24 * 60


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("Unknown time zone “%(zone)s”: use an IANA name such as Europe/London or UTC."),
            params={"zone": value},
        ) from None


class Calendar(models.Model):
    """When the desk's clock runs: business hours per weekday in a zone, less public holidays
    (from the `holidays` package, by country and subdivision) and custom closures."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_zone]
    )
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=3,
        blank=True,
        help_text=_("ISO country code (GB, DE, US...); empty for no public holidays."),
    )
    holiday_subdivision = models.CharField(
        _("region"),
        max_length=10,
        blank=True,
        help_text=_("Subdivision code where holidays differ (ENG, SCT; BY; CA...)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = holiday_problem(self.holiday_country, self.holiday_subdivision)
        if problem:
            raise ValidationError(problem)


class BusinessHours(models.Model):
    """One open interval of one weekday; a day may have several (09:00-12:30, 13:30-17:00)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"), help_text=_("00:00 means midnight, the end of the day."))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        if self.start.second or self.end.second or self.start.microsecond or self.end.microsecond:
            raise ValidationError(_("Business hours are whole minutes (HH:MM)."))
        if self.end.hour == 0 and self.end.minute == 0:
            return
        if self.end <= self.start:
            raise ValidationError(
                {"end": _("The end must be after the start (00:00 for midnight).")}
            )


class Closure(models.Model):
    """A day the desk is shut on top of public holidays (a site move, the office party)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    name = models.CharField(_("reason"), max_length=80, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        verbose_name = _("closure")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_closure_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class Action(models.TextChoices):
    """What the desk does by itself when a target is at risk or breached (as the sla user)."""

    NONE = "", _("Only record it")
    RAISE_URGENCY = "raise_urgency", _("Raise the urgency to high (priority follows the matrix)")
    ESCALATE = "escalate", _("Escalate to the next tier")
    PAGE_ON_CALL = "page_on_call", _("Page the technician on call")
    NOTIFY_LEAD = "notify_lead", _("Notify the team lead")
    REASSIGN = "reassign", _("Reassign to someone else in the team")


class Policy(models.Model):
    """Targets a ticket is held to, on one calendar. The first active policy, by order, whose
    conditions all hold (an empty condition holds for every ticket) and which has a target for
    the ticket's priority is the ticket's."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    at_risk_percent = models.PositiveSmallIntegerField(
        _("at risk from (% of the target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    at_risk_action = models.CharField(
        _("when at risk"), max_length=20, choices=Action.choices, blank=True, default=""
    )
    breach_action = models.CharField(
        _("when breached"), max_length=20, choices=Action.choices, blank=True, default=""
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The requester's department."),
    )
    vip_only = models.BooleanField(
        _("VIP requesters only"),
        default=False,
        help_text=_("Only tickets whose requester is marked VIP (people admin)."),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("service policy")
        verbose_name_plural = _("service policies")

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """The minutes of business time a policy allows, for one priority."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (min)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (min)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (min)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
    )

    class Meta:
        ordering = ["policy", "priority"]
        verbose_name = _("target")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "priority"], name="sla_target_one_per_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_priority_display()}"

    def clean(self) -> None:
        if not (
            self.first_response_minutes or self.next_response_minutes or self.resolution_minutes
        ):
            raise ValidationError(
                _("Give at least one target (first response, next response or resolution).")
            )


class ClockStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused (waiting on the requester or a third party)")
    STOPPED = "stopped", _("Stopped (resolved or closed)")


class TicketClock(models.Model):
    """One ticket's clock against its policy: business time used, due times, what was noticed.

    Kept by `sla.services` from the desk's events, in the desk's transaction. The due times are
    stored (and indexed) so that lists and the sweep never recompute them; `next_check_at` is
    the next moment something can change (at risk, breached), which the sweep looks for.
    """

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla_clock"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    calendar = models.ForeignKey(
        Calendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at_risk_percent = models.PositiveSmallIntegerField(default=75)
    status = models.CharField(
        max_length=8, choices=ClockStatus.choices, default=ClockStatus.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    # Business time used before `running_since`; running_since is None unless running.
    used_seconds = models.PositiveBigIntegerField(default=0)
    running_since = models.DateTimeField(null=True, blank=True)

    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_risk_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)

    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolution_risk_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    # The next response: from a requester's reply to the desk's next public answer.
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_since = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    next_response_risk_at = models.DateTimeField(null=True, blank=True)

    # "first_response:at_risk", "resolution:breached"...: what the sweep already recorded.
    noticed = models.JSONField(default=list, blank=True)
    breached = models.BooleanField(default=False)

    # Figures (issue 10 point 9), kept as the events happen: calendar time from opening, and
    # business time by the clock's calendar (null without one). Resolution's business time is
    # the time the clock ran: waiting on the requester or a third party is left out.
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # Public answers from the help desk (not the requester's own messages, not notes).
    desk_replies = models.PositiveIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # The nearest due time of a running target (None when paused, stopped or without targets):
    # set on every save from the times above, indexed for the queue's sort and filters.
    next_due = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket clock")
        indexes = [
            # Only clocks with something still to come: the sweep's one query reads this.
            models.Index(
                fields=["next_check_at"],
                condition=models.Q(next_check_at__isnull=False),
                name="sla_clock_next_check_idx",
            ),
            models.Index(fields=["first_response_due"], name="sla_clock_first_due_idx"),
            models.Index(fields=["resolution_due"], name="sla_clock_resolution_due_idx"),
            models.Index(fields=["next_due"], name="sla_clock_next_due_idx"),
            models.Index(
                fields=["ticket"],
                condition=models.Q(breached=True),
                name="sla_clock_breached_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA clock of ticket {self.ticket_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.next_due = self.compute_next_due()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "next_due"}
        super().save(*args, **kwargs)

    @property
    def first_contact_resolution(self) -> bool | None:
        """Resolved with at most one answer from the desk and never reopened; None while open."""
        if self.resolved_at is None:
            return None
        return self.reopen_count == 0 and self.desk_replies <= 1

    def running_dues(self) -> list[tuple[datetime | None, datetime | None]]:
        """(due, at risk from) of each target still running (met or unset ones left out)."""
        out = []
        if self.first_response_minutes is not None and self.first_response_at is None:
            out.append((self.first_response_due, self.first_response_risk_at))
        if self.resolution_minutes is not None and self.resolved_at is None:
            out.append((self.resolution_due, self.resolution_risk_at))
        if self.next_response_minutes is not None and self.next_response_since is not None:
            out.append((self.next_response_due, self.next_response_risk_at))
        return out

    def compute_next_due(self) -> datetime | None:
        if self.status != ClockStatus.RUNNING:
            return None
        return min((due for due, _ in self.running_dues() if due is not None), default=None)


# --- assignment and the on-call rota --------------------------------------------------------


class AssignmentMode(models.TextChoices):
    OFF = "", _("Off (technicians take tickets)")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least loaded (fewest open tickets)")


class TeamRota(models.Model):
    """One team's assignment and on-call settings. The row is also the round-robin pointer:
    the assigner locks it (select_for_update), so two tickets at once take turns."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="+")
    mode = models.CharField(
        _("auto-assignment"), max_length=20, choices=AssignmentMode.choices, blank=True, default=""
    )
    open_ticket_cap = models.PositiveSmallIntegerField(
        _("open tickets per technician, at most"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("Technicians with this many open tickets are skipped; empty for no cap."),
    )
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Business hours of the team: in them, who is on shift is the team's members (or "
            "the rota's day shifts); outside them an urgent ticket pages who is on call."
        ),
    )
    page_priority = models.PositiveSmallIntegerField(
        _("page on-call for priority up to"),
        choices=Priority.choices,
        null=True,
        blank=True,
        default=Priority.CRITICAL,
        help_text=_("A new ticket this urgent, out of hours, pages who is on call; empty: never."),
    )
    page_email = models.BooleanField(_("page by email"), default=True)
    page_webhook_url = models.URLField(
        _("page webhook"),
        max_length=300,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("http(s) address; empty: none."),
    )
    page_webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=200,
        blank=True,
        help_text=_("Signs each page: X-Tierline-Signature: sha256=HMAC of the body."),
    )
    ics_token = models.CharField(
        _("calendar feed token"),
        max_length=64,
        blank=True,
        help_text=_("Lets a calendar app read the rota's .ics without signing in; empty: none."),
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("team assignment and on-call")
        verbose_name_plural = _("teams' assignment and on-call")

    def __str__(self) -> str:
        return str(self.team)


class IntakePause(models.Model):
    """A technician who takes no new tickets from auto-assignment (the row exists: paused)."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    since = models.DateTimeField(_("paused since"), default=timezone.now)

    class Meta:
        verbose_name = _("paused intake")
        verbose_name_plural = _("paused intakes")

    def __str__(self) -> str:
        return f"{self.person} (paused)"


class CategorySkill(models.Model):
    """A ticket of this category goes only to technicians with this skill (people admin)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["category", "skill"]
        verbose_name = _("skill a category needs")
        verbose_name_plural = _("skills categories need")
        constraints = [
            models.UniqueConstraint(fields=["category", "skill"], name="sla_category_skill_once")
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.skill}"


class ShiftKind(models.TextChoices):
    DAY = "day", _("Day")
    NIGHT = "night", _("Night")
    WEEKEND = "weekend", _("Weekend")


class Shift(models.Model):
    """One person on call for one team from `start` to `end` (a concrete row, not a pattern)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ShiftKind.choices)
    name = models.CharField(_("name"), max_length=80, blank=True)
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("on-call shift")
        indexes = [models.Index(fields=["team", "end", "start"], name="sla_shift_team_end_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="sla_shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M} {self.person}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        if self.end <= self.start:
            raise ValidationError({"end": _("A shift ends after it starts.")})
        if self.end - self.start > timedelta(days=14):
            raise ValidationError({"end": _("A shift is at most 14 days long.")})
        if self.person_id is None:
            return
        clash = (
            Shift.objects.filter(person_id=self.person_id, start__lt=self.end, end__gt=self.start)
            .exclude(pk=self.pk)
            .first()
        )
        if clash is not None:
            raise ValidationError(
                _("%(person)s is already on call then: %(shift)s to %(end)s (%(team)s)."),
                params={
                    "person": self.person,
                    "shift": f"{clash.start:%Y-%m-%d %H:%M}",
                    "end": f"{clash.end:%Y-%m-%d %H:%M}",
                    "team": clash.team,
                },
            )


class Page(models.Model):
    """One page of the on-call technician: an email or a webhook POST, sent by the `sla-pages`
    job (never in a request), tried again with back-off until it goes or MAX attempts."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(_("why"), max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(_("to"), max_length=300)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("on-call page")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="sla_page_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} page {self.pk} ({self.get_state_display()})"


# --- rules (automation) ---------------------------------------------------------------------


class Rule(models.Model):
    """When (a trigger), if (conditions, all must hold) then (actions, in order): the desk's
    automation, run by `sla.rules` as the sla system user.

    Conditions and actions are validated JSON lists (see `sla.rules` for the vocabulary), not
    inline rows: a rule is checked as a whole (a condition against the actions that could undo
    it, a rule against the others for cycles), and a firing keeps what the rule said then."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("when"), max_length=10, choices=RuleTrigger.choices)
    wait_status = models.CharField(
        _("waiting in status"),
        max_length=20,
        blank=True,
        choices=Status.choices,
        help_text=_("Time rules: the status the ticket has been in, untouched, for the wait."),
    )
    wait_amount = models.PositiveIntegerField(
        _("wait"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 366)],
        help_text=_("Time rules: how long since the ticket was last updated."),
    )
    wait_unit = models.CharField(
        _("wait unit"), max_length=14, choices=WaitUnit.choices, blank=True, default=""
    )
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Time rules in business days: the calendar that says which days count."),
    )
    conditions = models.JSONField(
        _("conditions"),
        default=list,
        blank=True,
        help_text=_(
            'All must hold. A list like [{"field": "priority", "op": "in", "value": [1, 2]}, '
            '{"field": "subject", "op": "contains", "value": "printer"}]. Fields: status, '
            "channel, priority, impact, urgency, tier, team, category, requester_department "
            "(is, is_not, in, not_in; numbers also greater, less), assignee (is_set: true or "
            "false), requester_vip (is: true or false), subject, description (contains, "
            "not_contains), hours_since_update (greater, less)."
        ),
    )
    actions = models.JSONField(
        _("actions"),
        default=list,
        help_text=_(
            'In order. A list like [{"action": "set_priority", "value": 1}, {"action": '
            '"add_note", "text": "VIP {requester_name}"}]. Actions: set_team, set_tier, '
            "set_priority, set_category, set_assignee (value; an id, null clears category "
            "and assignee), add_note (text), send_email (subject, body), escalate (summary, "
            "optional), resolve and close (code, note). Placeholders: {number} {subject} "
            "{status} {priority} {team} {requester_name} {requester_first_name} "
            "{assignee_name}."
        ),
    )
    stop_processing = models.BooleanField(
        _("stop processing"),
        default=False,
        help_text=_("When this rule fires, the rules after it are not looked at."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("rule")
        indexes = [models.Index(fields=["trigger", "is_active", "order"], name="sla_rule_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_rule(self)


class RuleFiring(models.Model):
    """One rule firing on one ticket: what it did, or the error that stopped it.

    `period` is the waiting period of a time rule (when the ticket was last updated): a time rule
    fires at most once per ticket per period (the unique constraint)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=10, choices=RuleTrigger.choices)
    period = models.DateTimeField(null=True, blank=True)
    actions_taken = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fired_at", "-pk"]
        verbose_name = _("rule firing")
        indexes = [
            models.Index(fields=["ticket", "rule", "fired_at"], name="sla_firing_ticket_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket", "period"],
                condition=models.Q(period__isnull=False),
                name="sla_firing_once_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} on ticket {self.ticket_id}"


class RuleEmail(models.Model):
    """A templated email a rule sends to the requester: queued here, sent by the
    `sla-rule-emails` job (never in a request), tried again with back-off like a page."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField(_("to"))
    subject = models.CharField(max_length=250)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("rule email")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="sla_rule_email_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Email {self.pk} to {self.address} ({self.get_state_display()})"
