"""The network half of domain control validation: DNS TXT, HTTP file and CAA lookups.

Three checks, each returning a ``LookupResult`` instead of raising for network trouble:

- ``dns_txt_check`` — BR 3.2.2.4.7 "DNS Change": a TXT record at ``_pki-validation.<ADN>``.
- ``http_file_check`` — BR 3.2.2.4.18 "Agreed-Upon Change to Website v2": a file under
  ``/.well-known/pki-validation/`` fetched over plain HTTP, redirects refused.
- ``caa_check`` — RFC 8659: may certdesk's CA issue for the name at all?

No database access here. Settings are read at call time so ``override_settings`` works:
``DCV_DNS_SERVER`` ("host:port", or "" for the system resolver), ``DCV_HOSTS`` (name -> IP,
bypassing DNS for the HTTP check), ``DCV_HTTP_PORT``, ``DCV_TIMEOUT_SECONDS`` and
``CAA_IDENTITIES``. Names are ASCII A-labels, already normalised by the caller.
"""

from __future__ import annotations

import http.client
import ipaddress
from dataclasses import dataclass
from urllib.parse import quote

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

import pki

HTTP_PATH_PREFIX = "/.well-known/pki-validation/"

# At most this much of a validation file is read: the expected content is a short token, and
# an unbounded read would let any web server hold a worker.
HTTP_MAX_BODY = 64 * 1024
FOUND_MAX = 200
# Addresses tried for the HTTP check before giving up; each attempt may take the full timeout.
HTTP_MAX_ADDRESSES = 3
USER_AGENT = "certdesk-dcv/1 (+domain control validation)"

# CAA property tags certdesk understands (RFC 8659 §4, RFC 9495 for the contact and mail
# tags). Any other tag with the critical flag set forbids issuance (RFC 8659 §4.5).
CAA_FLAG_CRITICAL = 128
CAA_KNOWN_TAGS = frozenset(
    {"issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"}
)

MESSAGES: dict[str, Promise] = {
    "ok": _("The record was found and matches."),
    "dcv_dns_no_record": _(
        "No TXT record was found at the record name shown. DNS changes can take a few "
        "minutes to appear."
    ),
    "dcv_dns_mismatch": _(
        "A TXT record was found at the record name shown, but its value is not the one we "
        "gave you. Copy the value again exactly, without quotes or spaces."
    ),
    "dcv_dns_lookup_failed": _(
        "Your domain's DNS servers did not answer. We will try again automatically; if this "
        "continues, ask your DNS provider."
    ),
    "dcv_http_unreachable": _(
        "We could not connect to your web server on port 80. Check that the name points to "
        "your server and that plain HTTP is reachable from the internet."
    ),
    "dcv_http_status": _(
        "Your web server did not return the validation file (it answered with an error "
        "status). Check the file name and folder."
    ),
    "dcv_http_redirect": _(
        "Your web server answered with a redirect. Serve the validation file directly over "
        "plain HTTP, without redirecting to HTTPS or another address."
    ),
    "dcv_http_mismatch": _(
        "The validation file was found, but its content is not the value we gave you. Put "
        "only that value in the file."
    ),
    "caa_forbidden": _(
        "Your domain's CAA records do not allow us to issue certificates. Add a CAA issue "
        "record naming our issuer domain shown on this page, or remove the records that "
        "restrict issuance."
    ),
    "dcv_token_expired": _(
        "This validation value is more than 30 days old and can no longer be used. Choose a "
        "method again to get a new value."
    ),
    "caa_lookup_failed": _(
        "We could not read your domain's CAA records because its DNS servers did not answer. "
        "We will try again automatically."
    ),
}


@dataclass(frozen=True)
class LookupResult:
    """The outcome of one lookup. ``detail`` is short English for logs and support;
    ``MESSAGES[code]`` is what the customer reads."""

    ok: bool
    code: str
    detail: str
    transient: bool
    found: str = ""


def dns_record_name(adn: str) -> str:
    """Where the DNS TXT record for the Authorization Domain Name ``adn`` goes."""
    return f"_pki-validation.{adn}"


