"""The queues: filtered, sorted, paged ticket lists; bulk actions, saved views, export, search."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tierline.core import list_columns
from tierline.core import search as core_search
from tierline.core.csv_export import csv_response
from tierline.core.inputs import parse_id
from tierline.core.lists import Window
from tierline.desk import lists, queries, services
from tierline.desk import permissions as perms
from tierline.desk.filters import DEFAULT_SORT, TICKET_EXTRAS, TICKET_ORDERINGS, TicketFilter
from tierline.desk.forms_lists import BulkForm, SaveViewForm
from tierline.desk.models import Priority, SavedView, Status
from tierline.people import queries as directory

View = Callable[..., HttpResponseBase]

# Query-string keys that are not filters: never stored in a saved view.
_NOT_FILTERS = {"page", "partial", "exact"}


def staff_required(view: View) -> View:
    """Signed-in help desk staff only; an employee who wanders in goes to the portal."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not perms.is_staff_member(request.user):
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapper


def error_text(exc: ValidationError) -> str:
    """A service error as one readable sentence."""
    return " ".join(exc.messages)


def stale_bulk_message(stale: dict[str, dict]) -> str:
    """A bulk action refused because tickets changed after the queue was loaded: each one named
    with its values now (`current` as desk.services.saving.current_values)."""
    described = []
    for number, now in stale.items():
        status = Status(now["status"]).label if now["status"] in Status.values else now["status"]
        priority = Priority(now["priority"]).label if now["priority"] in Priority.values else ""
        described.append(
            f"{number} is now “{status}”, P{now['priority']} {priority}, team "
            f"“{now['team_name'] or 'none'}”, assignee “{now['assignee_name'] or 'nobody'}”"
        )
    return (
        "Nothing was changed: some tickets changed after you loaded this page. "
        + "; ".join(described)
        + ". Check them, then apply your change again if it still applies."
    )


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() would take "x" for a view's name (NoReverseMatch).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- shared list pieces -------------------------------------------------------------------


def queue_name(request: HttpRequest) -> str:
    """The queue asked for; "all" only for leads, anything unknown falls back to "team"."""
    name = request.GET.get("queue") or "team"
    if name not in queries.QUEUES or (name == "all" and not perms.sees_everything(request.user)):
        return "team"
    return name


def queue_page(request: HttpRequest) -> tuple[str, Page | Window, TicketFilter]:
    """The queue asked for, filtered, ordered and paged by the queue's list spec."""
    name = queue_name(request)
    page, ticket_filter = lists.QUEUE.page(
        request.user, request.GET, scope=queries.queue_for(request.user, name)
    )
    return name, page, ticket_filter


def corrected_page(
    request: HttpRequest,
    params: Any,
    page: Page | Window,
    run: Callable[[Any], tuple[Page | Window, Any]],
) -> tuple[Page | Window, str | None]:
    """When the text `q` finds nothing, the page of its correction ("pinter": "printer"; the
    search index's word table, core.search) and that correction; else `page` and None.

    Offered only when the corrected text finds tickets: `run` is the same list, with the same
    filters and visibility, so a word known only from notes or tickets this person can't read
    is never suggested. `?exact=1` ("search instead for") keeps the text as typed. The API's
    `q`/`search` stay exact: an integration gets what it asked for.
    """
    typed = (params.get("q") or "").strip()
    if not typed or page.object_list or request.GET.get("exact"):
        return page, None
    better = core_search.corrected_text(typed)
    if not better or better == typed:
        return page, None
    again = params.copy()
    again["q"] = better
    corrected, _ = run(again)
    if not corrected.object_list:
        return page, None
    return corrected, better


def sort_columns(request: HttpRequest, default: str = DEFAULT_SORT) -> dict[str, dict[str, str]]:
    """For each sortable column: the sort to link to and its aria-sort state."""
    current = request.GET.get("sort") or default
    if current not in TICKET_ORDERINGS:
        current = default
    columns = {}
    # Only the columns an index can order (desk.filters.TICKET_ORDERINGS).
    for key in ("number", "priority", "updated", "created"):
        if current == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif current == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            columns[key] = {"next": key, "aria": "none"}
    return columns


def _requester_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("page", "requester"):
        query.pop(key, None)
    return "?" + (query.urlencode() + "&" if query else "") + "requester="


