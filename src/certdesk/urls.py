from __future__ import annotations

from django.urls import include, path

from certdesk.core.api import api

urlpatterns = [
    path("", include("certdesk.core.urls")),
    path("accounts/", include("certdesk.accounts.urls")),
    path("members/", include("certdesk.members.urls")),
    path("mfa/", include("certdesk.mfa.urls")),
    path("tokens/", include("certdesk.tokens.urls")),
    path("api/v1/", api.urls),
    path("terms/", include("certdesk.terms.urls")),
    path("console/", include("certdesk.console.urls")),
    path("certificates/", include("certdesk.certificates.search_urls")),
    path("certificates/", include("certdesk.certificates.urls")),
    path("organizations/", include("certdesk.organizations.urls")),
    path("pki/", include("certdesk.repository.urls")),
]

handler400 = "certdesk.core.views.bad_request"
handler403 = "certdesk.core.views.permission_denied"
handler404 = "certdesk.core.views.page_not_found"
handler500 = "certdesk.core.views.server_error"
