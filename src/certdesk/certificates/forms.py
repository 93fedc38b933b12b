"""Portal forms of the certificate lifecycle: shapes only; the rules live in ``services`` and
in the PKI core, whose refusals the views put next to the field they name."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

import pki
from certdesk.certificates.models import Product
from certdesk.core.pkierrors import pki_message
from certdesk.organizations.models import Organization
from certdesk.validation.models import DomainValidation

# A CSR is a few kilobytes; anything much larger is the wrong file. The core has its own
# limit for pasted text; this one stops a large upload before it is read into memory.
MAX_CSR_UPLOAD_BYTES = 64 * 1024


def product_purpose(product: Product) -> Promise | str:
    """What a product is for, in plain words, from its profile (single / multi / wildcard)."""
    if product.profile.endswith("-wildcard"):
        text = _(
            "Every name one level under your domain (*.example.co.jp), plus the domain itself. "
            "For many sub-domains on one server or load balancer."
        )
    elif product.profile.endswith("-multi") or product.max_names > 1:
        text = _(
            "Up to %(count)s names in one certificate, e.g. example.co.jp, www.example.co.jp "
            "and mail.example.co.jp."
        ) % {"count": product.max_names}
    else:
        text = _("One name, e.g. www.example.co.jp. For a single website or server.")
    if product.is_ov:
        return _(
            "%(names)s The certificate also names your organisation, after the operator has "
            "verified it."
        ) % {"names": text}
    return _("%(names)s Proves that you control the domain; no organisation is named.") % {
        "names": text
    }


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return f"{obj.name_ja} / {obj.name_en} ({obj.get_status_display()})"


class ApplyForm(forms.Form):
    """Apply (or renew): product, organisation, the CSR pasted or uploaded, and how the names
    are to be validated."""

    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a product.")},
    )
    organization = OrganizationChoiceField(
        label=pgettext_lazy("certificate", "Organisation"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("— none (DV only) —"),
        help_text=_(
            "Required for OV certificates, and it must have been verified by the operator. "
            "DV certificates name no organisation."
        ),
    )
    csr = forms.CharField(
        label=_("Certificate signing request (CSR)"),
        required=False,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "spellcheck": "false",
                "autocapitalize": "none",
                "autocomplete": "off",
                "placeholder": "-----BEGIN CERTIFICATE REQUEST-----",
            }
        ),
        help_text=_("Paste the PEM text, including the BEGIN and END lines."),
    )
    csr_file = forms.FileField(
        label=_("…or upload the CSR file"),
        required=False,
        help_text=_("A .csr, .pem or .req file, PEM or DER."),
        widget=forms.FileInput(attrs={"accept": ".csr,.pem,.req,.der,.txt"}),
    )
    method = forms.ChoiceField(
        label=_("How to prove control of the names"),
        choices=DomainValidation.Method.choices,
        initial=DomainValidation.Method.DNS,
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        *args: Any,
        products: QuerySet[Product],
        organizations: QuerySet[Organization],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products  # type: ignore[attr-defined]
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        # The help texts are linked from the inputs so screen readers read them too.
        for name in ("organization", "csr", "csr_file"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_helptext"
        self.private_key_pasted = False

    def clean_csr_file(self) -> bytes | None:
        upload = self.cleaned_data.get("csr_file")
        if not upload:
            return None
        if upload.size is not None and upload.size > MAX_CSR_UPLOAD_BYTES:
            raise ValidationError(
                _("This file is %(size)s bytes: too large to be a CSR. Choose the .csr file."),
                params={"size": upload.size},
                code="csr_file_too_large",
            )
        return bytes(upload.read())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        data: str | bytes | None = cleaned.get("csr_file") or cleaned.get("csr") or None
        if data is None:
            if "csr_file" not in self.errors:
                self.add_error("csr", _("Paste your CSR or choose the CSR file."))
            return cleaned
        try:
            pki.load_csr(data)
        except pki.PrivateKeySubmitted as error:
            # Caught before anything else, so that the key is refused (and never shown back
            # in the form) even when another field is wrong too.
            self.private_key_pasted = True
            self.add_error("csr", pki_message(error))
        except pki.PkiError:
            pass  # every other refusal is the service's, with the core's message
        cleaned["csr_data"] = data
        return cleaned

    def forget_csr(self) -> None:
        """Never send the pasted text back to the browser (it held a private key)."""
        self.data = self.data.copy()
        self.data["csr"] = ""


class CsrHelperForm(forms.Form):
    """The "No CSR yet?" helper: the names to put in the ready-to-paste openssl command."""

    KEY_CHOICES = [
        ("ec", _("ECDSA P-256 (recommended: small and fast)")),
        ("rsa", _("RSA 2048 bits (for old servers and clients)")),
    ]

    names = forms.CharField(
        label=_("Your names"),
        max_length=2000,
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"}
        ),
        help_text=_("Separate them with spaces or commas, e.g. example.co.jp www.example.co.jp"),
    )
    key = forms.ChoiceField(
        label=_("Key type"), choices=KEY_CHOICES, initial="ec", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "helper")
        super().__init__(*args, **kwargs)
        self.fields["names"].widget.attrs["aria-describedby"] = "id_helper-names_helptext"

    def clean_names(self) -> tuple[str, ...]:
        raw = [part for part in re.split(r"[\s,;、]+", self.cleaned_data["names"]) if part]
        try:
            # Only names that pass the core's rules go into a shell command: an LDH name has
            # nothing a shell would interpret.
            return pki.normalize_dns_names(raw, field="names", max_names=100)
        except pki.PkiError as error:
            raise ValidationError(pki_message(error), code=error.code) from None


class MethodForm(forms.Form):
    """Switch how one name of a pending application is validated."""

    name = forms.CharField(max_length=253)
    method = forms.ChoiceField(choices=DomainValidation.Method.choices)


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this application"),
        error_messages={"required": _("Tick the box to confirm the cancellation.")},
    )


# The RFC 5280 reasons a subscriber may choose (BR 7.2.2 allows these for subscriber
# certificates; privilegeWithdrawn is the CA's to give, not the customer's), each in plain words.
REVOCATION_REASONS: list[tuple[str, Promise, Promise]] = [
    (
        pki.RevocationReason.KEY_COMPROMISE.rfc_name,
        _("The private key was leaked or may have been"),
        _(
            "Someone else may have the key: it was copied, sent, pasted somewhere, or the "
            "server was broken into. Choose this whenever in doubt about the key."
        ),
    ),
    (
        pki.RevocationReason.SUPERSEDED.rfc_name,
        _("Replaced by a new certificate"),
        _("You renewed or re-issued it and the new certificate is installed everywhere."),
    ),
    (
        pki.RevocationReason.CESSATION_OF_OPERATION.rfc_name,
        _("No longer used"),
        _("The website or server was shut down, or you no longer use these names."),
    ),
    (
        pki.RevocationReason.AFFILIATION_CHANGED.rfc_name,
        _("The organisation or its details changed"),
        _(
            "The organisation named in the certificate changed its name or address, or the "
            "domain now belongs to someone else."
        ),
    ),
    (
        pki.RevocationReason.UNSPECIFIED.rfc_name,
        _("No particular reason"),
        _("None of the above applies. No reason is written into the revocation list."),
    ),
]

REVOCATION_LABELS: dict[int, Promise] = {
    int(pki.RevocationReason.parse(code)): label for code, label, _help in REVOCATION_REASONS
}
REVOCATION_LABELS[int(pki.RevocationReason.PRIVILEGE_WITHDRAWN)] = _(
    "Revoked by the certificate authority"
)


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is the certificate being revoked?"),
        choices=[(code, label) for code, label, _help in REVOCATION_REASONS],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason for the revocation.")},
    )
    confirm = forms.BooleanField(
        label=_("I understand that revocation is final: the certificate stops working."),
        error_messages={"required": _("Tick the box to confirm the revocation.")},
    )