def extra_columns(request: HttpRequest, page: Page | Window) -> list[dict[str, Any]]:
    """Other apps' columns (core.list_columns): header, sort link and aria state, filter; each
    row's cells are set on the ticket as `extra_cells` (one query per column for the page)."""
    columns = list_columns.page_columns(TICKET_EXTRAS, [t.pk for t in page.object_list])
    for ticket in page.object_list:
        ticket.extra_cells = [column.cell(ticket.pk) for column in columns]
    current = request.GET.get("sort") or ""
    out = []
    for column in columns:
        sort = None
        if column.column.sort is not None:
            if current == column.name:
                sort = {"next": f"-{column.name}", "aria": "ascending"}
            elif current == f"-{column.name}":
                sort = {"next": column.name, "aria": "descending"}
            else:
                sort = {"next": column.name, "aria": "none"}
        out.append(
            {
                "name": column.name,
                "header": column.header,
                "sort": sort,
                "filter_label": column.column.filter_label,
                "filter_choices": column.column.filter_choices,
                "filter_value": request.GET.get(column.name, ""),
            }
        )
    return out


def table_context(
    request: HttpRequest, page: Page | Window, default_sort: str = DEFAULT_SORT, **extra: Any
) -> dict:
    return {
        "extra_columns": extra_columns(request, page),
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2)
        if page.paginator
        else None,
        "tickets": page.object_list,
        "columns": sort_columns(request, default_sort),
        "list_url": request.path,
        # Each row links to "this list, only this requester": the query is built once here.
        "requester_query": _requester_query(request),
        "bulk": True,
        **extra,
    }


def dress_filter_form(ticket_filter: TicketFilter) -> TicketFilter:
    """Date inputs as real date pickers, multi-selects kept short."""
    form = ticket_filter.form
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        form.fields[name].widget.input_type = "date"
    for name in ("status", "priority", "tier", "team"):
        form.fields[name].widget.attrs["size"] = 3
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs["maxlength"] = 200
    return ticket_filter


def _filter_keys(request: HttpRequest) -> set[str]:
    return set(request.GET) - _NOT_FILTERS - {"queue", "sort"}


def _saved_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in _NOT_FILTERS:
        query.pop(key, None)
    return query.urlencode()


# --- views ----------------------------------------------------------------------------------


@require_GET
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    name, page, ticket_filter = queue_page(request)
    scope = queries.queue_for(request.user, name)
    page, corrected = corrected_page(
        request,
        request.GET,
        page,
        lambda params: lists.QUEUE.page(request.user, params, scope=scope),
    )
    context = table_context(
        request,
        page,
        queue=name,
        queue_label=queries.QUEUES[name],
        filtered=any(request.GET.getlist(k) != [""] for k in _filter_keys(request)),
        corrected=corrected,
        typed=(request.GET.get("q") or "").strip(),
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, "desk/_queue_table.html", context)
    context.update(
        filter=dress_filter_form(ticket_filter),
        queues=queries.QUEUES,
        is_lead=perms.sees_everything(request.user),
        saved_views=list(SavedView.objects.filter(owner=request.user)),
        current_query=_saved_query(request),
        extra_filtered=any(
            request.GET.get(column.name) for column in list_columns.columns(TICKET_EXTRAS)
        ),
        technicians=list(directory.staff_people().order_by("first_name", "last_name", "username")),
    )
    return render(request, "desk/queue.html", context)


@require_GET
@staff_required
def export_csv(request: HttpRequest) -> HttpResponseBase:
    name = queue_name(request)
    tickets, _ = lists.QUEUE.filter(
        request.user, request.GET, scope=queries.queue_for(request.user, name)
    )
    rows = (
        (
            t.number,
            t.subject,
            t.requester,
            t.requester.email,
            t.get_priority_display(),
            t.get_status_display(),
            t.tier,
            t.team,
            t.assignee or "",
            t.category or "",
            t.created_at.isoformat(),
            t.updated_at.isoformat(),
        )
        for t in tickets.select_related(*lists.QUEUE.columns).iterator(chunk_size=500)
    )
    header = [
        "Number",
        "Subject",
        "Requester",
        "Requester email",
        "Priority",
        "Status",
        "Tier",
        "Team",
        "Assignee",
        "Category",
        "Created",
        "Updated",
    ]
    return csv_response(f"tierline-{name}.csv", header, rows)


