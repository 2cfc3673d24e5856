"""The demo's service targets (issue 10): two calendars, policies with targets per priority,
someone on call at any hour for the coming weeks, rules an admin could save, canned responses
and macros that work, and countdowns on the open tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tierline.demo import load_demo
from tierline.demo.service_targets import ROTA_WEEKS, shifts_for
from tierline.desk import services as desk_services
from tierline.desk.choices import Priority
from tierline.desk.models import OPEN_STATUSES, Macro, Status, Ticket
from tierline.people.models import Team, User
from tierline.sla import rota, rule_checks
from tierline.sla.calendars import business_calendar
from tierline.sla.models import Calendar, Policy, Rule, Shift, TeamRota, TicketClock
from tierline.sla.queries import state_of

pytestmark = pytest.mark.django_db

SMALL = {"people": 30, "tickets": 120}


@pytest.fixture
def demo():
    return load_demo(seed=3, **SMALL)


def test_two_calendars_a_24x7_one_and_a_9_to_5_one_with_uk_holidays(demo):
    servers = business_calendar(Calendar.objects.get(name="Servers 24x7"))
    desk_row = Calendar.objects.get(name="Service desk 9 to 5")
    desk = business_calendar(desk_row)
    assert (desk_row.holiday_country, desk_row.holiday_subdivision) == ("GB", "ENG")
    # Christmas Day at noon: the servers count it, the desk does not
    christmas = datetime(timezone.now().year, 12, 25, 12, tzinfo=UTC)
    assert servers.is_open(christmas) and not desk.is_open(christmas)


def test_every_policy_has_a_target_for_every_priority(demo):
    policies = Policy.objects.prefetch_related("targets")
    assert [p.name for p in policies] == ["Infrastructure 24x7", "VIP requesters", "Standard"]
    for policy in policies:
        assert sorted(t.priority for t in policy.targets.all()) == sorted(Priority.values)
    assert Policy.objects.get(name="Infrastructure 24x7").calendar.name == "Servers 24x7"
    assert User.objects.filter(is_vip=True).exists()


def test_someone_is_on_call_for_every_team_at_any_hour_of_the_coming_weeks(demo):
    now = timezone.now()
    for team in Team.objects.filter(is_tier_default=True):
        assert TeamRota.objects.filter(team=team).exists()
        for hours in range(0, 14 * 24, 5):  # every fifth hour for two weeks
            assert rota.on_call(team.pk, now + timedelta(hours=hours)), (team, hours)
    kinds = set(Shift.objects.values_list("kind", flat=True))
    assert kinds == {"day", "night", "weekend"}


def test_a_team_s_shifts_tile_the_weeks_without_overlap(demo):
    team = Team.objects.get(tier=1, is_tier_default=True)
    people = list(User.objects.filter(teams=team, role=User.Role.TECHNICIAN).order_by("pk"))
    monday = timezone.now().date() - timedelta(days=timezone.now().weekday())
    shifts = sorted(shifts_for(team, people, monday, ROTA_WEEKS), key=lambda s: s.start)
    for before, after in zip(shifts, shifts[1:], strict=False):
        assert before.end == after.start
    assert shifts[-1].end - shifts[0].start == timedelta(weeks=ROTA_WEEKS)


def test_the_demo_rules_pass_the_admins_checks(demo):
    assert Rule.objects.count() == 3
    for rule in Rule.objects.all():
        rule_checks.validate_rule(rule)  # raises on a mistake


def test_the_password_macro_replies_and_resolves(demo):
    ticket = Ticket.objects.filter(
        status__in=[Status.NEW, Status.OPEN], team__tier=1, team__is_tier_default=True
    ).first()
    technician = User.objects.get(username="tier1")
    macro = Macro.objects.get(name="Password reset done")
    desk_services.apply_macro(ticket=ticket, by=technician, macro=macro)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.category.full_name == "Accounts & access › Password reset"


def test_open_tickets_of_the_last_week_and_of_today_have_countdowns(demo):
    recent = Ticket.objects.filter(
        status__in=OPEN_STATUSES, created_at__gte=timezone.now() - timedelta(days=7)
    )
    clocks = TicketClock.objects.filter(ticket__in=recent)
    assert recent.exists() and clocks.count() == recent.count()
    assert {state_of(clock) for clock in clocks} - {None}
    # today's tickets, opened through the services, run on the demo's policies
    outlook = Ticket.objects.filter(subject="Outlook keeps asking for my password").latest("pk")
    assert TicketClock.objects.get(ticket=outlook).policy is not None
