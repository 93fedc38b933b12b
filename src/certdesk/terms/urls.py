from __future__ import annotations

from django.urls import path

from certdesk.terms import views

app_name = "terms"

urlpatterns = [
    path("", views.current, name="current"),
    path("versions/", views.version_list, name="list"),
    path("<int:number>/", views.version_detail, name="version"),
    path("accept/", views.accept, name="accept"),
    path("accept/cancel/", views.cancel, name="cancel"),
]
