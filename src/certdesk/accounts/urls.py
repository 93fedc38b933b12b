from __future__ import annotations

from django.urls import path

from certdesk.accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("verify/resend/", views.verify_resend, name="verify_resend"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_mfa, name="login_mfa"),
    path("logout/", views.logout, name="logout"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path(
        "password/reset/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/change/", views.password_change, name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("profile/account/", views.profile_account, name="profile_account"),
    path("profile/confirm/", views.profile_confirm, name="profile_confirm"),
]
