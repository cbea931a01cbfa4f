from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from bookings import views as bookings_views
from cacaotours.core import views as core_views
from cooperatives.admin_dashboard import operations_dashboard_view

admin.site.site_header = _("Kallpa Travel · operations")
admin.site.site_title = _("Kallpa Travel admin")
admin.site.index_title = _("Routes, tours, departures and communities")

handler404 = "cacaotours.core.views.page_not_found"
handler500 = "cacaotours.core.views.server_error"

urlpatterns = [
    path("hello/", core_views.hello, name="hello"),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin): the site's SVG icon.
    path("favicon.ico", core_views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("stripe/webhook/", bookings_views.stripe_webhook, name="stripe_webhook"),
]

urlpatterns += i18n_patterns(
    path(
        f"{settings.ADMIN_URL}operations/",
        admin.site.admin_view(operations_dashboard_view),
        name="operations_dashboard",
    ),
    # The admin's sign-in, rate limited (cacaotours/core/login_limits.py); before the admin's own URL.
    path(f"{settings.ADMIN_URL}login/", core_views.admin_login, name="admin_login_limited"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("cacaotours.users.urls")),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("cooperatives.urls")),
    path("", include("bookings.urls")),
    path("", include("tours.urls")),
    prefix_default_language=False,
)

if settings.DEBUG:
    # Production: the reverse proxy serves /media/ with the same headers (docs/operations.md).
    urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", core_views.media_serve)]
