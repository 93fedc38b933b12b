from __future__ import annotations

from django.urls import path

from certdesk.tokens import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("create/", views.token_create, name="create"),
    path("<int:token_id>/revoke/", views.token_revoke, name="revoke"),
]
