from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tierline.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("desk/", include("tierline.desk.urls")),
    path("portal/", include("tierline.portal.urls")),
    path("people/", include("tierline.people.urls")),
    path("mail/", include("tierline.mail.urls")),
    path("knowledge/", include("tierline.knowledge.urls")),
    path("assets/", include("tierline.assets.urls")),
    path("assist/", include("tierline.assist.urls")),
    path("sla/", include("tierline.sla.urls")),
    path("changes/", include("tierline.changes.urls")),
    path("api/v1/", include("tierline.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", core_views.health_page, name="health"),
    path("health/live", core_views.health_live, name="health-live"),
    path("admin/", admin.site.urls),
    # Pages without a <link rel="icon"> (the admin's, say) make the browser ask for this.
    path("favicon.ico", RedirectView.as_view(url=static("tierline/favicon.svg"), permanent=True)),
]

handler400 = "tierline.core.views.bad_request"
handler404 = "tierline.core.views.not_found"
handler500 = "tierline.core.views.server_error"
