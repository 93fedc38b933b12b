"""Reads of the certificate history: search with keyset pages, and what expires soon.

Every read is scoped to one account and walks an index: host coverage and serial lookups are
equality lookups on ``CertificateName(account, name)`` and ``Certificate(account, serial)``;
a page is an index range on ``(account, <sort key>, id)`` that starts after the previous
page's last row (keyset pagination), so page 1,000 costs what page 1 costs, and no page
counts the whole result.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import idna
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

import pki
from certdesk.accounts.models import Account
from certdesk.certificates.models import Certificate, CertificateName, serial_hex
from certdesk.certificates.trigram import matching_certificate_ids
from certdesk.core.errors import InvalidInput
from certdesk.validation.models import DomainValidation
from pki.names import public_suffix_list

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Below this many of an account's names containing a text, their certificates are fetched
# by id; above it the text is common enough that walking the account's certificates in page
# order fills a page sooner (at worst about 51 * names / 1000 certificates).
TEXT_CANDIDATE_CAP = 1000
# Serials are random 64-159 bit numbers; a shorter run of hex digits is more likely part
# of a name ("2024", "cafe") than a serial someone copied.
MIN_SERIAL_DIGITS = 8


class Sort(StrEnum):
    """Orders the history can be read in; each is backed by an ``(account, key, id)`` index."""

    ISSUED_DESC = "-issued"
    ISSUED = "issued"
    EXPIRY = "expiry"
    EXPIRY_DESC = "-expiry"


# sort -> (model field, descending)
_SORT_KEYS: dict[Sort, tuple[str, bool]] = {
    Sort.ISSUED_DESC: ("issued_at", True),
    Sort.ISSUED: ("issued_at", False),
    Sort.EXPIRY: ("not_after", False),
    Sort.EXPIRY_DESC: ("not_after", True),
}


class Match(StrEnum):
    """How the search box ``q`` is read; ``auto`` guesses from its shape."""

    AUTO = "auto"
    HOST = "host"
    SERIAL = "serial"
    TEXT = "text"


class Status(StrEnum):
    """A certificate's status at a moment (``Certificate.status_at``); never stored."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class CertificateQuery:
    """A history search. Empty fields do not filter. ``expires_after`` is inclusive and
    ``expires_before`` exclusive, so adjacent ranges never overlap."""

    q: str = ""
    match: Match = Match.AUTO
    status: Status | None = None
    expires_before: datetime | None = None
    expires_after: datetime | None = None
    organization_id: int | None = None
    product_code: str = ""
    sort: Sort = Sort.ISSUED_DESC


@dataclass(frozen=True)
class Interpretation:
    """What ``q`` was taken to mean: ``kind`` is ``host``, ``serial``, ``text`` or ``""``
    (no search text); ``value`` is the normalised host or text; ``serials`` the candidate
    serials (lower-case hex without leading zeros)."""

    kind: str
    value: str = ""
    serials: tuple[str, ...] = field(default_factory=tuple)


# --- reading the search box ---------------------------------------------------------------

_HEX = re.compile(r"[0-9a-f]+")
_COLON_HEX = re.compile(r"[0-9a-f]{1,2}(?::[0-9a-f]{1,2})+")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _strip_zeros(digits: str) -> str:
    return digits.lstrip("0") or "0"


def _serials(text: str) -> tuple[str, ...] | None:
    """The serials ``text`` may spell, or None when it is no serial at all.

    Hex with colons (as browsers show it) or ``0x``; plain digits are read both as decimal
    and as hex, because both spellings circulate (OpenSSL prints hex, some tools decimal).
    """
    compact = text.lower().replace(" ", "")
    if _COLON_HEX.fullmatch(compact):
        return (_strip_zeros("".join(part.rjust(2, "0") for part in compact.split(":"))),)
    if compact.startswith("0x") and _HEX.fullmatch(compact[2:]):
        return (_strip_zeros(compact[2:]),)
    if not _HEX.fullmatch(compact):
        return None
    found = [_strip_zeros(compact)]
    if compact.isdigit():
        found.insert(0, serial_hex(int(compact)))
    return tuple(dict.fromkeys(found))


