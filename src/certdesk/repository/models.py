"""The built-in CA's published CRLs: each one kept so that CRL numbers only ever grow.

RFC 5280 5.2.3 requires a monotonically increasing CRL number per issuer. The number lives
in the database, not in a process, so any number of web processes share one sequence: the
unique constraint lets exactly one of two racing processes publish a given number.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CrlRecord(models.Model):
    """One CRL a CA of the built-in hierarchy signed, as served at ``/pki/crl/<slug>.crl``."""

    authority = models.CharField(_("CA"), max_length=64)
    number = models.PositiveBigIntegerField(_("CRL number"))
    this_update = models.DateTimeField(_("this update"))
    next_update = models.DateTimeField(_("next update"))
    # The latest revocation time among its entries: a listed certificate revoked later than
    # this means the CRL is out of date, whatever its age.
    revoked_through = models.DateTimeField(null=True, blank=True)
    entries = models.PositiveIntegerField(_("revoked entries"), default=0)
    der = models.BinaryField()

    class Meta:
        verbose_name = _("CRL")
        verbose_name_plural = _("CRLs")
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "number"], name="repository_crl_unique_number"
            )
        ]
        # The unique constraint's index also serves "the latest CRL of this CA".

    def __str__(self) -> str:
        return f"{self.authority} #{self.number}"
