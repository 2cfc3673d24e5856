"""An email's original, for the help desk: its text and sanitised HTML, and the raw .eml."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tierline.core.inputs import parse_id
from tierline.core.sanitise import render_html_from_mail
from tierline.mail import parsing, queries, rawstore
from tierline.mail.models import Inbound


def _readable(request: HttpRequest, pk: int) -> Inbound:
    pk = parse_id(pk)  # a twenty-digit id would overflow SQLite's INTEGER: a 404, not a 500
    inbound = None
    if pk is not None:
        inbound = Inbound.objects.select_related("raw", "ticket").filter(pk=pk).first()
    if inbound is None or not queries.can_read_email(request.user, inbound):
        raise Http404("No such email.")
    return inbound


@login_required
def original(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole email as it came: headers, full text, the HTML part sanitised (nh3)."""
    inbound = _readable(request, pk)
    headers: list[tuple[str, str]] = []
    files: list[str] = []
    try:
        msg, parsed = parsing.parse(rawstore.read(inbound.raw.path))
        for name in ("From", "To", "Cc", "Date", "Subject", "Message-ID"):
            value = parsing.header(msg, name)
            if value:
                headers.append((name, value))
        files = [
            f"{file.name} ({file.content_type}, {len(file.data):,} bytes)" for file in parsed.files
        ]
        text = parsed.text
    except (parsing.Unparseable, OSError, ValueError) as exc:
        text = f"(The message can't be shown: {exc}.)"
    context = {
        "inbound": inbound,
        "headers": headers,
        "files": files,
        "text": text,
        "html": render_html_from_mail(inbound.html) if inbound.html else "",
    }
    return render(request, "mail/original.html", context)


@login_required
def eml(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw message, byte for byte, as a download."""
    inbound = _readable(request, pk)
    try:
        data = rawstore.read(inbound.raw.path)
    except (OSError, ValueError):
        raise Http404("The stored message is missing.") from None
    response = HttpResponse(data, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
