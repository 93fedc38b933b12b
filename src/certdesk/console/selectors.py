"""Reads for the operator console: counts, account search, audit log, the product catalogue
and the OV review queue; keyset pages only (no OFFSET, no COUNT per page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Generic, TypeVar

from cryptography import x509
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account, User
from certdesk.audit.models import AuditEvent
from certdesk.certificates.models import Application, Product
from certdesk.certificates.services import application_waiting_for
from certdesk.core.errors import InvalidInput
from certdesk.organizations.models import Organization
from certdesk.validation.models import DomainValidation

PAGE_SIZE = 50
T = TypeVar("T")

_ACCOUNT_NUMBER = re.compile(r"^(?:[Aa](\d{6,18})|(\d{1,18}))$")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page: its rows and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: int | None


def _page(queryset: QuerySet[T], *, size: int, key: str = "pk") -> Page[T]:
    rows = list(queryset[: size + 1])
    if len(rows) > size:
        return Page(items=rows[:size], next_cursor=getattr(rows[size - 1], key))
    return Page(items=rows, next_cursor=None)


def account_number_parse(value: str) -> int | None:
    """``A000042``, ``a000042`` or ``42`` -> 42; None when ``value`` is not an account number
    (``a42`` may be a user ID, so the letter needs the six digits shown everywhere)."""
    match = _ACCOUNT_NUMBER.match(value.strip())
    return int(match.group(1) or match.group(2)) if match else None


@dataclass(frozen=True)
class ConsoleCounts:
    accounts: int
    active_accounts: int
    disabled_accounts: int
    pending_closures: int
    users: int
    operators: int


def console_counts() -> ConsoleCounts:
    by_status = dict(
        Account.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    users = User.objects.aggregate(
        customers=Count("pk", filter=Q(is_staff=False)),
        operators=Count("pk", filter=Q(is_staff=True)),
    )
    return ConsoleCounts(
        accounts=sum(by_status.values()),
        active_accounts=by_status.get(Account.Status.ACTIVE, 0),
        disabled_accounts=by_status.get(Account.Status.DISABLED, 0),
        pending_closures=by_status.get(Account.Status.CLOSURE_REQUESTED, 0),
        users=users["customers"],
        operators=users["operators"],
    )


def account_search(
    *, q: str = "", status: str = "", after: int | None = None, size: int = PAGE_SIZE
) -> Page[Account]:
    """Accounts matching ``q`` (account number, organisation name, a user's ID or email, the
    contact email), in id order from ``after``; each carries ``user_count``."""
    qs = Account.objects.all()
    q = q.strip()
    if q:
        text = (
            Q(organization_name__icontains=q)
            | Q(email__icontains=q)
            | Q(
                Exists(
                    User.objects.filter(account=OuterRef("pk")).filter(
                        Q(username__icontains=q) | Q(email__icontains=q)
                    )
                )
            )
        )
        number = account_number_parse(q)
        # An account number is a lookup, not a substring search.
        qs = qs.filter(pk=number) if number is not None else qs.filter(text)
    if status:
        qs = qs.filter(status=status)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    user_count = (
        User.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = qs.annotate(
        user_count=Coalesce(Subquery(user_count, output_field=IntegerField()), 0)
    ).order_by("pk")
    return _page(qs, size=size)


def account_get(*, number: int) -> Account | None:
    return Account.objects.filter(pk=number).first()


def account_users(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account).order_by("pk")


def account_owners(*, account: Account) -> QuerySet[User]:
    return User.objects.filter(account=account, role=User.Role.OWNER, is_active=True).order_by("pk")


@dataclass(frozen=True)
class AuditFilter:
    account: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def querystring(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.account is not None:
            out["account"] = f"A{self.account:06d}"
        if self.action:
            out["action"] = self.action
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_to:
            out["date_to"] = self.date_to.isoformat()
        return out


def audit_filter_parse(
    *, account: str = "", action: str = "", date_from: str = "", date_to: str = ""
) -> AuditFilter:
    """Read the audit browser's filter fields. Raises ``InvalidInput`` naming the bad one."""
    number = None
    if account.strip():
        number = account_number_parse(account)
        if number is None:
            raise InvalidInput(
                _("Enter an account number such as A000042."),
                code="invalid_account_number",
                field="account",
            )
    dates: dict[str, date | None] = {}
    for field, value in (("date_from", date_from), ("date_to", date_to)):
        value = value.strip()
        if not value:
            dates[field] = None
            continue
        try:
            dates[field] = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                _("Enter a date as YYYY-MM-DD."), code="invalid_date", field=field
            ) from None
    if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
        raise InvalidInput(
            _("The start date is after the end date."),
            code="invalid_date_range",
            field="date_to",
        )
    return AuditFilter(
        account=number,
        action=action.strip()[:64],
        date_from=dates["date_from"],
        date_to=dates["date_to"],
    )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(
    *, filters: AuditFilter, before: int | None = None, size: int = PAGE_SIZE
) -> Page[AuditEvent]:
    """Audit events newest first (by id), filtered; dates are whole days in local time."""
    qs = AuditEvent.objects.all()
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    if filters.action:
        if filters.action.endswith("*"):
            qs = qs.filter(action__startswith=filters.action[:-1])
        else:
            qs = qs.filter(action=filters.action)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if before is not None:
        qs = qs.filter(pk__lt=before)
    return _page(qs.order_by("-pk"), size=size)


