from __future__ import annotations

from django.urls import URLPattern, path, re_path

from certdesk.repository import views

app_name = "repository"
urlpatterns: list[URLPattern] = [
    path("ca/<slug:slug>.cer", views.ca_certificate, name="ca_certificate"),
    path("ca/<slug:slug>.pem", views.ca_chain, name="ca_chain"),
    path("crl/<slug:slug>.crl", views.crl, name="crl"),
    # Clients post to the URL in the certificate; a trailing slash is accepted as well.
    re_path(r"^ocsp/?$", views.ocsp_post, name="ocsp"),
    path("ocsp/<path:encoded>", views.ocsp_get, name="ocsp_get"),
]
