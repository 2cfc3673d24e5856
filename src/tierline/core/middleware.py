"""Request/response rules every page follows."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers


class NoStoreWhenSignedIn:
    """Pages for a signed-in person are never kept by a browser or a proxy cache
    (`Cache-Control: no-store`): the back button on a shared PC must not show the last user's
    tickets. Static files are served before this runs (whitenoise) and keep their caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class RefuseOversizedBodies:
    """A request whose body is over TIERLINE["REQUEST_MAX_BYTES"] is answered 413 from its
    `Content-Length` header, before a byte of the body is read: Django would otherwise stream a
    multi-gigabyte upload to a temporary file before any form saw it. A Content-Length that is
    not a number is a 400. (A body sent without a length is read as empty by Django's WSGI
    handler, so it cannot get past this either.) JSON under /api/, a page elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.TIERLINE["REQUEST_MAX_BYTES"]
        if not (declared.isascii() and declared.isdigit()):
            return self._refuse(request, 400, "The Content-Length header is not a number.", {})
        size = int(declared)
        if size > limit:
            mb = {
                "size_mb": f"{size / 2**20:.1f}",
                "limit_mb": f"{limit / 2**20:.0f}",
                "file_limit_mb": f"{settings.TIERLINE['ATTACHMENT_MAX_BYTES'] / 2**20:.0f}",
            }
            return self._refuse(
                request,
                413,
                f"The request is {mb['size_mb']} MB; at most {mb['limit_mb']} MB is accepted "
                f"at once, and {mb['file_limit_mb']} MB per file.",
                mb,
            )
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, status: int, detail: str, context: dict) -> HttpResponse:
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": detail}, status=status)
        elif status == 413:
            page = loader.get_template("413.html").render(context)
            response = HttpResponse(page, status=status)
        else:
            response = HttpResponse(detail, status=status, content_type="text/plain")
        return response
