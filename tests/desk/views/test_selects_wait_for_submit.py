"""No control on a technician's page changes anything by being changed (WCAG 3.2.2).

Arrow Down on a focused select picks the next option and fires `change`: the status select
used to submit itself then, so a keyboard user looking through the options moved the ticket.
Every page of the workspace (and each dialog form the ticket page loads) is read here: no
control submits on change, and every form that posts with a select has a button to submit it.
The browser side of it is tests/browser/test_keyboard.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services

pytestmark = pytest.mark.django_db

# An htmx trigger on the change event ("change", "change from:…"), not the "changed" modifier
# of a search box's "input changed delay:300ms".
CHANGE_TRIGGER = re.compile(r"(^|[\s,])change\b(?!d)")


class _Controls(HTMLParser):
    """What acts on change, and the posting forms with a select and their submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.acts_on_change: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {name: value or "" for name, value in attrs}
        described = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in a.items())}>"
        if "data-autosubmit" in a or "onchange" in a or "oninput" in a:
            self.acts_on_change.append(described)
        if CHANGE_TRIGGER.search(a.get("hx-trigger", "")):
            self.acts_on_change.append(described)
        if tag in ("select", "input") and any(k in a for k in ("hx-post", "hx-put", "hx-patch")):
            self.acts_on_change.append(described)  # htmx sends these on change by default
        if tag == "form":
            self._form = {"tag": described, "method": a.get("method", "get").lower()}
            self._form.update(selects=0, submits=0)
            self.forms.append(self._form)
        elif self._form is not None:
            if tag == "select":
                self._form["selects"] += 1
            if (tag == "button" and a.get("type", "submit") == "submit") or (
                tag == "input" and a.get("type") == "submit"
            ):
                self._form["submits"] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _read(client: Client, url: str, **headers) -> _Controls:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    controls = _Controls()
    controls.feed(response.content.decode())
    return controls


def test_no_technician_page_changes_a_ticket_when_a_select_changes(employee, tier2):
    # given: a Tier 2 ticket with a visit and a call, so every page has its forms and rows
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    visit = desk_factories.work_order(ticket, by=tier2)
    services.log_call(by=tier2, outcome="existing_ticket", caller=employee, ticket=ticket)
    client = Client()
    client.force_login(tier2)
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    pages = [
        "/desk/",
        "/desk/?queue=unassigned",
        "/desk/search/?q=printer",
        f"/desk/tickets/{ticket.number}/",
        "/desk/tickets/new/",
        f"/desk/tickets/{ticket.number}/work-orders/new/",
        f"/desk/work-orders/?date={day}",
        f"/desk/work-orders/{visit.number}/",
        "/desk/calls/",
        "/desk/calls/new/",
        "/desk/calls/report/",
        "/desk/reports/escalations/",
    ]
    # the ticket page's dialogs, as app.js loads them
    dialogs = [
        f"/desk/tickets/{ticket.number}/do/{action}/"
        for action in ("assign", "escalate", "resolve", "fields", "link", "child", "merge")
    ]

    # when
    read = [(url, _read(client, url)) for url in pages]
    read += [(url, _read(client, url, HTTP_HX_REQUEST="true")) for url in dialogs]

    # then: nothing acts on change, and every posting form with a select has its button
    acting = [(url, tag) for url, page in read for tag in page.acts_on_change]
    assert acting == []
    buttonless = [
        (url, form["tag"])
        for url, page in read
        for form in page.forms
        if form["method"] == "post" and form["selects"] and not form["submits"]
    ]
    assert buttonless == []
    checked = sum(f["selects"] > 0 and f["method"] == "post" for _, p in read for f in p.forms)
    assert checked >= 5, "the pages should have had the status, bulk and dialog selects"
