"""Portal URLs of the certificate history (mounted at ``/certificates/``)."""

from __future__ import annotations

from django.urls import path

from certdesk.certificates import search_views

app_name = "certificate_search"
urlpatterns = [
    path("", search_views.certificate_list, name="list"),
    path("export.csv", search_views.certificate_export, name="export"),
]
