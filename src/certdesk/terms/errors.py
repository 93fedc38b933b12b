"""Refusals specific to the terms of use."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from certdesk.core.errors import PermissionDenied


class TermsNotAccepted(PermissionDenied):
    """The user has to accept a new version of the terms of use before going on (article 11)."""

    code = "terms_not_accepted"
    default_message = _(
        "A new version of the terms of use is in effect. Accept it in the portal to continue."
    )
