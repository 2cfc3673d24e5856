"""One ticket in the workspace: the page, its actions, opening a ticket for someone, downloads.

Every action parses a form, calls one service and redirects with a message. What the service
refuses (ValidationError, ActionRefused, StaleEdit) is shown next to the form that asked, with
status 400; PermissionDenied becomes Django's 403 page.

The page's action dialogs are empty shells: their forms (a query or two each for the choices)
load when a dialog is opened, from a GET of the action's own URL. That GET answers htmx with
the dialog's content and a browser with a page of its own, so every action also works without
JavaScript and in a new tab.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from tierline.core import idempotency
from tierline.core.errors import IdempotencyConflict, StaleEdit
from tierline.core.inputs import parse_id
from tierline.core.sanitise import render_text
from tierline.desk import canned, placeholders, queries, services
from tierline.desk import forms as desk_forms
from tierline.desk import permissions as perms
from tierline.desk.models import Attachment, Level, Priority, Status, Ticket
from tierline.people.models import User

STALE_MESSAGE = (
    "Someone else changed this ticket while you were editing it, so your change was not saved. "
    "Reload the page to see their change, then apply yours again."
)


def _shown(name: str, current: dict) -> str:
    """A watched value as a person reads it; a value the page sent back garbled, as it came."""
    value = current.get(name)
    if name == "status" and value in Status.values:
        return str(Status(value).label)
    if name == "priority" and str(value) in {str(v) for v in Priority.values}:
        return f"P{value} {Priority(int(value)).label}"
    if name == "team":
        return current.get("team_name") or "none"
    if name == "assignee":
        return current.get("assignee_name") or "nobody"
    return str(value)


def stale_message(current: dict, seen: str) -> str:
    """A stale edit's refusal: which of the page's values changed, and every one as it is now.

    `current` is StaleEdit.current (desk.services.saving.current_values); `seen` the form's
    hidden copy of what its page showed (desk.forms.seen_values).
    """
    if not current:
        return STALE_MESSAGE
    was = dict(parse_qsl(seen or "", keep_blank_values=True))
    now = {
        "status": current["status"],
        "priority": str(current["priority"]),
        "team": str(current["team"] or ""),
        "assignee": current["assignee"] or "",
    }
    changed = []
    for name in _WATCHED:
        if name in was and was[name] != now[name]:
            if name in ("status", "priority"):
                shown = _shown(name, {name: type(current[name])(was[name])}) if was[name] else "—"
                changed.append(
                    f"{name} is now “{_shown(name, current)}” (your page showed “{shown}”)"
                )
            else:
                changed.append(f"{name} is now “{_shown(name, current)}”")
    what = f": {'; '.join(changed)}" if changed else ""
    values = ", ".join(f"{name} “{_shown(name, current)}”" for name in _WATCHED)
    return (
        f"Someone else changed this ticket after you loaded it, so your change was not "
        f"saved{what}. Now it has {values}. Check them, then apply your change again if it "
        "still applies."
    )


# The values an edit from a stale page must not overwrite unseen, as the refusal names them.
_WATCHED = ("status", "priority", "team", "assignee")

# Tags that mean the text is already HTML (from the mail gateway, say); else keep line breaks.
# History stores impact, urgency and priority as numbers; the timeline shows their names.
_LEVEL_FIELDS = {
    "impact": {str(value): str(label) for value, label in Level.choices},
    "urgency": {str(value): str(label) for value, label in Level.choices},
    "priority": {str(value): f"P{value} {label}" for value, label in Priority.choices},
}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# Types a browser may be told as they are; anything else (html, svg, xml, ...) is a plain download.
_SAFE_DOWNLOAD_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
    }
)


def _page_queryset():
    # Joined: what every ticket has. Prefetched: what most tickets lack (parent, merged into,
    # resolution) or what sits one join further (the requester's department and location). A
    # ten-table join cost PostgreSQL more to plan than to run. Flagged: whether it has calls,
    # work orders, escalations, children or links at all, so the page skips their queries.
    return queries.with_page_flags(
        Ticket.objects.select_related("requester", "team", "assignee", "category")
    ).prefetch_related(
        "requester__department",
        "requester__location",
        "parent",
        "merged_into",
        "resolution_code",
    )


def _ticket(user: User, number: str) -> Ticket:
    return perms.ticket_for(user, number, _page_queryset())


def _acted_on(user: User, number: str) -> Ticket:
    """The ticket an action (or its form) works on: its own row, none of the page's extras."""
    return perms.ticket_for(user, number, Ticket.objects.select_related("team", "assignee"))