def audit_events_for_account(*, account: Account, limit: int = 20) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(account=account).order_by("-pk")[:limit])


# ---- certificate lifecycle -----------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleCounts:
    organizations_pending: int
    applications_waiting: int
    products_on_sale: int


def lifecycle_counts() -> LifecycleCounts:
    """What waits for the operator: organisations to verify, OV applications to review."""
    return LifecycleCounts(
        organizations_pending=Organization.objects.filter(
            status=Organization.Status.PENDING
        ).count(),
        applications_waiting=Application.objects.filter(
            status=Application.Status.PENDING, approval=Application.Approval.WAITING
        ).count(),
        products_on_sale=Product.objects.filter(is_active=True).count(),
    )


def product_list() -> list[Product]:
    """The whole catalogue in display order. It holds a handful of rows, edited by hand, so
    it is one page by nature."""
    return list(Product.objects.order_by("sort_order", "id"))


def product_get(*, product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()


def application_review_queue(
    *, after: int | None = None, size: int = PAGE_SIZE
) -> Page[Application]:
    """OV applications waiting for the operator's review, oldest first (keyset on id, the
    ``(status, approval, id)`` index)."""
    qs = Application.objects.filter(
        status=Application.Status.PENDING, approval=Application.Approval.WAITING
    ).select_related("account", "organization", "product")
    if after is not None:
        qs = qs.filter(pk__gt=after)
    return _page(qs.order_by("pk"), size=size)


@dataclass(frozen=True)
class NameState:
    """One name of an application and where its domain validation stands."""

    name: str
    validation: DomainValidation
    valid: bool


@dataclass(frozen=True)
class ApplicationReview:
    application: Application
    csr_subject: str
    names: list[NameState]
    waiting_for: list[str]


def _csr_subject(csr_pem: str) -> str:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except ValueError:
        return ""
    return csr.subject.rfc4514_string()


def application_for_review(*, application_id: int, now: datetime) -> ApplicationReview | None:
    """Any application, with what the operator checks before deciding: the organisation, the
    CSR's subject and every name's validation state."""
    application = (
        Application.objects.select_related(
            "account", "organization", "product", "created_by", "decided_by"
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        return None
    entries = list(application.dcv.select_related("validation").order_by("pk"))
    names = [
        NameState(name=e.name, validation=e.validation, valid=e.validation.is_valid_at(now))
        for e in entries
    ]
    return ApplicationReview(
        application=application,
        csr_subject=_csr_subject(application.csr_pem),
        names=names,
        waiting_for=application_waiting_for(application, now=now) if application.is_pending else [],
    )
