from django.conf import settings
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.static import serve

from digestsite.health import healthz
from editorial import analytics
from editorial.admin.importing import import_digest_view

handler400 = "editorial.admin.importing.bad_request"


def favicon(request):
    """Browsers ask for /favicon.ico on every page, the admin's included."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path(
        "admin/papers/digest/import/",
        admin.site.admin_view(import_digest_view),
        name="admin-digest-import",
    ),
    path(
        "admin/analytics/", admin.site.admin_view(analytics.analytics_view), name="admin-analytics"
    ),
    path(
        "admin/analytics/<slug:name>.svg",
        admin.site.admin_view(analytics.chart_view),
        name="admin-analytics-chart",
    ),
    path(
        "admin/analytics/<slug:name>.csv",
        admin.site.admin_view(analytics.csv_view),
        name="admin-analytics-csv",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("comments.urls")),
    path("", include("subscriptions.urls")),
    path("", include("editorial.urls")),
    path("", include("reading.urls")),
]


def serve_media(request, path):
    """Uploaded figures from MEDIA_ROOT (read per request), for a single-server deployment.
    Several app servers use shared object storage instead (SERVE_MEDIA=0)."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Mail providers' tracking webhooks (bounces, complaints: subscriptions/bounces.py), only
# with a secret for their basic auth: an open webhook would let anyone stop anyone's mail.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.insert(0, path("anymail/", include("anymail.urls")))

if settings.SERVE_MEDIA:
    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", serve_media)]