def _ok(detail: str, found: str = "") -> LookupResult:
    return LookupResult(ok=True, code="ok", detail=detail, transient=False, found=_clip(found))


def _fail(code: str, detail: str, *, transient: bool, found: str = "") -> LookupResult:
    return LookupResult(ok=False, code=code, detail=detail, transient=transient, found=_clip(found))


def _clip(text: str, limit: int = FOUND_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# DNS ----------------------------------------------------------------------------------------


def _nameserver(server: str) -> dns.nameserver.Do53Nameserver:
    """Parse ``DCV_DNS_SERVER``: "host", "host:port", "[v6]:port" or a bare IPv6 address."""
    host, port = server.strip(), 53
    if host.startswith("["):
        host, _sep, rest = host[1:].partition("]")
        if rest:
            port_text = rest.removeprefix(":")
            if not port_text.isdigit():
                raise ImproperlyConfigured(f"DCV_DNS_SERVER {server!r} is not host:port")
            port = int(port_text)
    elif host.count(":") == 1:
        host, port_text = host.split(":")
        if not port_text.isdigit():
            raise ImproperlyConfigured(f"DCV_DNS_SERVER {server!r} is not host:port")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DCV_DNS_SERVER {server!r} must be an IP address") from exc
    return dns.nameserver.Do53Nameserver(host, port)


def _resolver() -> dns.resolver.Resolver:
    """A fresh resolver per check: settings may change between calls (tests, labs), and
    nothing is cached, so a record the customer just published is seen on the next check.

    Raises ``ImproperlyConfigured`` for a malformed ``DCV_DNS_SERVER`` and
    ``dns.resolver.NoResolverConfiguration`` when the system has no resolver.
    """
    server = settings.DCV_DNS_SERVER
    if server:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_nameserver(server)]
    else:
        resolver = dns.resolver.Resolver()
    # Names are always absolute: a search domain could make "_pki-validation.example.com"
    # resolve inside the validator's own zone.
    resolver.search = []
    resolver.use_search_by_default = False
    resolver.cache = None
    timeout = float(settings.DCV_TIMEOUT_SECONDS)
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


def _absolute(name: str) -> dns.name.Name:
    """Raises ``ValueError`` for a name that is not a valid DNS name (a caller mistake)."""
    try:
        return dns.name.from_text(name, origin=dns.name.root)
    except dns.exception.DNSException as exc:
        raise ValueError(f"not a DNS name: {name!r}") from exc


def _describe(exc: BaseException) -> str:
    """A short English reason for a failed lookup, for logs and support."""
    if isinstance(exc, dns.exception.Timeout):
        return "timed out"
    if isinstance(exc, dns.resolver.NoNameservers):
        # dnspython collects each server's answer; SERVFAIL and REFUSED end up here.
        return "no server answered usefully (SERVFAIL or REFUSED)"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "no DNS resolver configured"
    return exc.__class__.__name__


