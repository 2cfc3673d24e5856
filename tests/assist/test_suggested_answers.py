"""Suggested answers: solved tickets and articles embedded for real (all-MiniLM-L6-v2 in NumPy)
on a slice of the shared ticket data set, ranked by keywords plus meaning, cut to what each
person may read; the ticket page's panel, the portal's "these might solve it" and the
deflection it counts."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils.html import escape

from tests.assist import slice as data
from tests.desk import factories as desk_factories
from tests.knowledge import factories as kb
from tests.people.factories import restricted_team, technician
from tierline.assist import answers, deflection
from tierline.assist.models import Deflection, Embedding
from tierline.desk import services as desk_services
from tierline.desk.models import Category, Ticket

pytestmark = pytest.mark.django_db

# Three solved tickets of the data set (found by their words) and how someone else would put
# the same problem, with few of the same words.
TARGETS = [
    (
        "unable to create a new sr on oracle support",
        "Oracle support service request",
        "Raised the account's access on the Oracle support portal: new requests can be opened.",
        "I can't log a case with Oracle's help site any more, it won't let me open one",
    ),
    (
        "please action submit your time cards for approval",
        "Time cards for approval",
        "Approved the pending timecards in the HR system and reminded the team.",
        "my manager still has to approve the time cards I submitted",
    ),
    (
        "new partition for laptop",
        "Laptop partition",
        "Shrunk C: and created a D: data volume with Disk Management.",
        "could you split my notebook's hard drive into two drives",
    ),
]
BACKGROUND = 25


@pytest.fixture(autouse=True)
def _fresh_corpus():
    # The in-memory matrix is per process; a rolled-back test's rows must not linger.
    answers.corpus().reset()
    yield
    answers.corpus().reset()


@pytest.fixture
def no_embedding_on_commit(settings):
    """Resolve many tickets without embedding each (the backfill then does them in batches)."""
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": False}
    yield
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": True}


def solve(requester, tech, subject: str, description: str, answer: str, **kwargs) -> Ticket:
    ticket = desk_factories.ticket(
        requester=requester, subject=subject, description=description, **kwargs
    )
    desk_services.resolve(ticket=ticket, by=tech, resolution_code="fixed", body=answer)
    return ticket


def _row_with(words: str) -> str:
    return next(r[data.TEXT] for r in data.rows() if r[data.TEXT].startswith(words))


@pytest.fixture
def solved_desk(no_embedding_on_commit, employee, tier1, settings):
    """Twenty-five solved tickets of the slice, the three targets, and the backfill run."""
    targets = []
    for words, subject, answer, _ in TARGETS:
        targets.append(solve(employee, tier1, subject, _row_with(words), answer))
    target_texts = {_row_with(w) for w, *_ in TARGETS}
    for row in [r for r in data.rows() if r[data.TEXT] not in target_texts][:BACKGROUND]:
        words = row[data.TEXT].split()
        solve(
            employee,
            tier1,
            " ".join(words[:6])[:200] or "ticket",
            " ".join(words) or "ticket",
            f"Handled by the {row[data.LABEL]} team.",
        )
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": True}
    assert answers.backfill() == BACKGROUND + len(TARGETS)
    return targets


# --- stored --------------------------------------------------------------------------------


def test_a_resolved_ticket_and_a_saved_article_are_embedded_after_commit(
    employee, tier1, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = solve(
            employee, tier1, "Outlook crashes", "Outlook closes on start.", "Repaired Office."
        )
    row = Embedding.objects.get(kind=Embedding.Kind.TICKET, object_id=ticket.pk)
    vector = np.frombuffer(bytes(row.vector), dtype="<f4")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    assert "Repaired Office." in row.text
    with django_capture_on_commit_callbacks(execute=True):
        article = kb.article(tier1)
        internal = kb.internal_article(tier1)
    stored = dict(
        Embedding.objects.filter(kind=Embedding.Kind.ARTICLE).values_list("object_id", "public")
    )
    assert stored == {article.pk: True, internal.pk: False}


def test_an_open_ticket_is_not_embedded(employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(requester=employee)
    assert answers.embed_ticket(ticket_id=ticket.pk) is False
    assert not Embedding.objects.exists()


def test_backfill_embeds_what_existed_before_once(
    no_embedding_on_commit, employee, tier1, settings
):
    solve(employee, tier1, "VPN drops", "The VPN drops every hour.", "Updated the VPN client.")
    kb.article(tier1)
    assert not Embedding.objects.exists()
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": True}
    assert answers.backfill() == 2
    assert answers.backfill() == 0  # unchanged text is not embedded again


# --- ranked --------------------------------------------------------------------------------


def test_hybrid_ranking_finds_the_solved_ticket_for_paraphrased_text(solved_desk, tier1):
    for target, (_, _, _, paraphrase) in zip(solved_desk, TARGETS, strict=True):
        found = answers.suggestions(user=tier1, text=paraphrase)
        refs = [a.reference for a in found]
        assert target.number in refs, (paraphrase, refs)  # among the five shown


def test_a_ticket_is_never_suggested_to_itself_and_the_answer_is_its_resolution(solved_desk, tier1):
    target = solved_desk[0]
    found = answers.suggestions(user=tier1, ticket=target)
    assert target.number not in [a.reference for a in found]
    best = answers.suggestions(user=tier1, text=TARGETS[0][3])
    hit = next(a for a in best if a.reference == target.number)
    assert hit.answer == TARGETS[0][2]


def test_employee_sees_only_public_articles(employee, tier1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        solve(employee, tier1, "Printer jam", "Paper jams on floor 2.", "Cleared the jam.")
        public = kb.article(tier1)
        internal = kb.internal_article(tier1, title="Paper jams: reset the printer's spooler")
    text = "the printer on floor 2 keeps jamming paper"
    mine = answers.suggestions(user=employee, text=text)
    assert [(a.kind, a.object_id) for a in mine] == [("article", public.pk)]
    assert mine[0].url == f"/portal/help/{public.pk}/"
    desk = {(a.kind, a.object_id) for a in answers.suggestions(user=tier1, text=text)}
    assert ("article", internal.pk) in desk and ("article", public.pk) in desk
    assert any(kind == "ticket" for kind, _ in desk)


def test_technician_sees_only_tickets_they_may_read(
    employee, tier1, lead, django_capture_on_commit_callbacks
):
    hr = technician(2)
    hr_team = restricted_team(members=(hr,))
    with django_capture_on_commit_callbacks(execute=True):
        secret = desk_factories.ticket(
            requester=employee,
            subject="Salary letter",
            description="Need my salary confirmation letter for the bank.",
            team=hr_team,
        )
        desk_services.resolve(
            ticket=secret, by=hr, resolution_code="fixed", body="Sent the salary letter."
        )
    text = "I need a letter confirming my salary for a mortgage"
    assert secret.number not in [a.reference for a in answers.suggestions(user=tier1, text=text)]
    assert secret.number in [a.reference for a in answers.suggestions(user=hr, text=text)]
    assert secret.number in [a.reference for a in answers.suggestions(user=lead, text=text)]


def test_a_reopened_ticket_is_not_suggested(employee, tier1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = solve(employee, tier1, "Wi-Fi drops", "Wi-Fi drops in room 4.", "New AP.")
    text = "wireless keeps disconnecting in room 4"
    assert [a.reference for a in answers.suggestions(user=tier1, text=text)] == [ticket.number]
    desk_services.reopen(ticket=ticket, by=employee, reason="It drops again.")
    assert answers.suggestions(user=tier1, text=text) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "x" * 300_000,
        "<script>alert('x')</script><b>printer</b>",
        "L'imprimante du deuxième étage bloque le papier",
        "打印机卡纸",
        "🙂" * 2000,
    ],
)
def test_bad_input_never_crashes(text, employee, tier1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        solve(employee, tier1, "Printer jam", "Paper jams on floor 2.", "Cleared the jam.")
        kb.article(tier1)
    for user in (tier1, employee):
        found = answers.suggestions(user=user, text=text)
        assert len(found) <= 5
        if not text.strip():
            assert found == []


# --- the ticket page -------------------------------------------------------------------------


def test_ticket_page_shows_similar_solved_tickets_with_reply_with_this_escaped(
    client, employee, tier1, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        solved = solve(
            employee,
            tier1,
            "Printer jam",
            "Paper jams on floor 2.",
            'Opened the tray <script>alert("x")</script> and cleared the jam.',
        )
        new = desk_factories.ticket(
            requester=employee, subject="Printer jams", description="floor 2 printer jams paper"
        )
    client.force_login(tier1)
    page = client.get(f"/desk/tickets/{new.number}/").content.decode()
    assert "Similar solved tickets and articles" in page
    assert f"/assist/similar/{new.number}/" in page
    part = client.get(f"/assist/similar/{new.number}/", HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    html = part.content.decode()
    assert solved.number in html and "Reply with this" in html
    assert 'data-fill-target="reply-body"' in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    # Without JavaScript, the same list on a page of its own.
    assert solved.number in client.get(f"/assist/similar/{new.number}/").content.decode()


def test_similar_is_not_for_requesters_nor_for_unknown_tickets(client, employee, tier1):
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(employee)
    assert client.get(f"/assist/similar/{ticket.number}/").status_code == 404
    client.force_login(tier1)
    assert client.get("/assist/similar/TL-999999/").status_code == 404
    assert client.get("/assist/similar/%00/").status_code == 404


# --- the portal and deflection ---------------------------------------------------------------


@pytest.fixture
def printing_help(tier1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        public = kb.article(tier1)
        internal = kb.internal_article(tier1)
    return public, internal


def test_portal_might_solve_as_they_type_and_without_javascript(client, employee, printing_help):
    public, internal = printing_help
    client.force_login(employee)
    typed = {"subject": "Printer jams", "description": "The floor 2 printer keeps jamming paper"}
    part = client.post("/portal/new/might-solve/", typed, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert part.status_code == 200 and "These might solve it" in html
    assert public.title in html and internal.title not in html
    assert "This solved it" in html
    page = client.post("/portal/new/might-solve/", {**typed, "urgency": "2"})
    assert page.status_code == 200
    body = page.content.decode()
    assert public.title in body and 'action="/portal/new/"' in body and "Printer jams" in body
    assert 'hx-post="/portal/new/might-solve/"' in client.get("/portal/new/").content.decode()


def test_this_solved_it_counts_a_deflection_and_opens_no_ticket(client, employee, printing_help):
    public, _ = printing_help
    category = Category.objects.filter(is_active=True).first()
    client.force_login(employee)
    before = Ticket.objects.count()
    answer = client.post(
        "/portal/new/solved/",
        {"article": public.pk, "subject": "Printer jams", "category": category.pk},
    )
    assert answer.status_code == 302 and answer["Location"] == "/portal/"
    assert Ticket.objects.count() == before
    row = Deflection.objects.get()
    assert (row.person, row.category, row.object_id, row.subject) == (
        employee,
        category,
        public.pk,
        "Printer jams",
    )


def test_an_internal_or_unknown_article_is_no_deflection(client, employee, printing_help):
    _, internal = printing_help
    client.force_login(employee)
    for value in (internal.pk, 999999, "abc", ""):
        answer = client.post("/portal/new/solved/", {"article": value, "subject": "x"})
        assert answer.status_code == 302 and answer["Location"] == "/portal/new/"
    assert not Deflection.objects.exists()


def test_portal_bad_input_never_crashes(client, employee, printing_help):
    client.force_login(employee)
    for typed in (
        {},
        {"subject": "\x00bad", "description": "\x07bell"},
        {"subject": "<b>printer</b>", "description": "<script>x</script> " * 5000},
        {"subject": "Drucker", "description": "Der Drucker im zweiten Stock hat Papierstau"},
        {"category": "-1", "subject": "printer", "description": "jam paper floor"},
    ):
        answer = client.post("/portal/new/might-solve/", typed, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200
        assert "<script>x" not in answer.content.decode()
    assert client.get("/portal/new/might-solve/").status_code == 405


def test_deflection_rate_per_category_report(client, employee, lead, tier1, printing_help):
    public, _ = printing_help
    printing, other = Category.objects.filter(is_active=True)[:2]
    for _ in range(3):
        desk_factories.ticket(requester=employee, category=printing)
    desk_factories.ticket(requester=employee, category=other)
    deflection.record_deflection(by=employee, article_id=public.pk, category=printing)
    start = Ticket.objects.earliest("created_at").created_at
    end = Deflection.objects.get().created_at + timedelta(seconds=1)
    rows = {r.category: r for r in deflection.report(start=start, end=end)}
    assert (rows[printing.full_name].deflected, rows[printing.full_name].requests) == (1, 3)
    assert rows[printing.full_name].rate == pytest.approx(0.25)
    assert rows[other.full_name].rate == 0
    client.force_login(lead)
    page = client.get("/assist/deflection/?days=30")
    assert page.status_code == 200
    html = page.content.decode()
    assert escape(printing.full_name) in html and "25%" in html
    assert client.get("/assist/deflection/?days=nonsense").status_code == 200
    client.force_login(tier1)
    assert client.get("/assist/deflection/").status_code == 404
    client.force_login(employee)
    assert client.get("/assist/deflection/").status_code == 404


def test_the_embed_command_fills_in_what_existed_before(
    no_embedding_on_commit, employee, tier1, settings, capsys
):
    from tierline.cli import main

    solve(employee, tier1, "VPN drops", "The VPN drops every hour.", "Updated the VPN client.")
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": True}
    assert main(["assist", "embed"]) == 0
    assert "Embedded 1 solved tickets and articles." in capsys.readouterr().out
    assert Embedding.objects.filter(kind=Embedding.Kind.TICKET).count() == 1
