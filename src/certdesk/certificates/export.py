"""CSV export of a certificate search, for Japanese Excel: UTF-8 with BOM, or Shift_JIS.

Excel opens a CSV as UTF-8 only when it starts with a byte order mark; without one it reads
the system code page, which in Japan is CP932 (Microsoft's Shift_JIS). Both are offered. CP932
cannot hold every character: the few that have a look-alike in CP932 (the wave dash and
friends, which Unicode and Microsoft map differently) are swapped for it, anything else
becomes ``?`` rather than failing the download.

The export walks the search's keyset pages and yields bytes as it goes, so an export of any
size holds one page in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from certdesk.accounts.models import Account
from certdesk.certificates.models import Certificate
from certdesk.certificates.selectors import CertificateQuery, certificate_walk, query_interpret
from certdesk.core.errors import InvalidInput
from pki.revocation import RevocationReason

UTF8 = "utf-8"
CP932 = "cp932"
# What the ``encoding`` parameter accepts, by the names people know them by.
ENCODINGS = {
    "utf-8": UTF8,
    "utf8": UTF8,
    "cp932": CP932,
    "shift_jis": CP932,
    "shift-jis": CP932,
    "sjis": CP932,
    "windows-31j": CP932,
}
CONTENT_TYPES = {UTF8: "text/csv; charset=utf-8", CP932: "text/csv; charset=Windows-31J"}
# Rows written to the buffer between two chunks handed to the server.
ROWS_PER_CHUNK = 200
# Certificates read per query (one keyset page).
EXPORT_BATCH = 500

# Unicode characters that CP932 spells with a different code point (JIS X 0208 vs Microsoft
# mappings): typed on a Mac or copied from the web they would otherwise turn into "?".
_CP932_LOOKALIKES = str.maketrans(
    {
        "\u301c": "\uff5e",  # WAVE DASH -> FULLWIDTH TILDE
        "\u2016": "\u2225",  # DOUBLE VERTICAL LINE -> PARALLEL TO
        "\u2212": "\uff0d",  # MINUS SIGN -> FULLWIDTH HYPHEN-MINUS
        "\u2014": "\u2015",  # EM DASH -> HORIZONTAL BAR
        "\u00a2": "\uffe0",  # CENT SIGN -> FULLWIDTH CENT SIGN
        "\u00a3": "\uffe1",  # POUND SIGN -> FULLWIDTH POUND SIGN
        "\u00ac": "\uffe2",  # NOT SIGN -> FULLWIDTH NOT SIGN
    }
)
# A cell starting with one of these is a formula to Excel: organisation names are typed by
# customers, so such cells are quoted with a leading apostrophe (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADERS = (
    _("ID"),
    _("Serial number"),
    _("Common name"),
    _("Names"),
    _("Product"),
    _("Organisation"),
    _("Status"),
    _("Valid from (JST)"),
    _("Expires (JST)"),
    _("Issued (JST)"),
    _("Revoked (JST)"),
    _("Revocation reason"),
    _("Key"),
    _("SHA-256 fingerprint"),
)


def export_encoding(value: str) -> str:
    """The codec for an ``encoding`` parameter; raises ``InvalidInput`` (``encoding_invalid``)."""
    codec = ENCODINGS.get((value or UTF8).strip().lower())
    if codec is None:
        raise InvalidInput(
            _("Choose the CSV encoding UTF-8 (with BOM) or Shift_JIS (CP932)."),
            code="encoding_invalid",
            field="encoding",
        )
    return codec


def export_filename(now: datetime) -> str:
    return (
        f"certificates-{timezone.localtime(now, timezone.get_default_timezone()):%Y%m%d-%H%M}.csv"
    )


def encode(text: str, codec: str) -> bytes:
    """``text`` in ``codec``; for CP932, look-alikes swapped in and the rest replaced by ``?``."""
    if codec == CP932:
        return text.translate(_CP932_LOOKALIKES).encode(CP932, errors="replace")
    return text.encode(UTF8)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{timezone.localtime(moment, timezone.get_default_timezone()):%Y-%m-%d %H:%M:%S}"


def _reason(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return RevocationReason(code).rfc_name
    except ValueError:
        return str(code)


def certificate_row(certificate: Certificate, *, now: datetime, language: str) -> list[str]:
    organization = certificate.organization
    status = Certificate.Status(certificate.status_at(now))
    return [
        str(certificate.pk),
        certificate.serial_colon_hex,
        certificate.common_name,
        " ".join(certificate.names),
        certificate.product.display_name(language),
        ""
        if organization is None
        else (organization.name_ja if language == "ja" else organization.name_en),
        str(status.label),
        _when(certificate.not_before),
        _when(certificate.not_after),
        _when(certificate.issued_at),
        _when(certificate.revoked_at),
        _reason(certificate.revocation_reason),
        certificate.key_description,
        certificate.fingerprint_sha256,
    ]


def certificate_csv(
    *, account: Account, query: CertificateQuery, now: datetime, codec: str, language: str
) -> Iterator[bytes]:
    """The CSV of every certificate matching ``query``, in chunks of bytes, header first.

    Meant for a ``StreamingHttpResponse``: it runs after the view has returned, so it sets
    its own language, and it raises (``InvalidInput`` like ``certificate_search``) only after
    the headers are sent: check the query with ``query_interpret`` before streaming.
    """
    with translation.override(language):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([str(h) for h in HEADERS])
        prefix = "\ufeff" if codec == UTF8 else ""
        yield encode(prefix + buffer.getvalue(), codec)
        buffer.seek(0)
        buffer.truncate()
        written = 0
        for certificate in certificate_walk(
            account=account, query=query, now=now, batch=EXPORT_BATCH
        ):
            writer.writerow(
                [_cell(v) for v in certificate_row(certificate, now=now, language=language)]
            )
            written += 1
            if written % ROWS_PER_CHUNK == 0:
                yield encode(buffer.getvalue(), codec)
                buffer.seek(0)
                buffer.truncate()
        if buffer.getvalue():
            yield encode(buffer.getvalue(), codec)


def csv_response(
    *, account: Account, query: CertificateQuery, now: datetime, codec: str, language: str
) -> StreamingHttpResponse:
    """The streamed CSV download of ``query``, for the portal and the API alike.

    The search is checked (``query_interpret``) before the response exists, so a bad ``q``
    is a refusal rather than a broken download. Raises ``InvalidInput``.
    """
    query_interpret(query.q, query.match)
    response = StreamingHttpResponse(
        certificate_csv(account=account, query=query, now=now, codec=codec, language=language),
        content_type=CONTENT_TYPES[codec],
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(now)}"'
    return response
