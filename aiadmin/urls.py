from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Before the admin's own URLs, whose catch-all would otherwise answer these.
    path("admin/console/", include("aiadmin.console.urls")),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="console:cards", permanent=False)),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
