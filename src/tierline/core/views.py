from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults

from tierline.core import health


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Help desk staff land on their queue, employees on their requests."""
    if request.user.is_staff_member:
        return redirect("desk:queue")
    return redirect("portal:home")


# --- error pages: JSON under /api/, the site's own pages elsewhere ----------------------------
# DRF answers its own errors in JSON; these cover what never reaches a DRF view (an address no
# route matches, an error outside the view).


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)


# --- health ---------------------------------------------------------------------------------


def health_live(request: HttpRequest) -> HttpResponse:
    """For a load balancer or a monitor: the database answers, or not. Tells nothing else."""
    alive = health.database_answers()
    return JsonResponse({"status": "ok" if alive else "error"}, status=200 if alive else 503)


@login_required
def health_page(request: HttpRequest) -> HttpResponse:
    """Every app's checks, for administrators; `?format=json` for scripts."""
    if not getattr(request.user, "is_admin", False):
        raise PermissionDenied("The health page is for administrators.")
    results = health.run_checks()
    state = health.overall(results)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": state,
                "checks": [
                    {
                        "key": r.key,
                        "label": r.label,
                        "state": r.finding.state,
                        "summary": r.finding.summary,
                        "count": r.finding.count,
                        "url": r.finding.url,
                        "ms": r.milliseconds,
                    }
                    for r in results
                ],
            }
        )
    return render(request, "core/health.html", {"results": results, "state": state})
