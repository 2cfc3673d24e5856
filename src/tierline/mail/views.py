"""An email's original, for the help desk: its text and sanitised HTML, and the raw .eml;
the notification inbox, its preferences, and the ticket's watchers."""

from __future__ import annotations

import puremagic
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from tierline.core.inputs import parse_id
from tierline.core.sanitise import render_html_from_mail
from tierline.desk import permissions as perms
from tierline.mail import notify, parsing, queries, rawstore, watchers
from tierline.mail.forms import PreferencesForm, WatcherForm
from tierline.mail.models import Inbound
from tierline.people import queries as people


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
    images: dict[str, str] = {}
    try:
        msg, parsed = parsing.parse(rawstore.read(inbound.raw.path))
        images = {
            file.content_id: reverse("mail:inline_image", args=(inbound.pk, number))
            for number, file in enumerate(parsed.files)
            if file.content_id and _image_type(file.data)
        }
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
        "html": render_html_from_mail(inbound.html, inline_images=images) if inbound.html else "",
    }
    return render(request, "mail/original.html", context)


# Images a browser may be handed from a mail: decoded by their bytes, never SVG (it can script).
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _image_type(data: bytes) -> str | None:
    try:
        found = puremagic.from_string(data[:4096], mime=True)
    except (puremagic.PureError, ValueError):
        return None
    return found if found in _IMAGE_TYPES else None


@login_required
def inline_image(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """An image the email carries inline (its HTML shows it as cid:...), for the original's
    formatted view: read from the stored raw message, served only when its bytes are a PNG,
    JPEG, GIF or WebP, to those who may read the email."""
    inbound = _readable(request, pk)
    try:
        _msg, parsed = parsing.parse(rawstore.read(inbound.raw.path))
    except (parsing.Unparseable, OSError, ValueError):
        raise Http404("The stored message can't be read.") from None
    if number >= len(parsed.files) or not parsed.files[number].content_id:
        raise Http404("No such image in this email.")
    data = parsed.files[number].data
    kind = _image_type(data)
    if kind is None:
        raise Http404("That part of the email is not an image.")
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


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


# --- notifications: the inbox, preferences, watchers ----------------------------------------

INBOX_SIZE = 100


def _base(request: HttpRequest) -> str:
    """The workspace's layout for the help desk, the portal's for a requester."""
    return "base.html" if perms.is_staff_member(request.user) else "base_portal.html"


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in person's notifications, newest first (the latest INBOX_SIZE)."""
    items = list(notify.inbox_of(request.user)[:INBOX_SIZE])
    unread = sum(1 for item in items if item.read_at is None)
    return render(
        request,
        "mail/inbox.html",
        {"items": items, "unread": unread, "base_template": _base(request)},
    )


@login_required
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The header's link with the unread count: one COUNT on the partial unread index, fetched
    by htmx after the page is shown."""
    context = {"counted": True, "unread": notify.unread_count(request.user)}
    return render(request, "mail/inbox_link.html", context)


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = notify.mark_all_read(person=request.user)
    messages.success(request, f"{count} notification{pluralize(count)} marked read.")
    return redirect("mail:inbox")


@login_required
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a notification's ticket: its notices are read, the ticket's page follows (the
    workspace for the help desk, the portal for a requester)."""
    pk = parse_id(pk)
    item = None
    if pk is not None:
        item = notify.inbox_of(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404("No such notification.")
    if item.ticket is None:
        return redirect("mail:inbox")
    notify.mark_ticket_read(person=request.user, ticket_id=item.ticket_id)
    if perms.can_read_as_technician(request.user, item.ticket):
        return redirect("desk:ticket", number=item.ticket.number)
    if perms.can_read_ticket(request.user, item.ticket):
        return redirect("portal:ticket", number=item.ticket.number)
    return redirect("mail:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Per kind of event, how the person hears of it: in the app, by email too, or not."""
    form = PreferencesForm(request.POST or None, initial=notify.channels_of(request.user))
    if request.method == "POST" and form.is_valid():
        notify.set_preferences(person=request.user, channels=form.cleaned_data)
        messages.success(request, "Your notification choices are saved.")
        return redirect("mail:preferences")
    context = {"form": form, "base_template": _base(request)}
    status = 400 if request.method == "POST" else 200
    return render(request, "mail/inbox_preferences.html", context, status=status)


@login_required
@require_POST
def ticket_watchers(request: HttpRequest, number: str) -> HttpResponse:
    """Add a watcher (`person`: typed name, username or email) or remove one (`remove`: id)."""
    ticket = perms.ticket_for(request.user, number)
    if not perms.can_note_ticket(request.user, ticket):
        raise PermissionDenied("Only the help desk, reading this ticket, changes its watchers.")
    back = redirect("desk:ticket", number=ticket.number)
    if "remove" in request.POST:
        person_id = parse_id(request.POST.get("remove"))
        person = people.everyone().filter(pk=person_id).first() if person_id else None
        if person is None:
            messages.error(request, "There is no such watcher.")
        elif watchers.remove_watcher(ticket=ticket, by=request.user, person=person):
            messages.success(request, f"{person} no longer watches {ticket.number}.")
        return back
    form = WatcherForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("person", ["Say who should watch."])))
        return back
    person, matches = people.person_for(form.cleaned_data["person"])
    if person is None:
        names = ", ".join(p.username for p in matches[:5])
        messages.error(
            request,
            f"Several people match: {names}. Type a username or an email."
            if matches
            else "Nobody matches that name, username or email.",
        )
        return back
    try:
        added = watchers.add_watcher(ticket=ticket, by=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return back
    name = person.get_full_name() or person.username
    if added:
        messages.success(request, f"{name} now watches {ticket.number}.")
    else:
        messages.info(request, f"{name} already watches {ticket.number}.")
    return back