# --- the page -------------------------------------------------------------------------------


def canned_text(request: HttpRequest, ticket: Ticket) -> str:
    """`?canned=ID` (the composer's picker): that response filled in for this ticket."""
    pk = parse_id(request.GET.get("canned"))
    if pk is None or not perms.can_work_ticket(request.user, ticket):
        return ""
    response = canned.responses_for(request.user).filter(pk=pk).first()
    if response is None:
        return ""
    return placeholders.fill(
        response.body, ticket=ticket, by=request.user, base=request.build_absolute_uri("/")
    )


@require_GET
@login_required
def canned_options(request: HttpRequest) -> HttpResponse:
    """The picker's choices narrowed by the words typed (htmx swaps the select)."""
    perms.ensure(perms.is_staff_member(request.user), "Only the help desk uses canned responses.")
    text = (request.GET.get("canned_q") or "").strip()[:100]
    found = list(canned.responses_for(request.user, text)[:50])
    return render(request, "desk/_canned_select.html", {"canned_responses": found})


def _render_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    failed_action: str = "",
    failed_form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    entries = queries.timeline(ticket, user)
    for entry in entries:
        if entry.kind in ("reply", "note"):
            entry.body_html = render_text(entry.obj.body)
        elif entry.kind == "escalation":
            entry.body_html = render_text(entry.obj.summary)
        elif entry.kind == "event" and entry.obj.field in _LEVEL_FIELDS:
            labels = _LEVEL_FIELDS[entry.obj.field]
            entry.obj.old_value = labels.get(entry.obj.old_value, entry.obj.old_value)
            entry.obj.new_value = labels.get(entry.obj.new_value, entry.obj.new_value)
        elif entry.kind == "call":
            entry.body_html = render_text(entry.obj.notes)
            entry.duration = "{}:{:02d}".format(*divmod(entry.obj.duration_seconds, 60))
    # The reply box is on the page itself (and its form costs no query); the dialogs' forms are
    # loaded when a dialog is opened, except the one whose submission was just refused.
    page_forms: dict[str, forms.Form] = {}
    if failed_action != "reply":
        page_forms["reply"] = ACTIONS["reply"].make("reply", ticket)
        picked = canned_text(request, ticket)
        if picked:
            page_forms["reply"] = desk_forms.ReplyForm(auto_id="reply-%s", initial={"body": picked})
    if failed_form is not None:
        page_forms[failed_action] = failed_form
    can_work = perms.can_work_ticket(user, ticket)
    can_note = perms.can_note_ticket(user, ticket)
    finished = ticket.status in (Status.RESOLVED, Status.CLOSED)
    context = {
        "ticket": ticket,
        "description_html": render_text(ticket.description),
        "entries": entries,
        "work_orders": [e.obj for e in entries if e.kind == "work_order"],
        "links": queries.ticket_links(ticket, user),
        "forms": page_forms,
        "dialogs": DIALOGS,
        "failed_action": failed_action,
        "failed_form": failed_form,
        "can_work": can_work,
        # Technicians who read the ticket without working it add internal notes and log calls.
        "can_note": can_note,
        "can_open_work_order": not finished
        and not ticket.merged_into_id
        and perms.can_open_work_order(user, ticket),
        "finished": finished,
        "status_options": [
            (value, label)
            for value, label in Status.choices
            if value == ticket.status or value in services.TRANSITIONS[ticket.status]
        ],
        "canned_responses": list(canned.responses_for(user)[:200]) if can_work else [],
        "macros": list(canned.macros_for(user)) if can_work and not finished else [],
        "canned_picked": request.GET.get("canned", ""),
        # The status select and the Take button carry what their page showed.
        "seen": desk_forms.seen_values(ticket),
    }
    return render(request, "desk/ticket.html", context, status=status)


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request.user, number)
    if not perms.can_read_as_technician(request.user, ticket):
        # A requester, or a technician who asked for another team's restricted ticket: they
        # follow it as a requester does.
        return redirect("portal:ticket", number=ticket.number)
    services.ticket_viewed(ticket_id=ticket.pk, by=request.user)
    return _render_page(request, ticket)


