from __future__ import annotations

from django.urls import path

from certdesk.members import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("invite/", views.member_invite, name="invite"),
    path("<int:member_id>/role/", views.member_role, name="role"),
    path("<int:member_id>/remove/", views.member_remove, name="remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("join/<str:secret>/", views.invitation_accept, name="accept"),
]
