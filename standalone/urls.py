"""The project's URLs. There is no public media URL, under any setting (DEBUG included):
generated images and audio are served only by the console's owner-checked views
(``aiadmin.playground.services.owned_file``), so nothing under ``MEDIA_URL`` is routed here."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Before the admin's own URLs, whose catch-all would otherwise answer these.
    path("admin/console/", include("aiadmin.console.urls")),
    path("admin/", admin.site.urls),
    # The OpenAI-compatible HTTP API for other applications (token auth only).
    path("v1/", include("aiadmin.api.urls")),
    path("", RedirectView.as_view(pattern_name="aiadmin_console:cards", permanent=False)),
]

# Error pages in the console's look (a host project adds the same three lines).
handler403 = "aiadmin.console.views.errors.permission_denied"
handler404 = "aiadmin.console.views.errors.page_not_found"
handler500 = "aiadmin.console.views.errors.server_error"
