"""Domain control validation: find a reusable proof, hand out tokens, check them.

Network lookups (``certdesk.validation.lookups``) run outside any transaction; only the
result is written, under a row lock, so a slow DNS server never holds a database lock.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.accounts.models import Account
from certdesk.audit.services import audit_record
from certdesk.core.errors import InvalidInput
from certdesk.validation import lookups
from certdesk.validation.models import DomainValidation

# Background re-checks: soon at first (people fix DNS and wait), then less and less often.
RETRY_SCHEDULE = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
)


def _suffixes(adn: str) -> list[str]:
    labels = adn.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def validation_reusable(*, account: Account, name: str, now: datetime) -> DomainValidation | None:
    """A validation of ``account`` that proves ``name`` at ``now`` (BR 4.2.1 reuse), newest
    first; a wildcard name needs DNS (the HTTP method never proves a wildcard)."""
    adn = pki.base_domain(name)
    wildcard = pki.is_wildcard(name)
    candidates = DomainValidation.objects.filter(
        account=account, name__in=_suffixes(adn), status=DomainValidation.Status.VALID
    ).order_by("-validated_at")
    for validation in candidates:
        if wildcard and validation.method != DomainValidation.Method.DNS:
            continue
        if validation.is_valid_at(now) and validation.covers(adn):
            return validation
    return None


def validation_pending(
    *, account: Account, name: str, method: str, now: datetime
) -> DomainValidation:
    """The pending validation for ``name`` by ``method``: an unexpired one already handed out
    (so applying twice does not change the record the customer is asked to publish), or a new
    one with a fresh random token. Raises ``InvalidInput`` (``dcv_method_wildcard``)."""
    if method not in DomainValidation.Method.values:
        raise InvalidInput(
            _("Choose DNS or HTTP as the validation method."),
            code="dcv_method_invalid",
            field="method",
        )
    if pki.is_wildcard(name) and method == DomainValidation.Method.HTTP:
        raise InvalidInput(
            _("A wildcard name can only be validated with a DNS TXT record."),
            code="dcv_method_wildcard",
            field="method",
        )
    adn = pki.base_domain(name)
    existing = (
        DomainValidation.objects.filter(
            account=account, name=adn, method=method, status=DomainValidation.Status.PENDING
        )
        .order_by("-id")
        .first()
    )
    if existing is not None and existing.token_expires_at() > now:
        return existing
    return DomainValidation.objects.create(
        account=account,
        name=adn,
        method=method,
        # BR 1.6.1 "Random Value": at least 112 bits of entropy; 256 here.
        token=secrets.token_hex(32),
        created_at=now,
        next_check_at=now + RETRY_SCHEDULE[0],
    )


def _lookup(validation: DomainValidation) -> lookups.LookupResult:
    if validation.method == DomainValidation.Method.DNS:
        return lookups.dns_txt_check(record_name=validation.record_name, expected=validation.token)
    return lookups.http_file_check(
        name=validation.name, filename=validation.http_filename, expected=validation.token
    )


def validation_check(*, validation_id: int, now: datetime) -> DomainValidation:
    """Look for the validation's record now and save what was found.

    A pending validation whose token is past its 30 days becomes ``expired`` without a lookup;
    a validation that is no longer pending is returned unchanged.
    """
    validation = DomainValidation.objects.get(pk=validation_id)
    if validation.status != DomainValidation.Status.PENDING:
        return validation
    expired = validation.token_expires_at() <= now
    result = None if expired else _lookup(validation)
    with transaction.atomic():
        validation = DomainValidation.objects.select_for_update().get(pk=validation_id)
        if validation.status != DomainValidation.Status.PENDING:
            return validation  # another check got there first
        validation.last_checked_at = now
        validation.attempts += 1
        if result is None:
            validation.status = DomainValidation.Status.EXPIRED
            validation.next_check_at = None
            validation.last_code = "dcv_token_expired"
            validation.last_detail = "the random value is older than 30 days"
        elif result.ok:
            validation.status = DomainValidation.Status.VALID
            validation.validated_at = now
            validation.next_check_at = None
            validation.last_code = "ok"
            validation.last_detail = ""
            validation.last_found = result.found
        else:
            step = RETRY_SCHEDULE[min(validation.attempts, len(RETRY_SCHEDULE) - 1)]
            validation.next_check_at = now + step
            validation.last_code = result.code[:40]
            validation.last_detail = result.detail[:300]
            validation.last_found = result.found
        validation.save()
        if validation.status != DomainValidation.Status.PENDING:
            audit_record(
                action=f"dcv.{validation.status}",
                account=validation.account,
                target=validation,
                data={"name": validation.name, "method": validation.method},
                now=now,
            )
    return validation
