"""Tierline's admin: configuration in the sections the README names, the system's tables apart.

The front page lists what an IT admin configures, grouped by section rather than by Django app.
An app places a model in a section with `section = "..."` on its ModelAdmin (core imports no
app, so the placement lives with each app's admin). A model without one (the login-lockout
records of django-axes, background task results, permission groups, the scheduler's jobs) is a
system table: it is not on the front page but on /admin/system/, linked from the front page's
"System" section for whoever may see any of them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _

# The front page's sections, in order; the names the README uses.
SECTIONS: list[str] = ["People & teams", "Desk settings"]
SYSTEM = "System"


class TierlineAdminSite(AdminSite):
    site_header = _("Tierline configuration")
    site_title = _("Tierline configuration")
    index_title = _("Configuration")

    def _sections(self, request: HttpRequest) -> dict[str, list[dict[str, Any]]]:
        """Every model the user may see, by section name (SYSTEM for those without one)."""
        placed: dict[str, list[dict[str, Any]]] = {}
        models = {m._meta.label: a for m, a in self._registry.items()}
        for app in super().get_app_list(request):
            for model in app["models"]:
                model_admin = models[model["model"]._meta.label]
                section = getattr(model_admin, "section", None) or SYSTEM
                placed.setdefault(section, []).append(model)
        return placed

    def _as_app(self, name: str, models: list[dict[str, Any]], url: str = "") -> dict[str, Any]:
        label = name.lower().replace(" & ", "-").replace(" ", "-")
        return {
            "name": name,
            "app_label": label,
            "app_url": url or reverse("admin:index", current_app=self.name) + f"#{label}",
            "has_module_perms": True,
            "models": models,
        }

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        if app_label is not None:  # an app's own page (/admin/people/) stays as Django has it
            return super().get_app_list(request, app_label)
        placed = self._sections(request)
        order = SECTIONS + sorted(set(placed) - {*SECTIONS, SYSTEM})
        apps = [self._as_app(name, placed[name]) for name in order if name in placed]
        if placed.get(SYSTEM):
            link = {
                "name": _("System tables (login lockouts, background tasks, scheduled jobs)"),
                "object_name": "System",
                "admin_url": reverse("admin:system", current_app=self.name),
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            }
            health = {
                "name": _("Health (database, disk, tasks, jobs, mail)"),
                "object_name": "Health",
                "admin_url": reverse("health"),
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            }
            models = [health, link] if getattr(request.user, "is_admin", False) else [link]
            apps.append(self._as_app(SYSTEM, models, url=link["admin_url"]))
        return apps

    def system_index(self, request: HttpRequest) -> TemplateResponse:
        """The system's tables: what Django and the libraries keep, for the rare look."""
        system = self._sections(request).get(SYSTEM, [])
        context = {
            **self.each_context(request),
            "title": _("System tables"),
            "subtitle": None,
            "app_list": [self._as_app(SYSTEM, system)] if system else [],
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/index.html", context)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        own = [path("system/", self.admin_view(self.system_index), name="system")]
        return own + super().get_urls()


class TierlineAdminConfig(AdminConfig):
    """django.contrib.admin with Tierline's site as `admin.site` (INSTALLED_APPS names this)."""

    default_site = "tierline.core.admin_site.TierlineAdminSite"
