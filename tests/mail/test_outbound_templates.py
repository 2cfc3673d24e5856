"""Mail templates: the admin edits them, validation refuses what can't be rendered safely, the
text part is as typed and the HTML part escaped; a template switched off sends nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tierline.mail import outbound, outbound_templates
from tierline.mail.models import MailTemplate, Outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def enabled(settings):
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SMTP_HOST": "127.0.0.1", "FROM": "help@example.org"}


def test_every_kind_has_a_row_to_edit_and_its_defaults_are_valid():
    assert set(MailTemplate.objects.values_list("key", flat=True)) >= {
        "acknowledgement",
        "reply",
        "resolved",
        "rejected",
    }
    for kind in outbound_templates.KINDS.values():
        outbound_templates.validate(kind.key, subject=kind.subject, text=kind.text, html=kind.html)


@pytest.mark.parametrize(
    ("field", "source", "says"),
    [
        ("text", "{% load static %}{% static 'x' %}", "“{% load %}” is not allowed"),
        ("text", "{% include 'base.html' %}", "“{% include %}” is not allowed"),
        ("text", "{% debug %}", "“{% debug %}” is not allowed"),
        ("html", "{{ settings.SECRET_KEY }}", "unknown placeholder “{{ settings }}”"),
        ("subject", "{{ ticket_subject|nonsense }}", "Invalid filter"),
        ("text", "{% if ticket_number %}open", "endif"),
    ],
)
def test_validation_refuses_tags_unknown_placeholders_and_broken_syntax(field, source, says):
    words = {"subject": "{{ ticket_subject }}", "text": "{{ message }}", "html": ""} | {
        field: source
    }
    with pytest.raises(ValidationError) as refused:
        outbound_templates.validate("reply", **words)
    assert says in " ".join(refused.value.message_dict[field])


def test_placeholders_of_loops_and_withs_are_allowed():
    outbound_templates.validate(
        "reply",
        subject="{% with n=ticket_number %}{{ n }}{% endwith %}",
        text="{% for c in message %}{{ c }}{{ forloop.counter }}{% endfor %}",
    )


def test_the_text_is_as_typed_and_the_html_escaped():
    rendered = outbound_templates.render(
        "reply",
        {"message": 'Use <b> & "quotes"', "ticket_subject": "A <b>\nsubject"},
        subject="{{ ticket_subject }}",
        text="{{ message }}",
        html="<p>{{ message }}</p>",
    )
    assert rendered.subject == "A <b> subject"
    assert rendered.text == 'Use <b> & "quotes"'
    assert rendered.html == "<p>Use &lt;b&gt; &amp; &quot;quotes&quot;</p>"


def test_the_admin_saves_good_words_and_refuses_bad_ones_with_the_reason(admin_user, client):
    client.force_login(admin_user)
    row = MailTemplate.objects.get(key="acknowledgement")
    url = reverse("admin:mail_mailtemplate_change", args=[row.pk])
    assert client.get(url).status_code == 200
    data = {"key": "acknowledgement", "subject": "Got it: {{ ticket_number }}", "is_active": "on"}
    bad = client.post(url, data | {"text": "{% load static %}{{ nope }}", "html": ""})
    assert bad.status_code == 200
    assert "is not allowed here" in bad.content.decode()
    row.refresh_from_db()
    assert row.subject != "Got it: {{ ticket_number }}"
    good = client.post(url, data | {"text": "Thanks {{ requester_name }}", "html": ""})
    assert good.status_code == 302
    row.refresh_from_db()
    assert row.text == "Thanks {{ requester_name }}"
    # and the outbox and its list of failures are there for admins
    assert client.get(reverse("admin:mail_outbox_changelist")).status_code == 200
    assert client.get(reverse("admin:mail_mailtemplate_changelist")).status_code == 200


def test_the_admin_s_words_are_used_and_a_template_switched_off_sends_nothing(enabled):
    MailTemplate.objects.filter(key="rejected").update(subject="No: {{ original_subject }}")
    row = outbound.queue_mail(
        to="someone@example.com", template="rejected", context={"original_subject": "Hello"}
    )
    assert row.subject == "No: Hello"
    MailTemplate.objects.filter(key="rejected").update(is_active=False)
    assert (
        outbound.queue_mail(
            to="someone@example.com", template="rejected", context={"original_subject": "x"}
        )
        is None
    )
    assert Outbox.objects.count() == 1


def test_an_unknown_template_or_a_bad_address_is_a_clear_error(enabled):
    with pytest.raises(KeyError):
        outbound.queue_mail(to="a@example.com", template="nope", context={})
    for bad in ["", "not an address", "a@", "@example.com", "a@b@example.com"]:
        with pytest.raises(ValueError, match="Not an email address"):
            outbound.queue_mail(to=bad, template="reply", context={})
