from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Before the admin's own URLs, whose catch-all would otherwise answer these.
    path("admin/console/", include("aiadmin.console.urls")),
    path("admin/", admin.site.urls),
]
