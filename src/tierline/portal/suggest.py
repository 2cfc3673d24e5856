"""“These might solve it”: before an employee sends a request, the public articles most like
what they typed (htmx as they type; without JavaScript, a button that shows them on a page
with the request ready to send). “This solved it” counts a self-service deflection and sends
nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tierline.assist import answers, deflection
from tierline.core.inputs import parse_id
from tierline.core.text import normalise_text
from tierline.desk.models import Category
from tierline.portal.forms import NewRequestForm

# What is read of what they typed: the model reads the first 128 word pieces anyway.
READ_CHARS = 4_000


def _typed(request: HttpRequest, name: str) -> str:
    try:
        return normalise_text(request.POST.get(name, "")[:READ_CHARS]).strip()
    except ValidationError:
        return ""  # a character nobody types: nothing to suggest from, and no error here


def _category(request: HttpRequest) -> Category | None:
    pk = parse_id(request.POST.get("category", ""))
    if pk is None:
        return None
    return Category.objects.filter(pk=pk, is_active=True).first()


@login_required
@require_POST
def might_solve(request: HttpRequest) -> HttpResponse:
    subject, description = _typed(request, "subject"), _typed(request, "description")
    text = f"{subject}\n{description}".strip()
    # Under three words there is nothing to go on yet.
    found = answers.suggestions(user=request.user, text=text) if len(text.split()) >= 3 else []
    category = _category(request)
    context = {
        "answers": found,
        "subject": subject,
        "category_id": category.pk if category else "",
    }
    if request.headers.get("HX-Request"):
        return render(request, "portal/_might_solve.html", context)
    # Without JavaScript: the suggestions, and the request as typed, ready to send.
    form = NewRequestForm(request.POST)
    return render(request, "portal/might_solve.html", {**context, "form": form})


@login_required
@require_POST
def solved(request: HttpRequest) -> HttpResponse:
    article_id = parse_id(request.POST.get("article", ""))
    try:
        if article_id is None:
            raise ValidationError("Choose the article that solved it.")
        deflection.record_deflection(
            by=request.user,
            article_id=article_id,
            subject=_typed(request, "subject"),
            category=_category(request),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("portal:new")
    messages.success(request, "Glad that solved it. No request was sent.")
    return redirect("portal:home")