def _host(text: str) -> str | None:
    """``text`` as a lower-case A-label host name (``*.`` allowed), or None if it is none.

    Accepts what people paste: a URL, a trailing dot, upper case, Unicode (IDN) labels.
    """
    value = text.strip()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    value = value.rstrip(".").lower()
    if not value or " " in value:
        return None
    if not value.isascii():
        try:
            value = idna.encode(value, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    labels = value.split(".")
    if len(labels) < 2 or len(value) > 253:
        return None
    head = labels[1:] if labels[0] == "*" else labels
    if not all(_LABEL.fullmatch(label) for label in head):
        return None
    return value


def _looks_like_host(host: str) -> bool:
    """A name under a known top-level domain that is not itself a public suffix: ``shop.example``
    or ``co.jp`` are more likely fragments of names than hosts someone wants covered."""
    bare = host[2:] if host.startswith("*.") else host
    psl = public_suffix_list()
    return psl.publicsuffix(bare, accept_unknown=False) is not None and not psl.is_public(bare)


def _text(text: str) -> str:
    value = text.strip().lower()
    if value and not value.isascii():
        # Names are stored as A-labels: a Unicode label is found by its A-label.
        try:
            value = idna.encode(value, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            pass
    return value


def query_interpret(q: str, match: Match = Match.AUTO) -> Interpretation:
    """Read the search box. Raises ``InvalidInput`` (``q_not_serial``, ``q_not_host``) when
    ``match`` forces a reading ``q`` cannot have, and (``q_invalid``) for a NUL character."""
    text = q.strip()
    if not text:
        return Interpretation(kind="")
    if "\x00" in text:
        raise InvalidInput(
            _("The search text contains a character that cannot be searched for."),
            code="q_invalid",
            field="q",
        )
    if match == Match.SERIAL:
        serials = _serials(text)
        if serials is None:
            raise InvalidInput(
                _("Enter a serial number in hex (with or without colons) or in decimal."),
                code="q_not_serial",
                field="q",
            )
        return Interpretation(kind=Match.SERIAL.value, value=text, serials=serials)
    if match == Match.HOST:
        host = _host(text)
        if host is None:
            raise InvalidInput(
                _("Enter a host name such as www.example.co.jp."), code="q_not_host", field="q"
            )
        return Interpretation(kind=Match.HOST.value, value=host)
    if match == Match.TEXT:
        return Interpretation(kind=Match.TEXT.value, value=_text(text))
    serials = _serials(text)
    if serials is not None and (
        ":" in text
        or text.lower().startswith("0x")
        or (len(text) >= MIN_SERIAL_DIGITS and any(c.isdigit() for c in text))
    ):
        return Interpretation(kind=Match.SERIAL.value, value=text, serials=serials)
    host = _host(text)
    if host is not None and _looks_like_host(host):
        return Interpretation(kind=Match.HOST.value, value=host)
    return Interpretation(kind=Match.TEXT.value, value=_text(text))


def covering_names(host: str) -> list[str]:
    """The certificate names that cover ``host``: itself and the wildcard one level up.

    ``*.example.co.jp`` covers ``shop.example.co.jp`` but neither ``a.b.example.co.jp`` nor
    ``example.co.jp`` (RFC 6125 6.4.3: a wildcard matches exactly one left-most label).
    """
    names = [host]
    if not host.startswith("*."):
        _, _, parent = host.partition(".")
        if "." in parent:
            names.append(f"*.{parent}")
    return names


# --- cursors -------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor_encode(sort: Sort, key: datetime, pk: int) -> str:
    micros = (key - _EPOCH) // timedelta(microseconds=1)
    raw = json.dumps([sort.value, micros, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _cursor_decode(cursor: str, sort: Sort) -> tuple[datetime, int]:
    """Raises ``InvalidInput`` (``cursor_invalid``) for a cursor this search did not make."""
    invalid = InvalidInput(
        _("The page cursor is not valid for this search. Start again from the first page."),
        code="cursor_invalid",
        field="cursor",
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or value[0] != sort.value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
        or not 0 < value[2] < 2**63
    ):
        raise invalid
    try:
        key = _EPOCH + timedelta(microseconds=value[1])
    except OverflowError:
        raise invalid from None
    return key, value[2]


# --- the search ----------------------------------------------------------------------------


def certificate_queryset(
    *, account: Account, query: CertificateQuery, now: datetime
) -> QuerySet[Certificate]:
    """The account's certificates matching ``query`` (unordered, filters only).

    Raises ``InvalidInput`` when ``q`` cannot be read the way ``query.match`` demands.
    """
    qs = Certificate.objects.filter(account=account)
    reading = query_interpret(query.q, query.match)
    if reading.kind == Match.SERIAL:
        qs = qs.filter(serial__in=reading.serials)
    elif reading.kind == Match.HOST:
        qs = qs.filter(
            id__in=CertificateName.objects.filter(
                account=account, name__in=covering_names(reading.value)
            ).values("certificate_id")
        )
    elif reading.kind == Match.TEXT:
        qs = _containing(qs, account=account, text=reading.value)
    if query.status == Status.REVOKED:
        qs = qs.filter(revoked_at__isnull=False)
    elif query.status == Status.EXPIRED:
        qs = qs.filter(revoked_at__isnull=True, not_after__lt=now)
    elif query.status == Status.VALID:
        qs = qs.filter(revoked_at__isnull=True, not_after__gte=now)
    if query.expires_after is not None:
        qs = qs.filter(not_after__gte=query.expires_after)
    if query.expires_before is not None:
        qs = qs.filter(not_after__lt=query.expires_before)
    if query.organization_id is not None:
        qs = qs.filter(organization_id=query.organization_id)
    if query.product_code:
        qs = qs.filter(product__code=query.product_code)
    return qs


def _containing(qs: QuerySet[Certificate], *, account: Account, text: str) -> QuerySet[Certificate]:
    """Certificates with a name containing ``text``, by the cheaper of two plans.

    When fewer than ``TEXT_CANDIDATE_CAP`` of the account's names contain ``text`` (found
    through the trigram index), those certificates are fetched by id. When more do, the
    account's certificates are walked in page order, each checked for a matching name: a
    common text fills a page after a short walk. The check is a scalar subquery on purpose:
    an EXISTS would let PostgreSQL turn the walk back into "collect every match, then sort".
    """
    ids = matching_certificate_ids(account=account, text=text, cap=TEXT_CANDIDATE_CAP, using=qs.db)
    if ids is not None:
        return qs.filter(id__in=ids)
    first_match = CertificateName.objects.filter(
        certificate_id=OuterRef("pk"), name__contains=text
    ).values("id")[:1]
    return qs.alias(first_matching_name=Subquery(first_match)).filter(
        first_matching_name__isnull=False
    )


def _page_queryset(
    qs: QuerySet[Certificate], *, sort: Sort, cursor: str | None
) -> QuerySet[Certificate]:
    key_field, descending = _SORT_KEYS[sort]
    if cursor:
        key, pk = _cursor_decode(cursor, sort)
        # The first condition alone is an index range; the second trims the rows of the
        # previous page that share its last key (ties are broken by id).
        if descending:
            qs = qs.filter(**{f"{key_field}__lte": key}).filter(
                Q(**{f"{key_field}__lt": key}) | Q(id__lt=pk)
            )
        else:
            qs = qs.filter(**{f"{key_field}__gte": key}).filter(
                Q(**{f"{key_field}__gt": key}) | Q(id__gt=pk)
            )
    order = [f"-{key_field}", "-id"] if descending else [key_field, "id"]
    # A list never shows the PEM bodies: leaving them out halves what each row carries.
    return qs.select_related("product", "organization").defer("pem", "chain_pem").order_by(*order)


def certificate_search(
    *,
    account: Account,
    query: CertificateQuery,
    now: datetime,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Certificate], str | None]:
    """One page of the account's certificate history (expired and revoked included) and the
    cursor of the next page (None on the last page). One query, whatever ``limit`` is.

    Raises ``InvalidInput`` (``cursor_invalid``, ``q_not_serial``, ``q_not_host``,
    ``limit_invalid``).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            format_lazy(_("The page size must be between 1 and {max}."), max=MAX_PAGE_SIZE),
            code="limit_invalid",
            field="limit",
        )
    return _search_page(account=account, query=query, now=now, cursor=cursor, limit=limit)


def _search_page(
    *, account: Account, query: CertificateQuery, now: datetime, cursor: str | None, limit: int
) -> tuple[list[Certificate], str | None]:
    return _page(
        certificate_queryset(account=account, query=query, now=now),
        sort=query.sort,
        cursor=cursor,
        limit=limit,
    )


def _page(
    base: QuerySet[Certificate], *, sort: Sort, cursor: str | None, limit: int
) -> tuple[list[Certificate], str | None]:
    qs = _page_queryset(base, sort=sort, cursor=cursor)
    # One row more than asked tells whether another page follows, without counting.
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _cursor_encode(sort, getattr(last, _SORT_KEYS[sort][0]), last.pk)


def certificate_walk(
    *, account: Account, query: CertificateQuery, now: datetime, batch: int = 500
) -> Iterator[Certificate]:
    """Every certificate matching ``query`` in its order, fetched ``batch`` at a time (keyset
    pages) so that an export of any size holds one batch in memory. Raises like
    ``certificate_search``."""
    # The filtered queryset (which may look names up in the trigram index) is built once;
    # each batch only moves the keyset cursor.
    base = certificate_queryset(account=account, query=query, now=now)
    cursor: str | None = None
    while True:
        rows, cursor = _page(base, sort=query.sort, cursor=cursor, limit=batch)
        yield from rows
        if cursor is None:
            return


# --- the dashboard -------------------------------------------------------------------------

EXPIRY_WINDOWS = (30, 60, 90)
VALIDATION_WINDOW_DAYS = 30


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the site's time zone (Japan)."""
    start: datetime = timezone.make_aware(
        datetime.combine(day, time.min), timezone.get_default_timezone()
    )
    return start


@dataclass(frozen=True)
class ExpiryWindow:
    """Valid certificates whose expiry falls on a day in ``first_day``..``last_day`` (site
    time zone); ``soonest`` are the first few by expiry."""

    days: int
    first_day: date | None
    last_day: date
    count: int
    soonest: list[Certificate]


def certificate_expiry_windows(
    *,
    account: Account,
    now: datetime,
    windows: tuple[int, ...] = EXPIRY_WINDOWS,
    preview: int = 5,
) -> list[ExpiryWindow]:
    """What expires in the next 30 / 60 / 90 days (by default), as disjoint windows of whole
    days in the site's time zone: up to day 30, days 31-60, days 61-90. Revoked and expired
    certificates are left out. One query for the counts and one per window for the preview.
    """
    today = timezone.localdate(now, timezone.get_default_timezone())
    bounds: list[tuple[int, date | None, date, datetime, datetime]] = []
    start, first_day = now, None
    for days in windows:
        last_day = today + timedelta(days=days)
        end = day_start(last_day + timedelta(days=1))
        bounds.append((days, first_day, last_day, start, end))
        start, first_day = end, last_day + timedelta(days=1)
    live = Certificate.objects.filter(account=account, revoked_at__isnull=True)
    counts = live.filter(not_after__gte=now, not_after__lt=bounds[-1][4]).aggregate(
        **{
            f"w{days}": Count("id", filter=Q(not_after__gte=lo, not_after__lt=hi))
            for days, _f, _l, lo, hi in bounds
        }
    )
    result = []
    for days, first, last, lo, hi in bounds:
        soonest = list(
            live.filter(not_after__gte=lo, not_after__lt=hi)
            .select_related("product", "organization")
            .defer("pem", "chain_pem")
            .order_by("not_after", "id")[:preview]
        )
        result.append(
            ExpiryWindow(
                days=days, first_day=first, last_day=last, count=counts[f"w{days}"], soonest=soonest
            )
        )
    return result


@dataclass(frozen=True)
class ValidationsDue:
    count: int
    soonest: list[DomainValidation]
    window_days: int


def validation_expiry_list(
    *, account: Account, now: datetime, within_days: int = VALIDATION_WINDOW_DAYS, limit: int = 10
) -> ValidationsDue:
    """Domain validations whose reuse period ends within ``within_days``: after that day the
    name must be validated again before the next issuance. Only each name's latest valid
    validation counts (a newer one has already renewed the proof). Two queries."""
    reuse = timedelta(days=pki.dcv_reuse_days(now))
    newer = DomainValidation.objects.filter(
        account=account,
        name=OuterRef("name"),
        status=DomainValidation.Status.VALID,
        validated_at__gt=OuterRef("validated_at"),
    )
    qs = DomainValidation.objects.filter(
        account=account,
        status=DomainValidation.Status.VALID,
        validated_at__gte=now - reuse,
        validated_at__lt=now + timedelta(days=within_days) - reuse,
    ).exclude(Exists(newer))
    soonest = list(qs.order_by("validated_at", "id")[:limit])
    count = len(soonest) if len(soonest) < limit else qs.count()
    return ValidationsDue(count=count, soonest=soonest, window_days=within_days)