def dns_txt_check(*, record_name: str, expected: str) -> LookupResult:
    """Does the TXT RRset at ``record_name`` hold ``expected`` (BR 3.2.2.4.7)?

    Multi-string TXT records are joined before comparing; surrounding whitespace is ignored.
    Codes: ``ok``, ``dcv_dns_no_record``, ``dcv_dns_mismatch``, ``dcv_dns_lookup_failed``
    (transient). Raises ``ValueError`` only when ``record_name`` is not a DNS name and
    ``ImproperlyConfigured`` for a malformed ``DCV_DNS_SERVER``.
    """
    qname = _absolute(record_name)
    want = expected.strip()
    try:
        answer = _resolver().resolve(qname, "TXT", search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return _fail("dcv_dns_no_record", f"{record_name} does not exist", transient=False)
    except (dns.exception.DNSException, OSError) as exc:
        return _fail(
            "dcv_dns_lookup_failed", f"TXT {record_name}: {_describe(exc)}", transient=True
        )
    if answer.rrset is None:
        return _fail("dcv_dns_no_record", f"no TXT record at {record_name}", transient=False)
    values = [
        b"".join(rdata.strings).decode("utf-8", errors="replace").strip() for rdata in answer.rrset
    ]
    if want in values:
        return _ok(f"TXT {record_name} holds the expected value", found=want)
    return _fail(
        "dcv_dns_mismatch",
        f"TXT {record_name} holds {len(values)} other value(s)",
        transient=False,
        found=" | ".join(values),
    )


# HTTP ---------------------------------------------------------------------------------------


def _addresses(name: str) -> tuple[list[str], LookupResult | None]:
    """The IP addresses to fetch ``name`` from: ``DCV_HOSTS`` first, else A then AAAA records
    from the same resolver as the DNS checks. A failure comes back as a result."""
    pinned = settings.DCV_HOSTS.get(name.lower().rstrip("."))
    if pinned:
        return [pinned], None
    qname = _absolute(name)
    try:
        resolver = _resolver()
        addresses: list[str] = []
        for rdtype in ("A", "AAAA"):
            answer = resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
            if answer.rrset is not None:
                addresses.extend(rdata.address for rdata in answer.rrset)
            if addresses:
                break
    except dns.resolver.NXDOMAIN:
        return [], _fail("dcv_http_unreachable", f"{name} does not exist in DNS", transient=True)
    except (dns.exception.DNSException, OSError) as exc:
        return [], _fail(
            "dcv_http_unreachable", f"resolving {name}: {_describe(exc)}", transient=True
        )
    if not addresses:
        return [], _fail("dcv_http_unreachable", f"{name} has no A or AAAA record", transient=True)
    return addresses, None


def _first_line(text: str) -> str:
    return text.splitlines()[0].strip() if text else ""


def http_file_check(*, name: str, filename: str, expected: str) -> LookupResult:
    """Does ``http://<name>/.well-known/pki-validation/<filename>`` hold ``expected``
    (BR 3.2.2.4.18)?

    The request goes to ``DCV_HOSTS[name]`` or the name's A/AAAA address, on
    ``DCV_HTTP_PORT``, with ``Host: <name>``. Redirects are not followed. The body, stripped
    of surrounding whitespace, or its first line must equal ``expected``.
    Codes: ``ok``, ``dcv_http_unreachable`` (transient), ``dcv_http_status``,
    ``dcv_http_redirect``, ``dcv_http_mismatch``. Raises ``ValueError`` only when ``name`` is
    not a DNS name and ``ImproperlyConfigured`` for a malformed ``DCV_DNS_SERVER``.
    """
    addresses, failure = _addresses(name)
    if failure is not None:
        return failure
    path = HTTP_PATH_PREFIX + quote(filename, safe="")
    port = int(settings.DCV_HTTP_PORT)
    timeout = float(settings.DCV_TIMEOUT_SECONDS)
    reasons: list[str] = []
    for address in addresses[:HTTP_MAX_ADDRESSES]:
        connection = http.client.HTTPConnection(address, port, timeout=timeout)
        try:
            connection.request(
                "GET",
                path,
                headers={"Host": name, "User-Agent": USER_AGENT, "Accept": "*/*"},
            )
            response = connection.getresponse()
            status = response.status
            location = response.getheader("Location", "")
            body = response.read(HTTP_MAX_BODY)
        except (OSError, http.client.HTTPException) as exc:
            # Covers refused connections, timeouts and malformed responses alike; the next
            # address may still work.
            reasons.append(f"{address}: {exc.__class__.__name__}")
            continue
        finally:
            connection.close()
        return _judge_response(
            name=name, path=path, status=status, location=location, body=body, expected=expected
        )
    return _fail(
        "dcv_http_unreachable",
        f"GET http://{name}{path} on port {port}: " + "; ".join(reasons),
        transient=True,
    )


def _judge_response(
    *, name: str, path: str, status: int, location: str, body: bytes, expected: str
) -> LookupResult:
    url = f"http://{name}{path}"
    if 300 <= status < 400:
        return _fail(
            "dcv_http_redirect",
            f"GET {url} answered {status} (redirects are not followed)",
            transient=False,
            found=location,
        )
    if status != 200:
        return _fail(
            "dcv_http_status", f"GET {url} answered {status}", transient=False, found=str(status)
        )
    # A byte order mark counts as whitespace here: editors on Windows add one unasked.
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    want = expected.strip()
    if text == want or _first_line(text) == want:
        return _ok(f"GET {url} holds the expected value", found=want)
    return _fail(
        "dcv_http_mismatch",
        f"GET {url} holds other content ({len(body)} bytes read)",
        transient=False,
        found=text,
    )


# CAA ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Caa:
    flags: int
    tag: str
    value: str

    def __str__(self) -> str:
        return f'{self.flags} {self.tag} "{self.value}"'


def _issuer(value: str) -> str:
    """The issuer-domain-name of an ``issue``/``issuewild`` value (RFC 8659 §4.2): the part
    before ``;``, whitespace stripped, lower case; "" when the value names no issuer."""
    return value.partition(";")[0].strip().lower().rstrip(".")


def _caa_verdict(domain: str, records: list[_Caa], *, wildcard: bool) -> LookupResult:
    shown = f"{domain}: " + ", ".join(str(record) for record in records)
    critical = [
        record
        for record in records
        if record.flags & CAA_FLAG_CRITICAL and record.tag not in CAA_KNOWN_TAGS
    ]
    if critical:
        return _fail(
            "caa_forbidden",
            f"CAA at {domain} has an unknown critical property {critical[0].tag!r}",
            transient=False,
            found=shown,
        )
    relevant = [record for record in records if record.tag == "issue"]
    if wildcard and any(record.tag == "issuewild" for record in records):
        relevant = [record for record in records if record.tag == "issuewild"]
    if not relevant:
        # A CAA RRset without issue properties does not restrict issuance (RFC 8659 §4.2/4.3).
        return _ok(f"CAA at {domain} does not restrict issuance", found=shown)
    identities = {identity.strip().lower().rstrip(".") for identity in settings.CAA_IDENTITIES}
    issuers = [_issuer(record.value) for record in relevant]
    if any(issuer and issuer in identities for issuer in issuers):
        return _ok(f"CAA at {domain} authorises us", found=shown)
    allowed = ", ".join(sorted({issuer for issuer in issuers if issuer})) or "no CA"
    return _fail(
        "caa_forbidden",
        f"CAA at {domain} allows {allowed} to issue",
        transient=False,
        found=shown,
    )


def caa_check(*, name: str, wildcard: bool) -> LookupResult:
    """May certdesk's CA issue for ``name`` (RFC 8659)?

    Climbs from ``name`` (a leading ``*.`` is dropped and makes the request a wildcard one)
    towards the top-level domain and judges the first non-empty CAA RRset; CNAMEs are
    followed by the resolver. No CAA anywhere permits issuance; a failed lookup does not.
    Codes: ``ok``, ``caa_forbidden`` (``found`` starts with the domain holding the records),
    ``caa_lookup_failed`` (transient). Raises ``ValueError`` only when ``name`` is not a DNS
    name and ``ImproperlyConfigured`` for a malformed ``DCV_DNS_SERVER``.
    """
    if pki.is_wildcard(name):
        name, wildcard = pki.base_domain(name), True
    qname = _absolute(name)
    try:
        resolver = _resolver()
    except dns.exception.DNSException as exc:
        return _fail("caa_lookup_failed", f"CAA {name}: {_describe(exc)}", transient=True)
    while len(qname) > 1:  # the root itself is not consulted
        domain = qname.to_text(omit_final_dot=True)
        try:
            answer = resolver.resolve(qname, "CAA", search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            answer = None  # nothing at this level: keep climbing
        except (dns.exception.DNSException, OSError) as exc:
            return _fail("caa_lookup_failed", f"CAA {domain}: {_describe(exc)}", transient=True)
        if answer is not None and answer.rrset is not None and len(answer.rrset) > 0:
            records = [
                _Caa(
                    flags=rdata.flags,
                    # Tags match case-insensitively (RFC 8659 §4.1).
                    tag=rdata.tag.decode("ascii", errors="replace").lower(),
                    value=rdata.value.decode("utf-8", errors="replace"),
                )
                for rdata in answer.rrset
            ]
            return _caa_verdict(domain, records, wildcard=wildcard)
        qname = qname.parent()
    return _ok(f"no CAA records at or above {name}")
