from __future__ import annotations

from django.urls import path

from certdesk.mfa import views

app_name = "mfa"

urlpatterns = [
    path("", views.mfa_settings, name="settings"),
    path("setup/", views.mfa_setup, name="setup"),
    path("setup/confirm/", views.mfa_confirm, name="confirm"),
    path("recovery-codes/", views.mfa_regenerate, name="regenerate"),
    path("disable/", views.mfa_disable, name="disable"),
]
