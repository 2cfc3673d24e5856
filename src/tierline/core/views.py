from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults


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
