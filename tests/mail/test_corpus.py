"""Every message of a real-world corpus (tests/mail/corpus, see its README) through the gateway:
each becomes a ticket, a reply, ignored or quarantined with a reason; none crashes the gateway
(no "could not be processed"); no script reaches any page that shows them."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse

from tests.mail.factories import mail, mailbox
from tierline.mail import parsing, services
from tierline.mail.models import Inbound, Mailbox

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")
OUTCOME = re.compile(r"^(new TL-\d{6}|reply TL-\d{6}|ignored: .+|held: .+|quarantined: .+)$")
# The only scripts a page may hold: the app's own, from /static/.
FOREIGN_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=\"/static/)", re.IGNORECASE)


def _summary(lines: list[str]) -> Counter:
    kinds = Counter()
    for line in lines:
        kind = re.sub(r"TL-\d+", "", line)
        kind = re.sub(r"duplicate of .*", "duplicate", kind)
        kind = re.sub(r" for \S+@\S+\)", ")", kind)
        kinds[kind.strip()] += 1
    return kinds


def test_the_corpus_is_there():
    assert len(FILES) > 200


def test_every_message_gets_an_outcome_and_no_script_reaches_a_page(client, lead):
    # given a mailbox that takes anyone (so every readable message can become a ticket)
    mailbox(policy=Mailbox.Policy.ACCEPT)
    # when every message of the corpus arrives
    lines = {}
    for path in FILES:
        lines[path.relative_to(CORPUS).as_posix()] = services.receive(path.read_bytes()).line
    # then each got an outcome with a reason, and nothing failed inside the gateway
    for name, line in lines.items():
        assert OUTCOME.match(line), f"{name}: {line}"
        assert "could not be processed" not in line and "desk refused" not in line, name
    print("\ncorpus:", len(FILES), "messages")
    for kind, count in sorted(_summary(list(lines.values())).items(), key=lambda kv: -kv[1]):
        print(f"{count:5}  {kind}")
    # the delivery reports of the bounce collection are ignored, the replies are tickets
    assert lines["sisimai/bsd_lhost-postfix-02.eml"].startswith("ignored: bounce")
    assert lines["talon/standard_replies_gmail.eml"].startswith("new TL-")
    assert lines["talon/html_replies_gmail.html"] == "quarantined: unparseable: no mail headers"
    # and no page showing them carries a script: the ticket and the email's original
    client.force_login(lead)
    for inbound in Inbound.objects.exclude(outcome=Inbound.Outcome.QUARANTINED).select_related(
        "ticket"
    ):
        pages = [reverse("mail:original", args=[inbound.pk])]
        if inbound.ticket:
            pages.append(reverse("desk:ticket", args=[inbound.ticket.number]))
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            assert not FOREIGN_SCRIPT.search(response.content.decode()), url


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_each_message_parses_or_is_refused_with_a_reason(path):
    try:
        _, parsed = parsing.parse(path.read_bytes())
    except parsing.Unparseable as exc:
        assert str(exc)
        return
    for text in (parsed.text, parsed.subject, parsed.sender, parsed.html):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates


HTML_BODIES = sorted((CORPUS / "talon").glob("html_replies_*.html"))


@pytest.mark.parametrize("path", HTML_BODIES, ids=lambda p: p.name)
def test_html_only_replies_become_readable_tickets_without_scripts(client, lead, employee, path):
    mailbox()
    html = path.read_bytes().decode("utf-8", "replace")
    inbound = services.receive(mail(body=None, html=html, subject=path.name)).inbound
    assert inbound.outcome == Inbound.Outcome.NEW_TICKET
    assert "<" not in inbound.ticket.description.split("\n")[0]
    assert inbound.ticket.description.strip()
    client.force_login(lead)
    for url in (
        reverse("mail:original", args=[inbound.pk]),
        reverse("desk:ticket", args=[inbound.ticket.number]),
    ):
        assert not FOREIGN_SCRIPT.search(client.get(url).content.decode())


@pytest.mark.django_db(False)
def test_the_sender_read_from_the_headers_alone_is_the_one_parsing_reads():
    # The spool looks a batch's senders up from their headers alone (senders.expect): for
    # every message of the corpus that parses, the address must be the same.
    compared = 0
    for path in FILES:
        raw = path.read_bytes()
        try:
            _msg, parsed = parsing.parse(raw)
        except parsing.Unparseable:
            continue
        assert parsing.sender_of_raw(raw) == parsed.sender.lower(), path.name
        compared += 1
    assert compared > 200
