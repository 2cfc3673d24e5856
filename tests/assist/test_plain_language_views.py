"""The plain-language check where people meet it: the reply composer's endpoint and panel, a
public article's page, and the glossary in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.knowledge import factories as kb_factories
from tierline.assist.models import GlossaryTerm
from tierline.desk.models import Message

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ticket(employee):
    return desk_factories.ticket(requester=employee)


def check_url(ticket) -> str:
    return reverse("assist:check_wording", args=[ticket.number])


# --- the seeded glossary --------------------------------------------------------------------


def test_the_glossary_is_seeded_with_common_jargon():
    terms = {t.term.lower(): t.plain for t in GlossaryTerm.objects.all()}
    assert len(terms) >= 60
    assert terms["reboot"] == "restart"
    assert terms["dns"] == "the system that turns website names into addresses"
    for term in ("cache", "vpn", "mfa", "2fa", "sso", "firmware", "driver", "credentials"):
        assert term in terms


# --- the endpoint ---------------------------------------------------------------------------


def test_a_technician_who_works_the_ticket_gets_the_fragment(client, tier1, ticket):
    # given
    client.force_login(tier1)
    # when
    response = client.post(
        check_url(ticket), {"body": "Please reboot your PC and flush the DNS cache."}, **HTMX
    )
    # then: a fragment, not a page, with the suggestions
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "Instead of “reboot”, try “restart”." in page
    assert "the system that turns website names into addresses" in page
    assert "Score 90/100" in page or "Score 85/100" in page


def test_empty_text_is_fine(client, tier1, ticket):
    client.force_login(tier1)
    response = client.post(check_url(ticket), {"body": ""}, **HTMX)
    assert response.status_code == 200
    assert "Type a reply to see how plainly it reads" in response.content.decode()
    response = client.post(check_url(ticket), {}, **HTMX)
    assert response.status_code == 200


def test_an_internal_note_is_not_checked(client, tier1, ticket):
    client.force_login(tier1)
    response = client.post(
        check_url(ticket), {"body": "reboot the DNS", "internal": "internal"}, **HTMX
    )
    page = response.content.decode()
    assert "Internal notes are not checked" in page
    assert "restart" not in page


def test_huge_text_is_refused_with_a_clear_message(client, tier1, ticket):
    client.force_login(tier1)
    response = client.post(check_url(ticket), {"body": "reboot " * 30_000}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Too long to check: 210000 characters" in page
    assert "You can still send it." in page
    assert "Instead of" not in page


def test_suggestions_are_escaped(client, tier1, ticket):
    # given a glossary term and alternative holding markup characters
    GlossaryTerm.objects.create(term="<blink>", plain="a < b & <i>c</i>", note="Tom & Jerry")
    client.force_login(tier1)
    # when the reply holds the term and markup of its own
    response = client.post(
        check_url(ticket), {"body": "Fix the <blink> tag & the <script>x</script> reboot."}, **HTMX
    )
    page = response.content.decode()
    # then everything comes back escaped, nothing as markup
    assert "Instead of “&lt;blink&gt;”, try “a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;”." in page
    assert "Tom &amp; Jerry" in page
    assert "<blink>" not in page and "<i>" not in page and "<script>" not in page


def test_without_htmx_a_page_with_the_reply_ready_to_send(client, tier1, ticket):
    client.force_login(tier1)
    body = "Please reboot it & <try> again."
    response = client.post(check_url(ticket), {"body": body, "time_spent_minutes": "5"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Check wording</h1>" in page
    assert "Instead of “reboot”, try “restart”." in page
    assert ">Please reboot it &amp; &lt;try&gt; again.</textarea>" in page
    assert reverse("desk:ticket_action", args=[ticket.number, "reply"]) in page
    assert 'name="time_spent_minutes" value="5"' in page
    # and the form there sends the reply as typed
    sent = client.post(reverse("desk:ticket_action", args=[ticket.number, "reply"]), {"body": body})
    assert sent.status_code == 302
    assert Message.objects.filter(ticket=ticket, body=body, internal=False).exists()


def test_anonymous_is_sent_to_sign_in(client, ticket):
    response = client.post(check_url(ticket), {"body": "reboot"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_requester_gets_404_even_on_their_own_ticket(client, employee, employee2, ticket):
    for who in (employee, employee2):
        client.force_login(who)
        assert client.post(check_url(ticket), {"body": "reboot"}, **HTMX).status_code == 404


def test_a_technician_who_does_not_work_the_ticket_gets_403(client, tier2, ticket):
    client.force_login(tier2)
    assert client.post(check_url(ticket), {"body": "reboot"}, **HTMX).status_code == 403


def test_an_unknown_ticket_or_a_get_is_refused(client, tier1, ticket):
    client.force_login(tier1)
    missing = reverse("assist:check_wording", args=["TL-999999"])
    assert client.post(missing, {"body": "x"}).status_code == 404
    assert client.post(check_url(ticket).replace(ticket.number, "TL\x00"), {}).status_code == 404
    assert client.get(check_url(ticket)).status_code == 405


# --- the composer's panel -------------------------------------------------------------------


def test_the_composer_shows_the_check_to_who_works_the_ticket(client, tier1, tier2, ticket):
    client.force_login(tier1)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert 'id="plain-check-result"' in page
    assert 'aria-live="polite"' in page
    assert f'formaction="{check_url(ticket)}"' in page
    assert "from:#reply-body" in page
    # a technician who may only add internal notes does not get it
    client.force_login(tier2)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "plain-check" not in page


# --- public articles ------------------------------------------------------------------------


def test_a_public_article_shows_its_score_to_the_help_desk(client, tier1):
    article = kb_factories.article(
        tier1, body="## Fix\n\nReboot the laptop. Open [the VPN](https://vpn.example/reboot)."
    )
    client.force_login(tier1)
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "Plain-language check" in page
    assert "Instead of “Reboot”, try “restart”." in page
    assert "Instead of “VPN”" in page
    assert "Score 90/100" in page


def test_an_internal_article_is_not_scored(client, tier1):
    article = kb_factories.internal_article(tier1)
    client.force_login(tier1)
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "Plain-language check" not in page


# --- the glossary in the admin --------------------------------------------------------------


def test_the_admin_lists_edits_and_adds_glossary_terms(client, admin_user):
    client.force_login(admin_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Assistant" in index and "Glossary terms" in index
    listing = client.get(reverse("admin:assist_glossaryterm_changelist") + "?q=reboot")
    assert listing.status_code == 200 and "restart" in listing.content.decode()
    # when the administrator adds a term with its spaces untidy
    response = client.post(
        reverse("admin:assist_glossaryterm_add"),
        {"term": "  load   balancer ", "plain": "traffic splitter", "note": "", "active": "on"},
    )
    assert response.status_code == 302
    assert GlossaryTerm.objects.get(term="load balancer").plain == "traffic splitter"
    # and turns one off, it is no longer flagged
    reboot = GlossaryTerm.objects.get(term="reboot")
    client.post(
        reverse("admin:assist_glossaryterm_change", args=[reboot.pk]),
        {"term": "reboot", "plain": "restart", "note": ""},
    )
    assert not GlossaryTerm.objects.get(pk=reboot.pk).active


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"term": "REBOOT", "plain": "restart"}, "That term is already in the glossary."),
        ({"term": "", "plain": "restart"}, "This field is required."),
        ({"term": "---", "plain": "dashes"}, "A term needs at least one letter or digit."),
        ({"term": "ok", "plain": ""}, "This field is required."),
        (
            {"term": "x\x07y", "plain": "bell"},
            "contains a control character (U+0007, BEL) at character 2",
        ),
        ({"term": "t" * 81, "plain": "long"}, "at most 80 characters"),
    ],
)
def test_the_admin_refuses_bad_terms_and_stores_nothing(client, admin_user, data, error):
    client.force_login(admin_user)
    before = GlossaryTerm.objects.count()
    response = client.post(reverse("admin:assist_glossaryterm_add"), {"note": "", **data})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert GlossaryTerm.objects.count() == before


def test_technicians_cannot_open_the_glossary_admin(client, tier1):
    client.force_login(tier1)
    response = client.get(reverse("admin:assist_glossaryterm_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_without_htmx_files_are_not_kept_and_bad_minutes_are_dropped(client, tier1, ticket):
    client.force_login(tier1)
    response = client.post(
        check_url(ticket),
        {
            "body": "Done.",
            "time_spent_minutes": "ten",
            "attachments": desk_factories.upload("log.txt", b"x"),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "The files you chose were not kept: attach them again on the ticket page." in page
    assert "time_spent_minutes" not in page
    assert not Message.objects.filter(ticket=ticket, body="Done.").exists()
