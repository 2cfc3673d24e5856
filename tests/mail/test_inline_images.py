"""Inline images (issue 9 point 2): an HTML mail's `cid:` images are shown in place on the
email's original, served from the stored raw message; remote images and scriptable types never."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.urls import reverse
from PIL import Image

from tests.mail.factories import mailbox
from tierline.mail import parsing, services

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def outlook_style_mail() -> bytes:
    """multipart/related as Outlook sends a pasted screenshot: the HTML names the image by its
    Content-ID; a tracking pixel and an SVG ride along."""
    msg = EmailMessage()
    msg["From"] = "employee@example.com"
    msg["To"] = "help@example.org"
    msg["Subject"] = "Error <screenshot> & more"
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg.set_content("See the screenshot.")
    msg.add_alternative(
        '<p>See:</p><img src="cid:image001.png@01DA2B3C" alt="the error">'
        '<img src="https://tracker.example/pixel.gif?u=1" alt="">'
        '<img src="cid:drawing@x" alt="svg"><img src="cid:missing@x" alt="gone">',
        subtype="html",
    )
    html_part = msg.get_payload()[1]
    html_part.add_related(png(), "image", "png", cid="<image001.png@01DA2B3C>")
    html_part.add_related(SVG, "image", "svg+xml", cid="<drawing@x>")
    return msg.as_bytes()


@pytest.fixture
def inbound(employee):
    mailbox()
    return services.receive(outlook_style_mail()).inbound


def test_the_parser_keeps_each_inline_parts_content_id():
    _msg, parsed = parsing.parse(outlook_style_mail())
    ids = {file.content_id for file in parsed.files}
    assert {"image001.png@01DA2B3C", "drawing@x"} <= ids


def test_an_inline_image_is_shown_in_place_and_served_to_the_help_desk(client, tier1, inbound):
    client.force_login(tier1)
    page = client.get(reverse("mail:original", args=[inbound.pk])).content.decode()
    _msg, parsed = parsing.parse(outlook_style_mail())
    number = next(i for i, f in enumerate(parsed.files) if f.content_id.startswith("image001"))
    url = reverse("mail:inline_image", args=[inbound.pk, number])
    assert f'<img src="{url}" alt="the error">' in page
    image = client.get(url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image.content == png()


def test_remote_images_and_svg_are_never_loaded(client, tier1, inbound):
    """Privacy and script safety: opening a mail must not call its sender's tracker, and an
    SVG (which can carry script) is not served as an image."""
    client.force_login(tier1)
    page = client.get(reverse("mail:original", args=[inbound.pk])).content.decode()
    assert "tracker.example" not in page
    assert "cid:" not in page
    _msg, parsed = parsing.parse(outlook_style_mail())
    svg = next(i for i, f in enumerate(parsed.files) if f.content_id == "drawing@x")
    assert reverse("mail:inline_image", args=[inbound.pk, svg]) not in page
    assert client.get(reverse("mail:inline_image", args=[inbound.pk, svg])).status_code == 404


def test_inline_images_are_for_who_may_read_the_email(client, employee, tier1, inbound):
    client.force_login(employee)
    assert client.get(reverse("mail:inline_image", args=[inbound.pk, 0])).status_code == 404
    client.force_login(tier1)
    assert client.get(reverse("mail:inline_image", args=[inbound.pk, 99])).status_code == 404
    assert client.get("/mail/emails/99999999999999999999/images/0/").status_code == 404