@require_POST
@staff_required
def bulk(request: HttpRequest) -> HttpResponse:
    back = safe_next(request, reverse("desk:queue"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    user = request.user
    tickets = list(
        perms.visible_tickets(user).filter(pk__in=data["ids"]).select_related("team", "assignee")
    )
    missing = len(set(data["ids"])) - len(tickets)
    if data["action"] == "assign":
        wanted = (data["assignee"] or "").strip()
        if wanted == "me":
            assignee = user
        elif wanted in ("", "nobody"):
            assignee = None
        else:
            assignee = directory.staff_people().filter(pk=int(wanted)).first()
            if assignee is None:
                messages.error(request, "That technician does not exist.")
                return redirect(back)
        result = services.bulk_assign(
            tickets=tickets, by=user, assignee=assignee, versions=data["versions"]
        )
        done_text = f"assigned to {assignee}" if assignee else "unassigned"
    else:
        result = services.bulk_change_status(
            tickets=tickets, by=user, status=data["status"], versions=data["versions"]
        )
        done_text = f"set to “{Status(data['status']).label}”"
    if result.stale:
        messages.error(request, stale_bulk_message(result.stale))
        return redirect(back)
    if result.done:
        count = len(result.done)
        messages.success(
            request,
            f"{count} ticket{'s' if count != 1 else ''} {done_text}: {', '.join(result.done)}.",
        )
    for number, reason in result.refused.items():
        messages.warning(request, f"{number} not changed: {reason}")
    if missing:
        messages.warning(
            request, f"{missing} ticket{'s' if missing != 1 else ''} not found or not yours to see."
        )
    return redirect(back)


@require_POST
@staff_required
def save_view(request: HttpRequest) -> HttpResponse:
    form = SaveViewForm(request.POST)
    query = (request.POST.get("query") or "").lstrip("?")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(f"{reverse('desk:queue')}?{query}")
    try:
        view = services.save_view(
            owner=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(f"{reverse('desk:queue')}?{query}")
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(f"{reverse('desk:queue')}?{view.query}")


@require_POST
@staff_required
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    name = services.delete_saved_view(owner=request.user, pk=pk)
    messages.success(request, f"Deleted the view “{name}”.")
    return redirect(safe_next(request, reverse("desk:queue")))


_NUMBER = re.compile(r"(?:([a-z]+)-)?0*(\d{1,12})", re.IGNORECASE)


@require_GET
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """A ticket number goes straight to the ticket; anything else lists the visible matches.

    `?requester=ID` lists one person's tickets, every status, newest first (the "All their
    tickets" link of a ticket page), narrowed by the text if there is one."""
    text = (request.GET.get("q") or "").strip()[:200]
    requester_id = parse_id(request.GET.get("requester"))
    requester = (
        directory.everyone().filter(pk=requester_id).first() if requester_id is not None else None
    )
    match = _NUMBER.fullmatch(text)
    prefix = settings.TIERLINE["TICKET_PREFIX"]
    if match and (match.group(1) is None or match.group(1).upper() == prefix.upper()):
        number = services.ticket_number(int(match.group(2)))
        if perms.visible_tickets(request.user).filter(number=number).exists():
            return redirect("desk:ticket", number=number)
    default_sort = "-created" if requester is not None and not text else "-updated"
    if text or requester is not None:
        params = {"q": text, "sort": request.GET.get("sort") or "", "page": request.GET.get("page")}
        if requester is not None:
            params["requester"] = str(requester.pk)
        page, _ = lists.TICKETS.page(request.user, params, default_ordering=default_sort)
        page, corrected = corrected_page(
            request,
            params,
            page,
            lambda again: lists.TICKETS.page(request.user, again, default_ordering=default_sort),
        )
    else:
        page = Window(object_list=[], number=1, page_size=1, more=False)
        corrected = None
    context = table_context(
        request,
        page,
        default_sort=default_sort,
        q=text,
        typed=text,
        corrected=corrected,
        bulk=False,
        search=True,
        requester=requester,
        requester_asked=requester_id is not None or bool(request.GET.get("requester")),
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, "desk/_queue_table.html", context)
    return render(request, "desk/queue_search.html", context)
