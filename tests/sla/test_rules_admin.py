"""Rules in the admin: every bad definition is a message naming what is wrong, never a 500;
loops are refused with the rules' names; firings are read only."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.sla import rule_checks, rules
from tierline.sla.models import Rule, RuleFiring

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def save(client: Client, *, conditions, actions, trigger="updated", **fields) -> tuple[int, str]:
    data = {
        "name": fields.pop("name", "Rule"),
        "order": "100",
        "is_active": "on",
        "trigger": trigger,
        "wait_status": "",
        "wait_amount": "",
        "wait_unit": "",
        "calendar": "",
        "conditions": conditions if isinstance(conditions, str) else json.dumps(conditions),
        "actions": actions if isinstance(actions, str) else json.dumps(actions),
    }
    data.update(fields)
    response = client.post(reverse("admin:sla_rule_add"), data)
    return response.status_code, response.content.decode()


NOTE = [{"action": "add_note", "text": "hello"}]


def test_a_good_rule_is_saved(admin_client):
    status, _ = save(
        admin_client,
        conditions=[{"field": "priority", "op": "in", "value": [1, 2]}],
        actions=[{"action": "add_note", "text": "Urgent: {number}"}],
    )
    assert status == 302
    assert Rule.objects.get().conditions[0]["value"] == [1, 2]


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        ("[{", NOTE, "Enter a valid JSON"),
        ({"field": "priority"}, NOTE, "Conditions must be a list"),
        (
            [{"field": "colour", "op": "is", "value": 1}],
            NOTE,
            "Condition 1 (colour): unknown field",
        ),
        ([{"field": "priority", "op": "like", "value": 1}], NOTE, "unknown operator “like”"),
        ([{"field": "priority", "op": "is", "value": "high"}], NOTE, "must be a whole number"),
        ([{"field": "priority", "op": "is", "value": True}], NOTE, "must be a whole number"),
        ([{"field": "priority", "op": "in", "value": []}], NOTE, "non-empty list"),
        ([{"field": "status", "op": "is", "value": "done"}], NOTE, "“done” is not one of"),
        ([{"field": "team", "op": "is", "value": 9999}], NOTE, "no team with id 9999"),
        ([{"field": "category", "op": "is", "value": 9999}], NOTE, "no category with id 9999"),
        ([{"field": "assignee", "op": "is_set", "value": "yes"}], NOTE, "true or false"),
        ([{"field": "subject", "op": "contains", "value": " "}], NOTE, "some text"),
        ([{"field": "priority", "op": "is"}], NOTE, "a value is needed"),
        ([{"field": "priority", "op": "is", "value": 1, "x": 1}], NOTE, "unknown key(s) x"),
        ([], [], "Actions must be a non-empty list"),
        ([], [{"action": "explode"}], "unknown action “explode”"),
        ([], [{"action": "set_team", "value": 9999}], "no team with id 9999"),
        ([], [{"action": "set_category", "value": "VPN"}], "must be an id or null"),
        ([], [{"action": "set_priority", "value": 7}], "1, 2, 3 or 4"),
        ([], [{"action": "set_tier", "value": 0}], "1, 2 or 3"),
        ([], [{"action": "set_assignee", "value": 9999}], "no active technician with id 9999"),
        ([], [{"action": "add_note", "text": ""}], "some text is needed"),
        ([], [{"action": "add_note", "text": "{secret}"}], "unknown placeholder {secret}"),
        ([], [{"action": "add_note", "text": "{number.__class__}"}], "unknown placeholder"),
        ([], [{"action": "add_note", "text": "{number:>99999}"}], "unknown placeholder"),
        ([], [{"action": "add_note", "text": "{"}], "for braces"),
        ([], [{"action": "send_email", "subject": "s"}], "body: some text is needed"),
        ([], [{"action": "resolve", "code": "nope", "note": "x"}], "“nope” is not an active"),
    ],
)
def test_bad_definitions_are_refused_with_a_message(admin_client, conditions, actions, message):
    status, page = save(admin_client, conditions=conditions, actions=actions)
    assert status == 200
    assert message in page.replace("&quot;", '"').replace("&#x27;", "'").replace(
        "&lt;", "<"
    ).replace("&gt;", ">")
    assert not Rule.objects.exists()


def test_time_rule_fields_are_checked(admin_client):
    status, page = save(admin_client, conditions=[], actions=NOTE, trigger="time")
    assert status == 200 and "A time rule needs a wait and its unit." in page
    status, page = save(
        admin_client,
        conditions=[],
        actions=NOTE,
        trigger="time",
        wait_amount="5",
        wait_unit="business_days",
    )
    assert status == 200 and "Choose the calendar whose business days count." in page
    status, page = save(admin_client, conditions=[], actions=NOTE, wait_amount="5")
    assert status == 200 and "Only a time rule waits" in page
    assert not Rule.objects.exists()


def test_a_rule_its_own_change_matches_again_is_refused(admin_client):
    status, page = save(
        admin_client,
        name="Bump",
        conditions=[{"field": "priority", "op": "in", "value": [1, 2]}],
        actions=[{"action": "set_priority", "value": 1}],
    )
    assert status == 200
    assert "Rule “Bump” sets priority = 1, which its own conditions still accept" in page
    # with a guard (A != x -> set A = x) it is fine
    status, _ = save(
        admin_client,
        name="Bump",
        conditions=[
            {"field": "priority", "op": "in", "value": [1, 2]},
            {"field": "priority", "op": "is_not", "value": 1},
        ],
        actions=[{"action": "set_priority", "value": 1}],
    )
    assert status == 302


def test_two_rules_undoing_each_other_are_refused_with_both_names(admin_client):
    team1, team2 = people_factories.team(1), people_factories.team(2)
    status, _ = save(
        admin_client,
        name="To tier 2",
        conditions=[{"field": "team", "op": "is", "value": team1.pk}],
        actions=[{"action": "set_team", "value": team2.pk}],
    )
    assert status == 302
    status, page = save(
        admin_client,
        name="Back to tier 1",
        conditions=[{"field": "team", "op": "is", "value": team2.pk}],
        actions=[{"action": "set_team", "value": team1.pk}],
    )
    assert status == 200
    assert "would undo each other" in page
    assert "“Back to tier 1” → “To tier 2” → “Back to tier 1”" in page
    assert Rule.objects.count() == 1
    # a created rule does not loop: it runs once
    status, _ = save(
        admin_client,
        name="Back to tier 1",
        trigger="created",
        conditions=[{"field": "team", "op": "is", "value": team2.pk}],
        actions=[{"action": "set_team", "value": team1.pk}],
    )
    assert status == 302


def test_a_three_rule_cycle_is_found():
    def make(name, when, then):
        return Rule(
            name=name,
            trigger="updated",
            conditions=[{"field": "priority", "op": "is", "value": when}],
            actions=[{"action": "set_priority", "value": then}],
        )

    a, b, c = make("A", 1, 2), make("B", 2, 3), make("C", 3, 1)
    b.pk, c.pk = 1, 2
    [message] = rule_checks.loop_errors(a, [b, c])
    assert "“A” → “B” → “C” → “A”" in message
    assert rule_checks.loop_errors(a, [b]) == []


def test_firings_are_read_only_in_the_admin(admin_client, employee):
    ticket = desk_factories.ticket(employee)
    rule = Rule.objects.create(name="R", trigger="created", actions=NOTE)
    firing = rules.fire(rule, ticket, trigger="created", at=ticket.created_at)
    page = admin_client.get(reverse("admin:sla_rulefiring_changelist"))
    assert page.status_code == 200 and "internal note" in page.content.decode()
    assert admin_client.get(reverse("admin:sla_rulefiring_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:sla_rulefiring_change", args=[firing.pk]), {"error": "x"}
    )
    assert response.status_code in (302, 403, 200)
    firing.refresh_from_db()
    assert firing.error == ""
    assert RuleFiring.objects.count() == 1
    assert admin_client.get(reverse("admin:sla_ruleemail_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:sla_rule_changelist")).status_code == 200