# --- actions --------------------------------------------------------------------------------


def _other_ticket(user: User, number: str, field: str) -> Ticket:
    other = perms.visible_tickets(user).filter(number=number).first()
    if other is None:
        raise ValidationError({field: f"There is no ticket {number} that you can see."})
    return other


def _take(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.take(ticket=ticket, by=request.user, expected_version=data.get("version"))
    return f"Ticket {ticket.number} is now assigned to you."


def _assign(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    assignee = data["assignee"]
    services.assign(
        ticket=ticket, by=request.user, assignee=assignee, expected_version=data["version"]
    )
    if assignee is None:
        return f"Ticket {ticket.number} is no longer assigned to anyone."
    return f"Ticket {ticket.number} assigned to {assignee}."


def _reply(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.add_message(
        ticket=ticket,
        by=request.user,
        body=data["body"],
        internal=data["internal"],
        time_spent_minutes=data["time_spent_minutes"],
        uploads=data["attachments"],
    )
    return "Internal note added." if data["internal"] else f"Reply sent on {ticket.number}."


def _fields(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.change_fields(
        ticket=ticket,
        by=request.user,
        expected_version=data["version"],
        subject=data["subject"],
        category=data["category"],
        impact=data["impact"],
        urgency=data["urgency"],
    )
    return f"Ticket {ticket.number} saved."


def _macro(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    macro = data["macro"]
    services.apply_macro(
        ticket=ticket,
        by=request.user,
        macro=macro,
        expected_version=data["version"],
        base_url=request.build_absolute_uri("/"),
    )
    return f"Macro “{macro.name}” applied to {ticket.number}."


def _status(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.change_status(
        ticket=ticket, by=request.user, status=data["status"], expected_version=data["version"]
    )
    return f"Ticket {ticket.number} is now “{ticket.get_status_display()}”."


def _escalate(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.escalate(
        ticket=ticket,
        by=request.user,
        summary=data["summary"],
        team=data["team"],
        expected_version=data["version"],
    )
    return f"Ticket {ticket.number} escalated to {ticket.team}."


def _deescalate(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.de_escalate(
        ticket=ticket,
        by=request.user,
        summary=data["summary"],
        team=data["team"],
        expected_version=data["version"],
    )
    return f"Ticket {ticket.number} handed back to {ticket.team}."


def _resolve(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.resolve(
        ticket=ticket,
        by=request.user,
        resolution_code=data["resolution_code"],
        body=data["body"],
        time_spent_minutes=data["time_spent_minutes"],
        expected_version=data["version"],
    )
    return f"Ticket {ticket.number} resolved. The requester is asked to confirm."


def _reopen(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.reopen(
        ticket=ticket, by=request.user, reason=data["reason"], expected_version=data["version"]
    )
    return f"Ticket {ticket.number} reopened."


def _merge(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    into = _other_ticket(request.user, data["into"], "into")
    services.merge(ticket=ticket, into=into, by=request.user)
    return f"Ticket {ticket.number} merged into {into.number}."


def _link(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    other = _other_ticket(request.user, data["other"], "other")
    services.link(ticket=ticket, other=other, by=request.user)
    return f"Ticket {ticket.number} linked to {other.number}."


def _unlink(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    other = ticket.related.filter(number=data["other"]).first()
    if other is None:
        raise ValidationError({"other": f"{ticket.number} is not linked to {data['other']}."})
    services.unlink(ticket=ticket, other=other, by=request.user)
    return f"Ticket {ticket.number} no longer linked to {other.number}."


def _child(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    child = services.create_child(
        parent=ticket,
        by=request.user,
        subject=data["subject"],
        description=data["description"],
        team=data["team"],
    )
    return f"Child ticket {child.number} opened for {child.team}."


def _spam(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    services.mark_spam(ticket=ticket, by=request.user)
    return f"Ticket {ticket.number} marked as spam and closed."


def _attach(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    internal = data["visibility"] == "internal"
    saved = services.add_attachments(
        ticket=ticket, by=request.user, uploads=data["attachments"], internal=internal
    )
    who = "only the help desk sees" if internal else "the requester can see"
    return f"{len(saved)} file(s) added to {ticket.number}: {who} them."


@dataclass(frozen=True)
class Action:
    """What an action runs and the form it parses; for an action asked in a dialog, also the
    dialog's texts, which the ticket page, the dialog's content and the action's own page share.
    """

    run: Callable[[HttpRequest, Ticket, dict], str]
    form: type[forms.Form] | None = None
    takes_ticket: bool = False
    # Empty for actions without a dialog: a button (take, spam) or a form on the page itself.
    title: str = ""
    submit: str = ""
    intro: str = ""
    danger: bool = False
    multipart: bool = False

    @property
    def has_dialog(self) -> bool:
        return bool(self.title)

    def make(self, slug: str, ticket: Ticket, *args: Any) -> forms.Form:
        """The form, with ids unique on the page (several dialogs have a "summary")."""
        form_class = self.form or forms.Form
        kwargs: dict[str, Any] = {"ticket": ticket} if self.takes_ticket else {}
        return form_class(*args, auto_id=f"{slug}-%s", **kwargs)


ACTIONS: dict[str, Action] = {
    "take": Action(_take, desk_forms.TakeForm, takes_ticket=True),
    "assign": Action(
        _assign,
        desk_forms.AssignForm,
        takes_ticket=True,
        title="Assign",
        submit="Assign",
        intro="Someone in the ticket's team, or nobody.",
    ),
    "reply": Action(_reply, desk_forms.ReplyForm),
    "fields": Action(
        _fields, desk_forms.FieldsForm, takes_ticket=True, title="Edit details", submit="Save"
    ),
    "status": Action(_status, desk_forms.StatusForm, takes_ticket=True),
    "macro": Action(_macro, desk_forms.MacroForm, takes_ticket=True),
    "escalate": Action(
        _escalate,
        desk_forms.EscalateForm,
        takes_ticket=True,
        title="Escalate",
        submit="Escalate",
        intro="Send the ticket up a tier, with what was already tried.",
    ),
    "deescalate": Action(
        _deescalate,
        desk_forms.DeescalateForm,
        takes_ticket=True,
        title="De-escalate",
        submit="Hand back",
        intro="Hand the ticket back down a tier.",
    ),
    "resolve": Action(
        _resolve,
        desk_forms.ResolveForm,
        takes_ticket=True,
        title="Resolve",
        submit="Resolve",
        intro="The requester is asked to confirm the fix.",
    ),
    "reopen": Action(
        _reopen, desk_forms.ReopenForm, takes_ticket=True, title="Reopen", submit="Reopen"
    ),
    "merge": Action(
        _merge,
        desk_forms.MergeForm,
        title="Merge into another ticket",
        submit="Merge",
        intro="This ticket is closed and its requester follows the other one.",
        danger=True,
    ),
    "link": Action(_link, desk_forms.LinkForm, title="Link a related ticket", submit="Link"),
    "unlink": Action(_unlink, desk_forms.LinkForm),
    "child": Action(
        _child,
        desk_forms.ChildForm,
        title="Split off a child ticket",
        submit="Open child ticket",
        intro="The parent can't be resolved while the child is open.",
    ),
    "spam": Action(_spam),
    "attach": Action(
        _attach, desk_forms.AttachForm, title="Attach files", submit="Upload", multipart=True
    ),
}

# The ticket page's dialogs, in page order: (slug, action).
DIALOGS: list[tuple[str, Action]] = [
    (slug, spec) for slug, spec in ACTIONS.items() if spec.has_dialog
]


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's errors onto the form: per field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _action_form(request: HttpRequest, number: str, slug: str, spec: Action) -> HttpResponse:
    """A dialog's unbound form: the dialog's content for htmx, a page of its own otherwise."""
    if not spec.has_dialog:
        return HttpResponseNotAllowed(["POST"])
    ticket = _acted_on(request.user, number)
    perms.ensure(perms.is_staff_member(request.user), "Only the help desk works tickets here.")
    perms.ensure(perms.can_work_ticket(request.user, ticket))
    context = {"ticket": ticket, "slug": slug, "action": spec, "form": spec.make(slug, ticket)}
    if request.htmx and not request.htmx.boosted:
        response = render(request, "desk/_ticket_dialog_form.html", context)
    else:
        response = render(request, "desk/ticket_action.html", {**context, "standalone": True})
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """GET: the action's form (see _action_form). POST: do it."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    if request.method == "GET":
        return _action_form(request, number, action, spec)
    ticket = _acted_on(request.user, number)
    perms.ensure(perms.is_staff_member(request.user), "Only the help desk works tickets here.")
    worked = perms.can_work_ticket(request.user, ticket)
    form = spec.make(action, ticket, request.POST, request.FILES)
    if form.is_valid():
        try:
            message = spec.run(request, ticket, form.cleaned_data)
        except StaleEdit as exc:
            form.add_error(None, stale_message(exc.current, form.cleaned_data.get("seen", "")))
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, message)
            if not perms.can_read_ticket(request.user, ticket) or (
                worked and not perms.can_work_ticket(request.user, ticket)
            ):
                # Escalated or handed to another team: it left their work (or, for a restricted
                # team, their view), so on to the next ticket of their queue.
                return redirect("desk:queue")
            return redirect("desk:ticket", number=ticket.number)
    # A refused service may have changed the object in memory: show what is stored.
    ticket = _ticket(request.user, number)
    return _render_page(request, ticket, failed_action=action, failed_form=form, status=400)


# --- opening a ticket for someone -----------------------------------------------------------


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not perms.is_staff_member(request.user):
        return redirect("portal:new")
    form = desk_forms.TicketCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def open_it() -> tuple[int, dict]:
            ticket = services.open_ticket(
                requester=data["requester"],
                by=request.user,
                subject=data["subject"],
                description=data["description"],
                category=data["category"],
                impact=data["impact"],
                urgency=data["urgency"],
                channel=data["channel"],
            )
            return 201, {"number": ticket.number}

        try:
            # A double click or a resend opens one ticket, not two.
            answer = idempotency.submit_once(
                user=request.user,
                scope="desk.ticket_create",
                token=data["form_token"],
                content=idempotency.form_content(form),
                run=open_it,
            )
        except IdempotencyConflict as exc:
            _put_errors(form, exc)
            form.data = idempotency.renew_token(form.data)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            ticket = Ticket.objects.select_related("team").get(number=answer.body["number"])
            if answer.replayed:
                messages.info(request, f"This was already sent: ticket {ticket.number}.")
                return redirect("desk:ticket", number=ticket.number)
            if perms.can_read_as_technician(request.user, ticket):
                messages.success(request, f"Ticket {ticket.number} opened.")
                return redirect("desk:ticket", number=ticket.number)
            messages.success(request, f"Ticket {ticket.number} opened and sent to {ticket.team}.")
            return redirect("desk:queue")
    status = 400 if request.method == "POST" else 200
    picked = getattr(form, "cleaned_data", {}).get("requester_pick")
    return render(
        request, "desk/ticket_create.html", {"form": form, "picked": picked}, status=status
    )


# --- downloads ------------------------------------------------------------------------------


def _download_name(name: str) -> str:
    return _CONTROL_CHARS.sub("", name).strip() or "file"


@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    """The file, as a download only, if the user may see it; 404 otherwise."""
    attachment = Attachment.objects.select_related("message", "ticket").filter(pk=pk).first()
    if attachment is None or not perms.can_read_attachment(request.user, attachment):
        raise Http404("No such file.")
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is missing from storage.") from exc
    content_type = attachment.content_type.split(";")[0].strip().lower()
    if content_type not in _SAFE_DOWNLOAD_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(attachment.name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """An image file's inline preview: a PNG re-encoded from its pixels, never the original;
    404 for what the user may not read and for anything that is not a readable image."""
    attachment = Attachment.objects.select_related("message", "ticket").filter(pk=pk).first()
    if attachment is None or not perms.can_read_attachment(request.user, attachment):
        raise Http404("No such file.")
    png = services.preview_png(attachment)
    if png is None:
        raise Http404("This file has no preview.")
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = 'inline; filename="preview.png"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
