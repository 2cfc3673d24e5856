"""Help in the portal (/portal/help/): the knowledge base's public troubleshooting guides (run
by the knowledge app's runner, `knowledge/views_guides.py`) and its public articles, written
for employees, shelved by category, each with "did this help?"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tierline.core.markdown import plain_summary, render_markdown
from tierline.knowledge import guides, queries, services
from tierline.knowledge.forms import FeedbackForm
from tierline.knowledge.models import Article, Audience


def _public_article(request: HttpRequest, pk: Any) -> Article:
    """A public article; an internal one is a 404 here, for the help desk too (the portal
    shows what employees see)."""
    article = queries.article_for(request.user, pk)
    if article.audience != Audience.PUBLIC:
        raise Http404("No such article.")
    return article


@login_required
def help_home(request: HttpRequest) -> HttpResponse:
    shelves = queries.public_shelves(request.user)
    for _category, articles in shelves:
        for article in articles:
            article.summary = plain_summary(article.body, 160)
    public_guides = list(guides.portal_guides(request.user).order_by("title", "id")[:50])
    return render(request, "portal/help_home.html", {"shelves": shelves, "guides": public_guides})


@login_required
def help_article(request: HttpRequest, pk: Any) -> HttpResponse:
    article = _public_article(request, pk)
    return render(
        request,
        "portal/help_article.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "feedback": queries.feedback_counts(article, request.user),
        },
    )


@login_required
@require_POST
def help_feedback(request: HttpRequest, pk: Any) -> HttpResponse:
    article = _public_article(request, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Answer yes or no.")
    else:
        services.give_feedback(article=article, by=request.user, helpful=form.answer)
        if form.answer:
            messages.success(request, "Glad it helped. Thank you for telling us.")
        else:
            messages.info(
                request, "Sorry it didn't help. Ask the help desk and someone will sort it out."
            )
    return redirect("portal:help_article", article.pk)
