"""One click on a suggestion of the ticket page: apply it or dismiss it. The plain-language
check of a public reply, as the technician types (htmx, a fragment) or on "Check wording"
(without JavaScript: a page with the suggestions and the reply, ready to send)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tierline.assist import queries, services
from tierline.assist.models import Suggestion
from tierline.core.errors import StaleEdit
from tierline.core.inputs import parse_id
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
