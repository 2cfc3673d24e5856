"""The requester portal: my requests, ask for help, follow one request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tierline.core import idempotency
from tierline.core.errors import IdempotencyConflict
from tierline.core.idempotency import form_content, renew_token
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk import services
from tierline.desk.models import Channel, Status, Ticket
from tierline.knowledge import guides
from tierline.portal import queries
from tierline.portal.forms import (
    AttachForm,
    NewRequestForm,
    ReopenForm,
    ReplyForm,
    ShareForm,
    UnshareForm,
    apply_service_error,
)

TABS = {"open": "Open", "closed": "Closed"}

# What happens next, in the requester's words, per status.
NEXT_STEP = {
    Status.NEW: "Your request is waiting for someone on the IT help desk to pick it up. "
    "We'll reply here.",
    Status.OPEN: "Someone on the IT help desk is working on it. We'll post updates here.",
    Status.IN_PROGRESS: "Someone on the IT help desk is working on it. We'll post updates here.",
    Status.WAITING_REQUESTER: "We need something from you: please read the latest message "
    "and reply below.",
    Status.WAITING_THIRD_PARTY: "We're waiting on a supplier and will update you as soon as "
    "we hear back.",
    Status.RESOLVED: "We think this is fixed. Please tell us below whether it is.",
    Status.CLOSED: "This request is closed.",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My requests: open or closed, newest first."""
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    tickets = queries.request_list(request.user, closed=tab == "closed")
    page = page_of(request, tickets)
    return render(
        request,
        "portal/home.html",
        {
            "tab": tab,
            "tabs": TABS,
            "counts": queries.request_counts(request.user),
            "page": page,
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """Ask for help: one form, one service call, then the new request's page."""
    if request.method == "POST":
        form = NewRequestForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data

            def send() -> tuple[int, dict]:
                ticket = services.open_ticket(
                    requester=request.user,
                    subject=data["subject"],
                    description=data["description"],
                    category=data["category"],
                    urgency=data["urgency"],
                    channel=Channel.PORTAL,
                    uploads=data["attachments"],
                )
                return 201, {"number": ticket.number}

            try:
                # A double click or a resend opens one request, not two.
                answer = idempotency.submit_once(
                    user=request.user,
                    scope="portal.new",
                    token=data["form_token"],
                    content=form_content(form),
                    run=send,
                )
            except IdempotencyConflict as exc:
                apply_service_error(form, exc)
                form.data = renew_token(form.data)
            except ValidationError as exc:
                apply_service_error(form, exc)
            else:
                number = answer.body["number"]
                if answer.replayed:
                    messages.info(request, f"This request was already sent: it is {number}.")
                else:
                    messages.success(request, f"Thanks, we've got it: {number}")
                return redirect("portal:ticket", number=number)
        status = 400
    else:
        # From a troubleshooting guide that ended in "escalate": its answers, so Tier 1 sees
        # what was tried (the person can still change everything).
        form = NewRequestForm(
            initial=guides.request_draft(request.user, request.GET.get("guide_run"))
        )
        status = 200
    return render(request, "portal/new.html", {"form": form}, status=status)


def _portal_ticket(request: HttpRequest, number: str) -> Ticket:
    """The request if this person asked for it or it was shared with them; 404 otherwise."""
    return perms.ticket_for(
        request.user,
        number,
        queries.my_requests(request.user).select_related("category", "requester", "merged_into"),
    )


def _render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: forms.Form | None = None,
    attach_form: forms.Form | None = None,
    reopen_form: forms.Form | None = None,
    share_form: ShareForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if status >= 400:
        # A refused service call may have changed the object before refusing: show the truth.
        ticket.refresh_from_db()
    is_requester = ticket.requester_id == request.user.pk
    can_reopen = is_requester and services.can_requester_reopen(ticket)
    is_closed = ticket.status == Status.CLOSED
    # A refused form the page no longer shows (the reply box of a ticket closed meanwhile, say)
    # still explains itself, at the top of the page.
    for form, shown in (
        (reply_form, not is_closed),
        (attach_form, not is_closed),
        (reopen_form, can_reopen),
        (share_form, is_requester),
    ):
        if form is not None and not shown:
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    resolved_at = ticket.resolved_at
    autoclose_at = (
        resolved_at + timedelta(days=services.conf()["AUTOCLOSE_DAYS"]) if resolved_at else None
    )
    return render(
        request,
        "portal/ticket.html",
        {
            "ticket": ticket,
            "entries": queries.public_timeline(ticket, request.user),
            "next_step": NEXT_STEP[ticket.status],
            "is_requester": is_requester,
            "is_closed": is_closed,
            "is_resolved": ticket.status == Status.RESOLVED,
            "can_reopen": can_reopen,
            "reopen_deadline": services.reopen_deadline(ticket) if can_reopen else None,
            "autoclose_at": autoclose_at,
            "reply_form": reply_form or ReplyForm(),
            "attach_form": attach_form or AttachForm(),
            "reopen_form": reopen_form or ReopenForm(),
            "shared_with": queries.shared_with(ticket),
            "share_form": share_form or ShareForm(),
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """One request: where it stands, what happens next, the public conversation. Opening it
    reads its notifications."""
    ticket = _portal_ticket(request, number)
    services.ticket_viewed(ticket_id=ticket.pk, by=request.user)
    return _render_ticket(request, ticket)


def _reply(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_message(
                ticket=ticket,
                by=request.user,
                body=form.cleaned_data["body"],
                internal=False,
                channel=Channel.PORTAL,
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Your reply was added to {ticket.number}.")
            return redirect("portal:ticket", number=ticket.number)
    return _render_ticket(request, ticket, reply_form=form, status=400)


def _attach(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            saved = services.add_attachments(
                ticket=ticket, by=request.user, uploads=form.cleaned_data["attachments"]
            )
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            count = len(saved)
            messages.success(
                request, f"{count} file{'s' if count != 1 else ''} added to {ticket.number}."
            )
            return redirect("portal:ticket", number=ticket.number)
    return _render_ticket(request, ticket, attach_form=form, status=400)


def _confirm(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    try:
        services.confirm_resolution(ticket=ticket, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _render_ticket(request, ticket, status=400)
    messages.success(request, f"Thanks for confirming. {ticket.number} is now closed.")
    return redirect("portal:ticket", number=ticket.number)


def _reopen(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.reopen(ticket=ticket, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(
                request, f"{ticket.number} is open again. We'll pick it up as soon as we can."
            )
            return redirect("portal:ticket", number=ticket.number)
    return _render_ticket(request, ticket, reopen_form=form, status=400)


def _share(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = ShareForm(request.POST)
    if form.is_valid():
        colleague = form.cleaned_data["colleague"]
        name = colleague.get_full_name() or colleague.username
        try:
            added = services.share_ticket(ticket=ticket, by=request.user, colleague=colleague)
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            if added:
                messages.success(
                    request, f"{ticket.number} is now shared with {name}: they can follow it."
                )
            else:
                messages.info(request, f"{ticket.number} was already shared with {name}.")
            return redirect("portal:ticket", number=ticket.number)
    return _render_ticket(request, ticket, share_form=form, status=400)


def _unshare(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    form = UnshareForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return _render_ticket(request, ticket, status=400)
    colleague = form.cleaned_data["colleague"]
    name = colleague.get_full_name() or colleague.username
    if services.unshare_ticket(ticket=ticket, by=request.user, colleague=colleague):
        messages.success(request, f"{ticket.number} is no longer shared with {name}.")
    else:
        messages.info(request, f"{ticket.number} was not shared with {name}.")
    return redirect("portal:ticket", number=ticket.number)


ACTIONS: dict[str, Callable[[HttpRequest, Ticket], HttpResponse]] = {
    "reply": _reply,
    "attach": _attach,
    "confirm": _confirm,
    "reopen": _reopen,
    "share": _share,
    "unshare": _unshare,
}


@login_required
@require_POST
def action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Reply, add files, confirm the fix, reopen, share or stop sharing. Each redirects back
    after success."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    return handler(request, _portal_ticket(request, number))
