from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Help desk staff land on their queue, employees on their requests."""
    if request.user.is_staff_member:
        return redirect("desk:queue")
    return redirect("portal:home")
