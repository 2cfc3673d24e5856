"""Every form of the workspace and the portal, each field given junk in turn: never a 500.

The forms are read off the pages themselves (the ticket page's dialogs too), so a form added
later is covered without touching this test. Junk: what people paste and what scripts send.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Call

pytestmark = pytest.mark.django_db

JUNK = [
    "",
    "-1",
    "99999999999999999999",
    "²",
    "\x00",
    "<script>alert(1)</script>",
    "9999-12-31",
    "x" * 3000,
]


class _Forms(HTMLParser):
    """The forms of a page: action, method, fields with their first value; dialog sources."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.sources: list[str] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if a.get("data-dialog-src"):
            self.sources.append(a["data-dialog-src"])
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = {"action": a.get("action") or "", "method": method, "fields": {}}
            self.forms.append(self._form)
        elif (
            tag in ("input", "select", "textarea")
            and self._form is not None
            and a.get("name")
            and a.get("type") not in ("submit", "button", "file")
        ):
            self._form["fields"].setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _forms_of(client, url: str) -> list[tuple[str, dict]]:
    """(page url, form) for each form on the page and in the dialogs it loads."""
    response = client.get(url)
    assert response.status_code == 200, url
    page = _Forms()
    page.feed(response.content.decode())
    found = [(url, form) for form in page.forms]
    for source in page.sources:
        dialog = _Forms()
        dialog.feed(client.get(source, HTTP_HX_REQUEST="true").content.decode())
        found += [(source, form) for form in dialog.forms]
    return found


def _fuzz(client, urls: list[str]) -> int:
    """Each field of each form, given each junk value; returns the requests sent."""
    sent, failures = 0, []
    for url in urls:
        for page, form in _forms_of(client, url):
            action = form["action"] or page
            if "logout" in action or "/delete/" in action:
                continue
            send = client.get if form["method"] == "get" else client.post
            for name in form["fields"]:
                for junk in JUNK:
                    data = {**form["fields"], name: junk}
                    target = action.split("?")[0] if form["method"] == "get" else action
                    response = send(target, data)
                    sent += 1
                    if response.status_code >= 500:
                        failures.append((form["method"], action, name, junk[:20]))
    assert not failures, failures
    return sent


@pytest.fixture
def desk_pages(employee, tier2) -> list[str]:
    """A Tier 2 ticket with a work order and a call on it: every dialog has something to do."""
    ticket = desk_factories.ticket(requester=employee, team=people_factories.team(2))
    work_order = desk_factories.work_order(ticket, by=tier2)
    services.log_call(
        by=tier2, outcome=Call.Outcome.EXISTING_TICKET, caller=employee, ticket=ticket
    )
    return [
        reverse("desk:queue"),
        reverse("desk:ticket", args=[ticket.number]),
        reverse("desk:ticket_create"),
        reverse("desk:calls"),
        reverse("desk:call_new"),
        reverse("desk:call_report"),
        reverse("desk:work_orders"),
        reverse("desk:work_order", args=[work_order.number]),
        reverse("desk:work_order_create", args=[ticket.number]),
        reverse("desk:escalation_report"),
    ]


def test_workspace_forms_take_junk(client, tier2, desk_pages):
    client.force_login(tier2)
    assert _fuzz(client, desk_pages) > 500  # 48 forms, about 970 requests


def test_portal_forms_take_junk(client, employee):
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(employee)
    urls = [
        reverse("portal:home"),
        reverse("portal:new"),
        reverse("portal:ticket", args=[ticket.number]),
    ]
    assert _fuzz(client, urls) > 40  # 6 forms, about 60 requests
