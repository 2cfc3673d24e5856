"""The knowledge base pages for the help desk, under /knowledge/.

Thin: parse the request, call a query or a service, render. Employees read public articles in
the portal (/portal/help/); here, anyone not on the help desk gets a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tierline.core.errors import StaleEdit
from tierline.core.inputs import parse_id
from tierline.core.markdown import plain_summary, render_markdown
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk.choices import Status
from tierline.knowledge import queries, services
from tierline.knowledge.forms import ArticleForm, FeedbackForm, LinkForm, apply_service_error
from tierline.knowledge.models import Article, Audience

View = Callable[..., HttpResponse]


def help_desk_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not queries.can_write(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


TABS = {"all": "All articles", "review": "Due for review"}


@help_desk_only
def article_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    tab = tab if tab in TABS else "all"
    category_id = parse_id(request.GET.get("category"))
    audience = request.GET.get("audience", "")
    # Only what can be typed: PostgreSQL refuses a NUL in a parameter.
    words = "".join(c if c.isprintable() else " " for c in request.GET.get("q", "")[:200])
    articles = queries.article_list(
        request.user,
        category_id=category_id,
        audience=audience,
        words=words,
        due_for_review=tab == "review",
    )
    page = page_of(request, articles)
    for article in page.object_list:
        article.summary = plain_summary(article.body)
    context = {
        "page": page,
        "tab": tab,
        "tabs": TABS,
        "categories": queries.categories(),
        "category_id": category_id,
        "audience": audience if audience in Audience.values else "",
        "audiences": Audience.choices,
        "words": words,
        "desk_nav": "knowledge",
    }
    return render(request, "knowledge/list.html", context)


def _source_ticket(request: HttpRequest) -> Any:
    """The resolved ticket named by ?ticket= (or the form's ticket field), if any."""
    number = (request.POST.get("ticket") or request.GET.get("ticket") or "").strip()[:20]
    if not number:
        return None
    ticket = perms.ticket_for(request.user, number)
    if not perms.can_note_ticket(request.user, ticket):
        raise Http404("No such ticket.")
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise PermissionDenied("Only a resolved or closed ticket can become an article.")
    return ticket


@help_desk_only
def article_new(request: HttpRequest) -> HttpResponse:
    """Write an article; from a resolved ticket (?ticket=TL-…) its problem and resolution are
    filled in."""
    ticket = _source_ticket(request)
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                article = services.create_article(
                    by=request.user,
                    title=data["title"],
                    body=data["body"],
                    category=data["category"],
                    audience=data["audience"],
                    review_by=data["review_by"],
                    source_ticket=ticket,
                )
            except ValidationError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"{article.reference} saved.")
                return redirect("knowledge:article", article.pk)
    else:
        form = ArticleForm(initial=services.draft_from_ticket(ticket) if ticket else None)
    return render(
        request,
        "knowledge/edit.html",
        {"form": form, "article": None, "ticket": ticket, "desk_nav": "knowledge"},
    )


@help_desk_only
def article_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    return render(
        request,
        "knowledge/article.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "feedback": queries.feedback_counts(article, request.user),
            "linked_tickets": queries.linked_ticket_count(article),
            "desk_nav": "knowledge",
        },
    )


@help_desk_only
def article_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_article(
                    article_id=article.pk,
                    by=request.user,
                    title=data["title"],
                    body=data["body"],
                    category=data["category"],
                    audience=data["audience"],
                    review_by=data["review_by"],
                    expected_version=data["version"] or article.version,
                    note=data["note"],
                )
            except ValidationError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"{article.reference} saved.")
                return redirect("knowledge:article", article.pk)
    else:
        form = ArticleForm(
            initial={
                "title": article.title,
                "body": article.body,
                "category": article.category_id,
                "audience": article.audience,
                "review_by": article.review_by,
                "version": article.version,
            }
        )
    return render(
        request,
        "knowledge/edit.html",
        {"form": form, "article": article, "ticket": None, "desk_nav": "knowledge"},
    )


@help_desk_only
def article_history(request: HttpRequest, pk: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    return render(
        request,
        "knowledge/history.html",
        {
            "article": article,
            "versions": queries.versions_of(article),
            "desk_nav": "knowledge",
        },
    )


@help_desk_only
def article_version(request: HttpRequest, pk: Any, number: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    version = queries.version_of(article, number)
    return render(
        request,
        "knowledge/version.html",
        {
            "article": article,
            "version": version,
            "body_html": render_markdown(version.body),
            "desk_nav": "knowledge",
        },
    )


@help_desk_only
@require_POST
def article_restore(request: HttpRequest, pk: Any, number: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    version = queries.version_of(article, number)
    try:
        services.restore_version(
            article_id=article.pk,
            by=request.user,
            number=version.number,
            expected_version=parse_id(request.POST.get("version")),
        )
    except StaleEdit as exc:
        messages.error(request, exc.messages[0])
        return redirect("knowledge:history", article.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("knowledge:history", article.pk)
    messages.success(request, f"Version {version.number} restored as the current text.")
    return redirect("knowledge:article", article.pk)


@help_desk_only
@require_POST
def article_feedback(request: HttpRequest, pk: Any) -> HttpResponse:
    article = queries.article_for(request.user, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Answer yes or no.")
    else:
        services.give_feedback(article=article, by=request.user, helpful=form.answer)
        messages.success(request, "Thank you for telling us.")
    return redirect("knowledge:article", article.pk)


def _ticket_page(number: str) -> HttpResponse:
    return redirect("desk:ticket", number)


@help_desk_only
@require_POST
def ticket_link(request: HttpRequest, number: str) -> HttpResponse:
    """ "Solved with this article", from the panel on the ticket page."""
    ticket = perms.ticket_for(request.user, number)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["article"]))
        return _ticket_page(ticket.number)
    article = Article.objects.filter(pk=form.cleaned_data["article"]).first()
    if article is None:
        messages.error(request, f"There is no article KB-{form.cleaned_data['article']}.")
        return _ticket_page(ticket.number)
    services.link_ticket(ticket=ticket, article=article, by=request.user)
    messages.success(request, f"Linked to {article.reference}: {article.title}.")
    return _ticket_page(ticket.number)


@help_desk_only
@require_POST
def ticket_unlink(request: HttpRequest, number: str, pk: Any) -> HttpResponse:
    ticket = perms.ticket_for(request.user, number)
    article = queries.article_for(request.user, pk)
    services.unlink_ticket(ticket=ticket, article=article, by=request.user)
    messages.success(request, f"{article.reference} is no longer linked.")
    return _ticket_page(ticket.number)
