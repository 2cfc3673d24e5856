"""One click on a suggestion of the ticket page: apply it or dismiss it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tierline.assist import services
from tierline.assist.models import Suggestion
from tierline.core.errors import StaleEdit
from tierline.core.inputs import parse_id

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
