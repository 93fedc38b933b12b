from __future__ import annotations

from django.urls import path

from certdesk.certificates import views

app_name = "certificates"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("applications/", views.application_list, name="application_list"),
    path(
        "applications/<int:application_id>/",
        views.application_detail,
        name="application_detail",
    ),
    path(
        "applications/<int:application_id>/validate/",
        views.application_validate,
        name="application_validate",
    ),
    path(
        "applications/<int:application_id>/method/",
        views.application_method,
        name="application_method",
    ),
    path(
        "applications/<int:application_id>/cancel/",
        views.application_cancel,
        name="application_cancel",
    ),
    path("<int:certificate_id>/", views.certificate_detail, name="detail"),
    path("<int:certificate_id>/download/", views.certificate_download, name="download"),
    path("<int:certificate_id>/renew/", views.certificate_renew, name="renew"),
    path("<int:certificate_id>/revoke/", views.certificate_revoke, name="revoke"),
]
