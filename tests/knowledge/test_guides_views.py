"""Running guides through the pages: the ticket panel, escalation, the portal, the admin, and
every refusal a 4xx that changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.knowledge import guide_factories
from tests.people.factories import technician
from tierline.desk import services as desk_services
from tierline.desk.models import Escalation, Ticket
from tierline.knowledge import guides
from tierline.knowledge.guides import StepSpec
from tierline.knowledge.models import Guide, GuideRun, GuideStep
from tierline.knowledge.models_guides import RunOutcome, StepKind

pytestmark = pytest.mark.django_db


def _run_from_panel(client, guide, ticket) -> GuideRun:
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Troubleshooting guides" in page and guide.title in page
    response = client.post(
        reverse("knowledge:guide_start", args=[guide.pk]), {"ticket": ticket.number}
    )
    run = GuideRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("knowledge:guide_run", args=[run.pk])
    return run


def _answer(client, ns, run, step, answer):
    return client.post(
        reverse(f"{ns}:guide_answer", args=[run.pk]), {"step": step, "answer": answer}
    )


def test_tier1_runs_a_guide_from_the_ticket_and_escalates_with_the_answers(client, tier1, employee):
    guide = guide_factories.printer_guide()
    ticket = desk_factories.ticket(employee, category=guide_factories.printer_category())
    client.force_login(tier1)
    run = _run_from_panel(client, guide, ticket)

    page = client.get(reverse("knowledge:guide_run", args=[run.pk])).content.decode()
    assert "<strong>orange</strong>" in page and "Start again" in page
    _answer(client, "knowledge", run, 1, guide_factories.answer_id(guide, 1, "No"))
    # back, then forward again
    client.post(reverse("knowledge:guide_back", args=[run.pk]))
    run.refresh_from_db()
    assert run.current_number == 1 and run.path == []
    _answer(client, "knowledge", run, 1, guide_factories.answer_id(guide, 1, "No"))
    _answer(client, "knowledge", run, 3, guide_factories.answer_id(guide, 3, "Yes"))
    run.refresh_from_db()
    assert run.outcome == RunOutcome.ESCALATE

    page = client.get(reverse("knowledge:guide_run", args=[run.pk])).content.decode()
    assert f"Escalate {ticket.number} with these answers" in page
    response = client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "escalate"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tier == 2
    summary = Escalation.objects.get(ticket=ticket).summary
    assert "1. Does the printer show an orange light?\n   Answer: No" in summary
    assert "Outcome: to escalate." in summary
    # the run is written once: escalating again is refused, the ticket stays where it is
    again = client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "escalate"})
    assert again.status_code == 400
    assert Escalation.objects.filter(ticket=ticket).count() == 1


def test_a_technician_who_may_not_escalate_writes_a_note(client, tier2, employee):
    # a Tier 1 ticket: Tier 2 reads it and may note it, but does not work it
    guide = guide_factories.printer_guide()
    ticket = desk_factories.ticket(employee, category=guide_factories.printer_category())
    client.force_login(tier2)
    run = _run_from_panel(client, guide, ticket)
    _answer(client, "knowledge", run, 1, guide_factories.answer_id(guide, 1, "No"))
    _answer(client, "knowledge", run, 3, guide_factories.answer_id(guide, 3, "Yes"))
    page = client.get(reverse("knowledge:guide_run", args=[run.pk])).content.decode()
    assert "with these answers" not in page
    response = client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "escalate"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.tier == 1 and not Escalation.objects.exists()
    client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "note"})
    note = ticket.messages.get(internal=True)
    assert note.author == tier2 and "Outcome: to escalate." in note.body


def test_the_call_page_offers_the_guides(client, tier1):
    client.force_login(tier1)
    page = client.get(reverse("desk:call_new")).content.decode()
    assert reverse("knowledge:guides") in page
    guide_factories.printer_guide(is_public=False)
    listing = client.get(reverse("knowledge:guides")).content.decode()
    assert "Printer prints blank pages" in listing and "Internal" in listing


def test_a_requester_runs_no_internal_guide_and_writes_on_no_ticket(client, employee, employee2):
    internal = guide_factories.printer_guide(is_public=False)
    public = guide_factories.printer_guide(title="Public one")
    other_ticket = desk_factories.ticket(employee2)
    client.force_login(employee)
    assert client.get(reverse("knowledge:guides")).status_code == 404
    assert client.post(reverse("portal:guide_start", args=[internal.pk])).status_code == 404
    desk_start = client.post(
        reverse("knowledge:guide_start", args=[public.pk]), {"ticket": other_ticket.number}
    )
    assert desk_start.status_code == 404
    help_page = client.get(reverse("portal:help")).content.decode()
    assert "Public one" in help_page and "Printer prints blank pages" not in help_page
    assert not GuideRun.objects.exists()
    # a technician's run on the ticket is not the requester's to answer or write
    run = guides.start_run(
        guide=public,
        by=technician(1, username="someone"),
        where=GuideRun.Where.DESK,
        ticket=other_ticket,
    )
    assert (
        _answer(client, "portal", run, 1, guide_factories.answer_id(public, 1, "Yes")).status_code
        == 404
    )
    assert (
        client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "note"}).status_code
        == 404
    )
    assert not other_ticket.messages.filter(internal=True).exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"step": "1", "answer": "999999"}, 400),  # unknown answer
        ({"step": "42", "answer": "{yes}"}, 400),  # unknown step
        ({"step": "1", "answer": "{other}"}, 400),  # another guide's answer
        ({"step": "1", "answer": "abc"}, 400),  # tampered
        ({"step": "1\x00", "answer": "{yes}"}, 400),
        ({}, 400),
    ],
)
def test_bad_answers_are_a_400_and_change_nothing(client, tier1, data, status):
    guide = guide_factories.printer_guide()
    other = guide_factories.printer_guide(title="Other")
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK)
    values = {
        "yes": guide_factories.answer_id(guide, 1, "Yes"),
        "other": guide_factories.answer_id(other, 1, "Yes"),
    }
    data = {k: v.format(**values) for k, v in data.items()}
    client.force_login(tier1)
    response = client.post(reverse("knowledge:guide_answer", args=[run.pk]), data)
    assert response.status_code == status
    run.refresh_from_db()
    assert run.current_number == 1 and run.path == []


def test_unknown_runs_and_actions(client, tier1):
    guide = guide_factories.printer_guide()
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK)
    client.force_login(tier1)
    assert client.get(reverse("knowledge:guide_run", args=["999999"])).status_code == 404
    assert client.get(reverse("knowledge:guide_run", args=["x"])).status_code == 404
    # a desk run is not reached through the portal's addresses
    assert client.get(reverse("portal:guide_run", args=[run.pk])).status_code == 404
    assert client.post(reverse("knowledge:guide_start", args=["abc"])).status_code == 404
    bogus = client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "delete"})
    assert bogus.status_code == 400
    # not ended yet, on no ticket
    assert (
        client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "note"}).status_code
        == 400
    )
    assert client.get(reverse("knowledge:guide_answer", args=[run.pk])).status_code == 405


def test_the_portal_run_solved_is_counted_and_opens_nothing(client, employee):
    guide = guide_factories.printer_guide()
    client.force_login(employee)
    client.post(reverse("portal:guide_start", args=[guide.pk]))
    run = GuideRun.objects.get()
    assert run.where == GuideRun.Where.PORTAL and run.ticket is None
    _answer(client, "portal", run, 1, guide_factories.answer_id(guide, 1, "Yes"))
    page = client.get(reverse("portal:guide_run", args=[run.pk])).content.decode()
    assert "Glad it's fixed" in page and "Open the front door" in page
    assert guides.run_counts(guide) == {"solved": 1, "escalated": 0, "unfinished": 0}
    assert not Ticket.objects.filter(requester=employee).exists()


def test_the_portal_run_escalated_prefills_the_new_request(client, employee, employee2):
    guide = guide_factories.printer_guide()
    client.force_login(employee)
    client.post(reverse("portal:guide_start", args=[guide.pk]))
    run = GuideRun.objects.get()
    _answer(client, "portal", run, 1, guide_factories.answer_id(guide, 1, "No"))
    _answer(client, "portal", run, 3, guide_factories.answer_id(guide, 3, "Yes"))
    page = client.get(reverse("portal:guide_run", args=[run.pk])).content.decode()
    link = f"{reverse('portal:new')}?guide_run={run.pk}"
    assert link in page
    form = client.get(link).content.decode()
    assert "Printer prints blank pages" in form
    assert "1. Does the printer show an orange light?\n   Answer: No" in form
    assert f'<option value="{guide.category_id}" selected>' in form
    # someone else's run prefills nothing
    client.force_login(employee2)
    assert "Answer: No" not in client.get(link).content.decode()


def test_text_is_escaped_on_display(client, tier1, employee):
    guide = guides.create_guide(
        title="Mail <b>bounces</b> & more",
        summary="When <script>x</script> & co",
        steps=[
            StepSpec(1, "Line one\nLine <two> & three", answers=(("<i>Yes</i> & sure", 2),)),
            StepSpec(2, "Fixed <b>now</b>", StepKind.SOLVED),
        ],
        category=guide_factories.printer_category(),
    )
    ticket = desk_factories.ticket(employee, category=guide_factories.printer_category())
    client.force_login(tier1)
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK, ticket=ticket)
    page = client.get(reverse("knowledge:guide_run", args=[run.pk])).content.decode()
    assert "Mail &lt;b&gt;bounces&lt;/b&gt; &amp; more" in page
    assert "When &lt;script&gt;x&lt;/script&gt; &amp; co" in page
    assert "Line <two>" not in page and "Line &lt;two&gt; &amp; three" in page
    assert "&lt;i&gt;Yes&lt;/i&gt; &amp; sure" in page and "<i>Yes</i>" not in page
    _answer(
        client, "knowledge", run, 1, GuideStep.objects.get(guide=guide, number=1).answers.get().pk
    )
    client.post(reverse("knowledge:guide_write", args=[run.pk]), {"action": "note"})
    note = ticket.messages.get(internal=True)
    assert "Line one Line <two> & three" in note.body  # stored as typed
    ticket_page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "&lt;i&gt;Yes&lt;/i&gt; &amp; sure" in ticket_page and "<i>Yes</i>" not in ticket_page
    assert "Line one Line &lt;two&gt; &amp; three<br>" in ticket_page


# --- the admin ----------------------------------------------------------------------------


def _admin_post(client, steps: list[dict], **fields):
    data = {
        "title": "Can't connect to Wi-Fi",
        "summary": "",
        "category": "",
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    for n, row in enumerate(steps):
        data.update({f"steps-{n}-{k}": v for k, v in row.items()})
    return client.post(reverse("admin:knowledge_guide_add"), data)


def test_the_admin_writes_a_guide_with_its_answers(admin_client):
    response = _admin_post(
        admin_client,
        [
            {
                "number": "1",
                "kind": "question",
                "text": "Is Wi-Fi on?",
                "answers": "Yes -> 2\nNo -> 3",
            },
            {"number": "2", "kind": "escalate", "text": "Tier 2 checks the access point."},
            {"number": "3", "kind": "solved", "text": "Turn it on (Fn+F2).", "answers": ""},
        ],
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    guide = Guide.objects.get()
    first = guide.steps.get(number=1)
    assert [(a.label, a.next_number) for a in first.answers.all()] == [("Yes", 2), ("No", 3)]
    # the change page shows the answers as typed
    page = admin_client.get(
        reverse("admin:knowledge_guide_change", args=[guide.pk])
    ).content.decode()
    assert "Yes -&gt; 2\nNo -&gt; 3" in page


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"number": "1", "kind": "question", "text": "Is Wi-Fi on?", "answers": "Yes -> 7"}],
            "goes to step 7, which this guide does not have",
        ),
        (
            [
                {"number": "1", "kind": "question", "text": "On?", "answers": "Yes -> 2"},
                {"number": "2", "kind": "question", "text": "Again?", "answers": "Again -> 1"},
            ],
            "a guide can&#x27;t loop",
        ),
        (
            [{"number": "1", "kind": "question", "text": "On?", "answers": "Yes 2"}],
            "has no &#x27;-&gt;&#x27;",
        ),
        ([], "A guide needs at least one step"),
        (
            [{"number": "1", "kind": "solved", "text": "   "}],
            "This field is required.",
        ),
    ],
)
def test_the_admin_refuses_a_bad_tree_with_a_message(admin_client, steps, message):
    response = _admin_post(admin_client, steps)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Guide.objects.exists()


def test_the_admin_edits_the_answers_of_a_guide(admin_client):
    guide = guide_factories.printer_guide()
    steps = list(guide.steps.order_by("number"))
    page = admin_client.get(reverse("admin:knowledge_guide_change", args=[guide.pk]))
    assert page.status_code == 200
    data = {
        "title": guide.title,
        "summary": "",
        "category": guide.category_id,
        "is_public": "on",
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(len(steps)),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for n, step in enumerate(steps):
        answers = "\n".join(f"{a.label} -> {a.next_number}" for a in step.answers.all())
        data.update(
            {
                f"steps-{n}-id": step.pk,
                f"steps-{n}-guide": guide.pk,
                f"steps-{n}-number": step.number,
                f"steps-{n}-kind": step.kind,
                f"steps-{n}-text": step.text,
                f"steps-{n}-answers": answers,
            }
        )
    # step 1's "Yes" now goes to step 4: then step 2 can't be reached
    data["steps-0-answers"] = "Yes -> 4\nNo -> 3"
    refused = admin_client.post(reverse("admin:knowledge_guide_change", args=[guide.pk]), data)
    assert refused.status_code == 200
    assert "Step 2 can&#x27;t be reached from step 1" in refused.content.decode()
    assert guide.steps.get(number=1).answers.get(label="Yes").next_number == 2
    # and deleting step 2 with it is accepted
    data["steps-1-DELETE"] = "on"
    saved = admin_client.post(reverse("admin:knowledge_guide_change", args=[guide.pk]), data)
    assert saved.status_code == 302
    assert guide.steps.get(number=1).answers.get(label="Yes").next_number == 4
    assert not guide.steps.filter(number=2).exists()
    listing = admin_client.get(reverse("admin:knowledge_guide_changelist")).content.decode()
    assert "Runs solved" in listing


def test_a_step_removed_mid_run_asks_to_start_again(client, tier1):
    guide = guide_factories.printer_guide()
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK)
    guides.answer(
        run=run, by=tier1, step_number=1, answer_id=guide_factories.answer_id(guide, 1, "No")
    )
    GuideStep.objects.filter(guide=guide, number=3).delete()
    client.force_login(tier1)
    page = client.get(reverse("knowledge:guide_run", args=[run.pk])).content.decode()
    assert "This guide changed" in page
    response = _answer(client, "knowledge", run, 3, "1")
    assert response.status_code == 400


def test_the_desk_refusing_the_escalation_is_a_message(client, tier1, employee):
    guide = guide_factories.printer_guide()
    ticket = desk_factories.ticket(employee)
    run = guides.start_run(guide=guide, by=tier1, where=GuideRun.Where.DESK, ticket=ticket)
    for number, label in ((1, "No"), (3, "Yes")):
        run = guides.answer(
            run=run,
            by=tier1,
            step_number=number,
            answer_id=guide_factories.answer_id(guide, number, label),
        )
    desk_services.take(ticket=ticket, by=tier1)
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    client.force_login(tier1)
    response = client.post(
        reverse("knowledge:guide_write", args=[run.pk]), {"action": "escalate"}, follow=True
    )
    assert response.status_code == 200
    assert "you can&#x27;t escalate it" in response.content.decode()
    run.refresh_from_db()
    assert run.written_at is None and not Escalation.objects.exists()
