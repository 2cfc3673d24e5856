"""Issue 8, point 1: the data migration desk/0007 repairs rows the old code stored escaped."""

from __future__ import annotations

import importlib
from html import unescape

import nh3
import pytest
from django.apps import apps
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.desk import factories as desk_factories
from tierline.core.history import record
from tierline.core.models import HistoryEntry
from tierline.desk import services
from tierline.desk.models import Call, Escalation, Message, Ticket, WorkOrder

repair = importlib.import_module("tierline.desk.migrations.0007_unescape_text_stored_escaped")

OLD_TAGS = {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul"}


def old_clean_text(text: str) -> str:
    """What the old code stored for a subject or a name (core.sanitise.clean_text, before)."""
    return nh3.clean(text, tags=set()).strip()


def old_clean_html(text: str) -> str:
    """What it stored for a description, message, summary or note (clean_html, before)."""
    return nh3.clean(
        text,
        tags=OLD_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def test_the_old_codes_entities_are_decoded_once():
    assert repair.unescape_old_text("Printer &amp; scanner &lt;2nd floor&gt;") == (
        "Printer & scanner <2nd floor>"
    )
    assert repair.unescape_old_text("a&nbsp;b &quot;c&quot; it&#x27;s it&#39;s") == (
        "a\xa0b \"c\" it's it's"
    )
    # a typed "&lt;" was stored "&amp;lt;": it comes back as "&lt;", not "<"
    assert repair.unescape_old_text("write &amp;lt; for &lt;") == "write &lt; for <"


def test_text_the_old_code_could_not_have_written_is_left_alone():
    for text in ("Printer & scanner", "a < b &amp; c", "R&amp;D <x>", "&copy; 2026", ""):
        assert repair.unescape_old_text(text) == text


def test_tags_the_old_code_kept_do_not_stop_the_repair():
    stored = old_clean_html("<p>Fish & chips</p><b>3 > 2</b>")
    assert repair.unescape_old_text(stored) == "<p>Fish & chips</p><b>3 > 2</b>"


def test_an_entity_typed_before_was_decoded_by_nh3_and_stays_decoded():
    # nh3 parsed typed text as HTML: a typed "&lt;" was stored as a typed "<" was
    assert old_clean_text("&lt;tag&gt; &amp;") == "&lt;tag&gt; &amp;"
    assert repair.unescape_old_text(old_clean_text("&lt;tag&gt; &amp;")) == "<tag> &"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cc", "Cs"))))
def test_a_subject_the_old_code_stored_comes_back_as_nh3_read_it(typed):
    # given what the old code stored for a subject
    stored = old_clean_text(typed)
    # when
    repaired = repair.unescape_old_text(stored)
    # then, where nh3 deleted nothing (no "<"), it reads as typed, its entities decoded as
    # an HTML parser decodes them (the old strip() did not see an escaped no-break space)
    if "<" not in typed:
        assert repaired.strip() == unescape(typed).strip()
    # and, with no "&" typed, a second run changes nothing
    if "&" not in typed:
        assert repair.unescape_old_text(repaired) == repaired


@pytest.mark.django_db
def test_the_migration_repairs_every_kind_of_row_and_a_second_run_changes_nothing(
    employee, tier2, lead
):
    # given rows as the old code wrote them, next to rows written by the new code
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=lead)
    services.escalate(ticket=ticket, by=lead, summary="tried")
    start = ticket.created_at
    wo = services.create_work_order(
        ticket=ticket, by=lead, technician=tier2, scheduled_start=start, scheduled_end=start
    )
    call = services.log_call(
        by=lead, outcome=Call.Outcome.EXISTING_TICKET, ticket=ticket, caller_name="x"
    )
    reply = services.add_message(ticket=ticket, by=lead, body="x")
    Ticket.objects.filter(pk=ticket.pk).update(
        subject=old_clean_text("Printer & scanner <2nd floor>"),
        description=old_clean_html("Error <DeviceNotFound> & 3 > 2\nsecond line"),
        resolution_note=old_clean_html("Use Ctrl & Alt"),
    )
    Message.objects.filter(pk=reply.pk).update(body=old_clean_html('Say "a < b" & go'))
    Escalation.objects.filter(ticket=ticket).update(summary=old_clean_html("Tried A & B"))
    WorkOrder.objects.filter(pk=wo.pk).update(
        desk=old_clean_text("B<2> & C"),
        device=old_clean_text("HP & Canon"),
        instructions=old_clean_html("Bring <toner> & cable"),
        outcome=old_clean_html("Done & dusted"),
        signoff_name=old_clean_text("O'Brien & Co"),
        checklist=[{"text": old_clean_text("Tray & roller"), "done": False}],
    )
    Call.objects.filter(pk=call.pk).update(
        caller_name=old_clean_text("Zoë & Al"), notes=old_clean_html("Call & callback")
    )
    entry = record(ticket, lead, "escalated", summary=old_clean_html("Tried A & B"))
    new_ticket = desk_factories.ticket(employee, subject="New & <typed>")
    # when
    counts = repair.repair_escaped_text(apps)
    # then the old rows read as typed (less what nh3 deleted: <DeviceNotFound> is gone)
    ticket.refresh_from_db()
    assert ticket.subject == "Printer & scanner <2nd floor>"
    assert ticket.description == "Error  & 3 > 2\nsecond line"
    assert ticket.resolution_note == "Use Ctrl & Alt"
    assert Message.objects.get(pk=reply.pk).body == 'Say "a < b" & go'
    assert Escalation.objects.get(ticket=ticket).summary == "Tried A & B"
    wo.refresh_from_db()
    assert (wo.desk, wo.device, wo.instructions, wo.outcome, wo.signoff_name) == (
        "B<2> & C",
        "HP & Canon",
        "Bring  & cable",
        "Done & dusted",
        "O'Brien & Co",
    )
    assert wo.checklist == [{"text": "Tray & roller", "done": False}]
    call.refresh_from_db()
    assert (call.caller_name, call.notes) == ("Zoë & Al", "Call & callback")
    entry.refresh_from_db()
    assert entry.summary == "Tried A & B"
    # the new code's row is untouched
    new_ticket.refresh_from_db()
    assert new_ticket.subject == "New & <typed>"
    assert counts["Ticket"] == 1 and counts["WorkOrder checklist"] == 1
    # and a second run changes nothing
    assert repair.repair_escaped_text(apps) == {}
    ticket.refresh_from_db()
    assert ticket.subject == "Printer & scanner <2nd floor>"
    assert HistoryEntry.objects.get(pk=entry.pk).summary == "Tried A & B"
