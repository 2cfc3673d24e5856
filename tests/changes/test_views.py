"""The change pages: list, form, page, approvals, calendar, and the ticket page's panel."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.changes.factories import change, fresh
from tests.desk import factories as desk_factories
from tierline.changes import services
from tierline.changes.models import ChangeApproval, ChangeRequest, Kind, Risk, Status

pytestmark = pytest.mark.django_db


def _aware(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_current_timezone())


def test_requesters_cannot_see_the_pages(client, employee, tier1):
    c = change(tier1)
    client.force_login(employee)
    for url in ("/changes/", "/changes/new", "/changes/calendar/", f"/changes/{c.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/portal/" in response["Location"], url
    posted = client.post(f"/changes/{c.pk}/move", {"to": "submitted", "version": c.version})
    assert posted.status_code == 302 and fresh(c).status == Status.DRAFT


def test_the_list_filters_sorts_and_pages(client, tier1, settings):
    settings.TIERLINE = {**settings.TIERLINE, "PAGE_SIZE": 2}
    for n in range(3):
        change(tier1, title=f"High {n}", risk=Risk.HIGH)
    change(tier1, title="Low one", risk=Risk.LOW, kind=Kind.STANDARD)
    client.force_login(tier1)
    # when
    page1 = client.get("/changes/", {"risk": "high", "sort": "number"}).content.decode()
    page2 = client.get("/changes/", {"risk": "high", "sort": "number", "page": 2}).content.decode()
    standard = client.get("/changes/", {"kind": "standard"}).content.decode()
    # then
    assert page1.index("High 0") < page1.index("High 1") and "High 2" not in page1
    assert "High 2" in page2 and "Low one" not in page2
    assert "Low one" in standard and "High 1" not in standard
    empty = client.get("/changes/", {"status": "implemented"}).content.decode()
    assert "No changes match." in empty


def test_junk_filters_give_the_whole_list(client, tier1):
    change(tier1, title="Patch the firewall")
    client.force_login(tier1)
    response = client.get(
        "/changes/", {"status": "<b>", "kind": "x'", "sort": "pk;--", "page": "-4", "q": "\x00"}
    )
    assert response.status_code == 200 and "Patch the firewall" in response.content.decode()


def test_the_empty_list_says_how_to_start(client, tier1):
    client.force_login(tier1)
    assert "No change records yet." in client.get("/changes/").content.decode()


def test_the_form_creates_a_draft_and_puts_errors_next_to_fields(client, tier1, tier2):
    client.force_login(tier1)
    bad = client.post(
        "/changes/new",
        {
            "title": "",
            "kind": "normal",
            "risk": "low",
            "window_start": "2026-12-02T10:00",
            "window_end": "2026-12-02T09:00",
            "approvers": ["999999999999999999999"],
        },
    )
    html = bad.content.decode()
    assert bad.status_code == 400 and not ChangeRequest.objects.exists()
    assert "The window must end after it starts." in html and "This field is required." in html
    good = client.post(
        "/changes/new",
        {
            "title": "Replace switch SW-2",
            "kind": "normal",
            "risk": "medium",
            "plan": "Swap it.",
            "rollback_plan": "Swap back.",
            "window_start": "2026-12-02T09:00",
            "window_end": "2026-12-02T10:00",
            "owner": tier1.pk,
            "approvers": [tier2.pk],
        },
    )
    c = ChangeRequest.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/changes/{c.pk}/"
    assert c.status == Status.DRAFT and c.requested_by == tier1 and c.owner == tier1
    assert list(c.approvals.values_list("approver_id", flat=True)) == [tier2.pk]


def test_a_stale_edit_from_the_form_is_refused(client, tier1, tier2):
    c = change(tier1, title="As first seen")
    seen = c.version
    services.update_change(change=c, by=tier2, version=seen, title="Edited by someone else")
    client.force_login(tier1)
    response = client.post(
        f"/changes/{c.pk}/edit",
        {"title": "Mine", "kind": "normal", "risk": "low", "version": seen},
    )
    assert response.status_code == 400 and "after you opened it" in response.content.decode()
    assert fresh(c).title == "Edited by someone else"


def test_text_is_shown_as_typed_and_escaped(client, tier1):
    c = change(
        tier1,
        title="Move <db> & web",
        plan="1. <script>alert(1)</script>\n2. Check & confirm",
        rollback_plan="Undo <all>",
    )
    client.force_login(tier1)
    html = client.get(f"/changes/{c.pk}/").content.decode()
    assert "Move &lt;db&gt; &amp; web" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>2. Check &amp; confirm" in html
    assert "<script>alert(1)" not in html and "Undo &lt;all&gt;" in html
    assert fresh(c).plan == "1. <script>alert(1)</script>\n2. Check & confirm"
    listed = client.get("/changes/").content.decode()
    assert "Move &lt;db&gt; &amp; web" in listed


def test_approvers_decide_on_the_page_and_others_get_404(client, tier1, tier2, tier3):
    c = change(tier1, approvers=(tier2, tier3))
    services.submit(change=c, by=tier1, version=None)
    a2 = ChangeApproval.objects.get(change=c, approver=tier2)
    a3 = ChangeApproval.objects.get(change=c, approver=tier3)
    # a technician who is not the approver cannot decide it
    client.force_login(tier1)
    assert (
        client.post(f"/changes/{c.pk}/approvals/{a2.pk}", {"decision": "approved"}).status_code
        == 404
    )
    # nor may another approver decide someone else's
    client.force_login(tier3)
    assert (
        client.post(f"/changes/{c.pk}/approvals/{a2.pk}", {"decision": "approved"}).status_code
        == 404
    )
    assert ChangeApproval.objects.get(pk=a2.pk).decision == "pending"
    # each approver decides their own; both approving approves the change
    client.force_login(tier2)
    page = client.get(f"/changes/{c.pk}/").content.decode()
    assert f"/changes/{c.pk}/approvals/{a2.pk}" in page and f"approvals/{a3.pk}" not in page
    refused = client.post(f"/changes/{c.pk}/approvals/{a2.pk}", {"decision": "rejected"})
    assert refused.status_code == 400 and "Say why you reject it." in refused.content.decode()
    client.post(f"/changes/{c.pk}/approvals/{a2.pk}", {"decision": "approved", "comment": "ok"})
    client.force_login(tier3)
    client.post(f"/changes/{c.pk}/approvals/{a3.pk}", {"decision": "approved"})
    assert fresh(c).status == Status.APPROVED


def test_a_rejection_on_the_page_rejects_the_change(client, tier1, tier2):
    c = change(tier1, approvers=(tier2,))
    services.submit(change=c, by=tier1, version=None)
    approval = ChangeApproval.objects.get(change=c)
    client.force_login(tier2)
    client.post(
        f"/changes/{c.pk}/approvals/{approval.pk}",
        {"decision": "rejected", "comment": "Clashes with\nthe payroll run"},
    )
    assert fresh(c).status == Status.REJECTED
    html = client.get(f"/changes/{c.pk}/").content.decode()
    assert "Clashes with<br>the payroll run" in html


def test_moving_on_the_page_and_refusals_shown(client, tier1, lead):
    c = change(tier1, kind=Kind.STANDARD)
    client.force_login(tier1)
    client.post(f"/changes/{c.pk}/move", {"to": "submitted", "version": c.version})
    assert fresh(c).status == Status.APPROVED
    # an outcome without a result is refused next to the note
    c = fresh(c)
    client.post(f"/changes/{c.pk}/move", {"to": "scheduled", "version": c.version})
    c = fresh(c)
    client.post(f"/changes/{c.pk}/move", {"to": "in_progress", "version": c.version})
    c = fresh(c)
    refused = client.post(f"/changes/{c.pk}/move", {"to": "implemented", "version": c.version})
    assert refused.status_code == 400 and "The result is required." in refused.content.decode()
    # a stale version is refused
    stale = client.post(
        f"/changes/{c.pk}/move", {"to": "implemented", "note": "ok", "version": c.version - 1}
    )
    assert stale.status_code == 400 and fresh(c).status == Status.IN_PROGRESS
    client.post(f"/changes/{c.pk}/move", {"to": "implemented", "note": "ok", "version": c.version})
    assert fresh(c).status == Status.IMPLEMENTED
    # a technician may not cancel: 403
    other = change(tier1)
    response = client.post(
        f"/changes/{other.pk}/move", {"to": "cancelled", "version": other.version}
    )
    assert response.status_code == 403 and fresh(other).status == Status.DRAFT
    client.force_login(lead)
    client.post(f"/changes/{other.pk}/move", {"to": "cancelled", "version": other.version})
    assert fresh(other).status == Status.CANCELLED


def test_the_calendar_keeps_to_its_month(client, tier1):
    # given: one change the night of 31 January into 1 February, one on 1 March at midnight
    change(
        tier1,
        title="Across the month end",
        window_start=_aware(2027, 1, 31, 22),
        window_end=_aware(2027, 2, 1, 2),
    )
    change(
        tier1,
        title="March first",
        window_start=_aware(2027, 3, 1, 0),
        window_end=_aware(2027, 3, 1, 1),
    )
    change(
        tier1,
        title="Ends at February's start",
        window_start=_aware(2027, 1, 31, 23),
        window_end=_aware(2027, 2, 1, 0),
    )
    client.force_login(tier1)
    # when
    jan = client.get("/changes/calendar/", {"month": "2027-01"}).content.decode()
    feb = client.get("/changes/calendar/", {"month": "2027-02"}).content.decode()
    mar = client.get("/changes/calendar/", {"month": "2027-03"}).content.decode()
    # then
    assert "Across the month end" in jan and 'data-day="2027-01-31"' in jan
    assert "Across the month end" in feb and 'data-day="2027-02-01"' in feb
    assert "Ends at February&#x27;s start" in jan and "February&#x27;s start" not in feb
    assert "March first" in mar and "March first" not in feb
    assert 'href="?month=2027-01"' in feb and 'href="?month=2027-03"' in feb
    dec = client.get("/changes/calendar/", {"month": "2026-12"}).content.decode()
    assert 'href="?month=2027-01"' in dec and "No changes in December 2026." in dec
    junk = client.get("/changes/calendar/", {"month": "2027-13"})
    assert junk.status_code == 200


def test_the_ticket_page_lists_linked_changes_and_the_sidebar_links(client, tier1, employee):
    c = change(tier1, title="Swap the <core> switch")
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(tier1)
    client.post(f"/changes/{c.pk}/tickets", {"ticket": ticket.number})
    from tests.assets import factories as asset_factories

    laptop = asset_factories.asset(tag="LT-17")
    client.post(f"/changes/{c.pk}/assets", {"asset": str(laptop.pk)})
    client.post(f"/changes/{c.pk}/assets", {"asset": "-1"})
    missing = client.post(f"/changes/{c.pk}/tickets", {"ticket": "TL-999999"}, follow=True)
    assert "No ticket “TL-999999” that you can read." in missing.content.decode()
    html = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'data-panel="changes.ticket_changes"' in html and c.number in html
    assert "Swap the &lt;core&gt; switch" in html
    assert 'href="/changes/"' in html
    page = client.get(f"/changes/{c.pk}/").content.decode()
    assert ticket.number in page and f'<a href="/assets/{laptop.pk}/">LT-17</a>' in page
    assert "Asset #-1" not in page


def test_the_window_is_checked_when_scheduling_on_the_page(client, tier1):
    c = change(tier1, kind=Kind.STANDARD, window_start=None, window_end=None)
    services.submit(change=c, by=tier1, version=None)
    client.force_login(tier1)
    c = fresh(c)
    refused = client.post(
        f"/changes/{c.pk}/move",
        {
            "to": "scheduled",
            "version": c.version,
            "window_start": "2027-01-02T10:00",
            "window_end": "2027-01-02T10:00",
        },
    )
    assert (
        refused.status_code == 400
        and "The window must end after it starts." in refused.content.decode()
    )
    client.post(
        f"/changes/{c.pk}/move",
        {
            "to": "scheduled",
            "version": c.version,
            "window_start": "2027-01-02T10:00",
            "window_end": "2027-01-02T12:00",
        },
    )
    assert fresh(c).status == Status.SCHEDULED
    assert fresh(c).window_end - fresh(c).window_start == timedelta(hours=2)


def test_the_list_page_costs_a_bounded_number_of_queries(
    client, tier1, django_assert_max_num_queries
):
    for n in range(12):
        change(tier1, title=f"Change {n}", owner=tier1)
    client.force_login(tier1)
    client.get("/changes/")  # warm the session and content types
    with django_assert_max_num_queries(12):
        response = client.get("/changes/")
    assert response.status_code == 200 and "Change 11" in response.content.decode()


def test_the_admin_lists_changes_in_their_section_read_only(client, admin_user, tier1):
    c = change(tier1, title="Rotate the VPN certificate")
    client.force_login(admin_user)
    front = client.get("/admin/").content.decode()
    assert "Changes" in front and "/admin/changes/changerequest/" in front
    page = client.get(f"/admin/changes/changerequest/{c.pk}/change/")
    assert page.status_code == 200 and "Rotate the VPN certificate" in page.content.decode()
    assert client.get("/admin/changes/changerequest/add/").status_code == 403


def test_sorting_by_window_puts_changes_without_one_last(client, tier1):
    change(tier1, title="No window yet", window_start=None, window_end=None)
    change(tier1, title="Has a window")
    client.force_login(tier1)
    for sort in ("window", "-window"):
        html = client.get("/changes/", {"sort": sort}).content.decode()
        assert html.index("Has a window") < html.index("No window yet"), sort
