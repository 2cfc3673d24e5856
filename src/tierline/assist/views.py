"""One click on a suggestion of the ticket page: apply it or dismiss it. The plain-language
check of a public reply, as the technician types (htmx, a fragment) or on "Check wording"
(without JavaScript: a page with the suggestions and the reply, ready to send). Likely
duplicates (merge or keep) and the possible major incidents: their list, one, group or dismiss."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tierline.assist import duplicates, queries, services
from tierline.assist.models import DuplicateSuggestion, IncidentCluster, Suggestion
from tierline.core.errors import StaleEdit
from tierline.core.inputs import parse_id
from tierline.core.paging import page_of
from tierline.desk import permissions as perms

STALE = (
    "Someone changed this ticket after you loaded it, so the suggestion was not applied. "
    "Check the ticket as it is now."
)


def _number_of(suggestion_id: int | None) -> str:
    ticket = Suggestion.objects.filter(pk=suggestion_id).values_list("ticket__number", flat=True)
    number = ticket.first()
    if number is None:
        raise Http404("No such suggestion.")
    return number


@login_required
@require_POST
def decide(request: HttpRequest, pk: str, verb: str) -> HttpResponse:
    suggestion_id = parse_id(pk)
    if suggestion_id is None:
        raise Http404("No such suggestion.")
    version = parse_id(request.POST.get("version", ""))
    try:
        if verb == "apply":
            done = services.apply_suggestion(
                suggestion_id=suggestion_id, by=request.user, expected_version=version
            )
            messages.success(request, f"{done.get_target_display()} set to {done.label}.")
        else:
            done = services.dismiss_suggestion(suggestion_id=suggestion_id, by=request.user)
            messages.success(request, f"Suggestion dismissed: {done.label}.")
    except Suggestion.DoesNotExist:
        raise Http404("No such suggestion.") from None
    except StaleEdit:
        messages.error(request, STALE)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("desk:ticket", number=_number_of(suggestion_id))


@login_required
@require_POST
def check_wording(request: HttpRequest, number: str) -> HttpResponse:
    """Advice only: nothing is stored and nothing is sent from here. The help desk who work the
    ticket (those who may send it a public reply) only; anyone else gets 404 or 403."""
    if not perms.is_staff_member(request.user):
        raise Http404("No such page.")
    ticket = perms.ticket_for(request.user, number)
    perms.ensure(
        perms.can_work_ticket(request.user, ticket),
        "Only those who work this ticket send it public replies.",
    )
    text = request.POST.get("body", "")
    context = {
        "ticket": ticket,
        "text": text,
        "internal": bool(request.POST.get("internal")),
        "limit": queries.REPLY_MAX_CHARS,
        "minutes": parse_id(request.POST.get("time_spent_minutes", "")),
        "dropped_files": bool(request.FILES),
    }
    if context["internal"]:
        pass  # internal notes are for the desk: not checked
    elif len(text) > queries.REPLY_MAX_CHARS:
        context["too_long"] = len(text)
    else:
        context["result"] = queries.check_reply(text)
    if request.htmx:
        return render(request, "assist/_wording_result.html", context)
    return render(request, "assist/wording_check.html", context)


# --- duplicates and possible major incidents -------------------------------------------------


def _duplicate_numbers(suggestion_id: int) -> tuple[str, str]:
    row = (
        DuplicateSuggestion.objects.filter(pk=suggestion_id)
        .values_list("ticket__number", "candidate__number")
        .first()
    )
    if row is None:
        raise Http404("No such suggestion.")
    return row


@login_required
@require_POST
def decide_duplicate(request: HttpRequest, pk: str, verb: str) -> HttpResponse:
    """Merge the ticket into the one it duplicates, or say it is not a duplicate."""
    suggestion_id = parse_id(pk)
    if suggestion_id is None or verb not in ("merge", "dismiss"):
        raise Http404("No such suggestion.")
    number, into = _duplicate_numbers(suggestion_id)
    try:
        if verb == "merge":
            duplicates.merge_duplicate(suggestion_id=suggestion_id, by=request.user)
            messages.success(request, f"Ticket {number} merged into {into}.")
            return redirect("desk:ticket", number=into)
        duplicates.dismiss_duplicate(suggestion_id=suggestion_id, by=request.user)
        messages.success(request, f"Noted: {number} is not a duplicate of {into}.")
    except DuplicateSuggestion.DoesNotExist:
        raise Http404("No such suggestion.") from None
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You are not allowed to do that.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("desk:ticket", number=number)


STATUS_TABS = [
    (IncidentCluster.Status.SUGGESTED.value, "Suggested"),
    (IncidentCluster.Status.ACCEPTED.value, "Grouped"),
    (IncidentCluster.Status.DISMISSED.value, "Dismissed"),
]


@login_required
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    """The possible major incidents of one status, newest first, a page at a time."""
    if not perms.is_staff_member(request.user):
        raise Http404("No such page.")
    status = request.GET.get("status", "")
    if status not in dict(STATUS_TABS):
        status = IncidentCluster.Status.SUGGESTED.value
    page = page_of(request, duplicates.clusters(status))
    return render(
        request,
        "assist/incidents.html",
        {
            "page": page,
            "views": duplicates.cluster_views(page.object_list, request.user),
            "tabs": STATUS_TABS,
            "status": status,
            "minutes": duplicates.setting("ASSIST_BURST_MINUTES"),
        },
    )


@login_required
@require_GET
def incident(request: HttpRequest, pk: str) -> HttpResponse:
    cluster_id = parse_id(pk)
    try:
        if cluster_id is None:
            raise IncidentCluster.DoesNotExist
        view = duplicates.visible_cluster(cluster_id, request.user)
    except IncidentCluster.DoesNotExist:
        raise Http404("No such possible major incident.") from None
    return render(request, "assist/incident.html", {"incident": view})


@login_required
@require_POST
def decide_incident(request: HttpRequest, pk: str, verb: str) -> HttpResponse:
    """Group the tickets under one new major incident ticket, or dismiss the suggestion."""
    cluster_id = parse_id(pk)
    if cluster_id is None or verb not in ("group", "dismiss"):
        raise Http404("No such possible major incident.")
    try:
        if verb == "group":
            parent = duplicates.group_as_incident(cluster_id=cluster_id, by=request.user)
            messages.success(
                request, f"Major incident {parent.number} opened; the tickets are linked to it."
            )
            return redirect("desk:ticket", number=parent.number)
        duplicates.dismiss_incident(cluster_id=cluster_id, by=request.user)
        messages.success(request, "Dismissed: not a major incident.")
    except IncidentCluster.DoesNotExist:
        raise Http404("No such possible major incident.") from None
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You are not allowed to do that.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("assist:incident", pk=cluster_id)
