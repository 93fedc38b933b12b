"""DNS name rules: LDH labels, IDN A-labels, wildcards, public suffixes and internal names.

A certifiable name is a fully qualified DNS name in lower case, made of LDH labels of 1-63
octets (at most 253 in all), with internationalised labels as valid A-labels, under a
top-level domain of the public internet, and not a public suffix itself. A wildcard is allowed
only as the entire left-most label and never directly under a public suffix. The Public Suffix
List is the ICANN section of the maintained ``publicsuffixlist`` package, as CA/Browser Forum
BR 3.2.2.6 recommends.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

import idna
from publicsuffixlist import PublicSuffixList

from pki.errors import CsrRejected

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
DEFAULT_MAX_NAMES = 100

RESERVED_SUFFIXES: frozenset[str] = frozenset(
    {
        # Special-use names (RFC 2606, RFC 6761, RFC 6762, RFC 7686, RFC 8375, RFC 9476).
        "localhost",
        "test",
        "example",
        "invalid",
        "local",
        "onion",
        "alt",
        "home.arpa",
        "example.com",
        "example.net",
        "example.org",
        # The reverse-mapping and infrastructure tree: never a host to certify.
        "arpa",
        # Reserved for private use (ICANN, 2024) and names ICANN will never delegate.
        "internal",
        "corp",
        "home",
        "mail",
        # Names commonly used inside networks; not delegated in the root zone.
        "lan",
        "intranet",
        "private",
        "localdomain",
        # The IDN test TLDs (IANA, retired); still listed as "test" in eleven scripts.
        "xn--kgbechtv",
        "xn--hgbk6aj7f53bba",
        "xn--0zwm56d",
        "xn--g6w251d",
        "xn--80akhbyknj4f",
        "xn--11b5bs3a9aj6g",
        "xn--jxalpdlp",
        "xn--9t4b11yi5a",
        "xn--deba0ad",
        "xn--zckzah",
        "xn--hlcj6aya9esc7a",
    }
)
"""Suffixes of internal and reserved names: refused with ``name_internal``."""

_RESERVED_DEPTH = max(suffix.count(".") + 1 for suffix in RESERVED_SUFFIXES)
_LDH = re.compile(r"[a-z0-9-]{1,63}")
# An optional wildcard label, then two or more LDH labels of 1-63 octets that neither start
# nor end with a hyphen, the last not all digits. Names with "--" (A-labels, reserved
# R-LDH labels) and everything else take the rule-by-rule path.
_PLAIN = re.compile(
    r"(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


@functools.cache
def public_suffix_list() -> PublicSuffixList:
    """The ICANN section of the Public Suffix List, loaded once per process."""
    return PublicSuffixList(only_icann=True)


def is_wildcard(name: str) -> bool:
    """Whether ``name`` is a wildcard name (``*.example.com``)."""
    return name.startswith("*.")


def base_domain(name: str) -> str:
    """``name`` without its wildcard label: the domain whose control must be validated."""
    return name[2:] if is_wildcard(name) else name


def registrable_domain(name: str) -> str | None:
    """The registrable domain of a normalised name (``www.example.co.jp`` -> ``example.co.jp``)."""
    result = public_suffix_list().privatesuffix(base_domain(name), accept_unknown=False)
    return None if result is None else str(result)


def name_matches(pattern: str, host: str) -> bool:
    """Whether the certificate name ``pattern`` covers ``host`` (a wildcard covers one label)."""
    pattern, host = pattern.lower(), host.lower()
    if not is_wildcard(pattern):
        return pattern == host
    head, _, rest = host.partition(".")
    return bool(head) and head != "*" and rest == pattern[2:]


def _reject(code: str, field: str, value: str, **details: object) -> CsrRejected:
    return CsrRejected(code, field=field, value=value, **details)


def _check_a_label(label: str, name: str, field: str) -> None:
    # The punycode must decode to a valid IDNA 2008 U-label and re-encode to the same octets.
    try:
        ulabel = idna.decode(label)
        roundtrip = idna.encode(ulabel).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _reject("name_idn_invalid", field, name, label=label) from None
    if roundtrip != label or ulabel.isascii():
        raise _reject("name_idn_invalid", field, name, label=label)


def normalize_dns_name(name: str, *, field: str = "subjectAltName") -> str:
    """Return ``name`` lower-cased after checking every rule; raise ``CsrRejected`` otherwise."""
    if not isinstance(name, str):
        raise TypeError("name must be a str")
    lower = name.lower()
    if name.isascii() and len(lower) <= MAX_NAME_LENGTH and "--" not in lower:
        # Most names are plain LDH names: one expression proves the syntax rules at once.
        if _PLAIN.fullmatch(lower):
            labels = lower.split(".")
            wildcard = labels[0] == "*"
            return _check_placement(
                name, lower, labels[1:] if wildcard else labels, wildcard, field
            )
    return _check_syntax(name, field)


def _check_syntax(name: str, field: str) -> str:
    """The rules one by one, so that the refusal names the first one broken."""
    if name == "":
        raise _reject("name_empty", field, name)
    if not name.isascii():
        try:
            suggestion = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise _reject("name_invalid_character", field, name) from None
        raise _reject("name_idn_unicode", field, name, suggestion=suggestion)
    lower = name.lower()
    if ":" in lower or lower.rpartition(".")[2].isdigit():
        # Only something that looks like an address pays for the (slow) failed parse.
        try:
            ipaddress.ip_address(lower)
        except ValueError:
            pass
        else:
            raise _reject("name_ip_address", field, name)
    if len(lower) > 1 and lower.endswith("."):
        raise _reject("name_trailing_dot", field, name)
    if len(lower) > MAX_NAME_LENGTH:
        raise _reject("name_too_long", field, name, length=len(lower))
    labels = lower.split(".")
    if "" in labels:
        raise _reject("name_empty_label", field, name)
    for index, label in enumerate(labels):
        if "*" in label and (index != 0 or label != "*"):
            raise _reject("name_wildcard_position", field, name)
    wildcard = labels[0] == "*"
    rest = labels[1:] if wildcard else labels
    if not rest:
        raise _reject("name_single_label", field, name)
    for label in rest:
        if len(label) > MAX_LABEL_LENGTH:
            raise _reject("name_label_too_long", field, name, label=label)
        if "_" in label:
            raise _reject("name_underscore", field, name)
        if not _LDH.fullmatch(label):
            raise _reject("name_invalid_character", field, name)
        if label[0] == "-" or label[-1] == "-":
            raise _reject("name_label_hyphen", field, name, label=label)
        if label[2:4] == "--":
            if not label.startswith("xn--"):
                raise _reject("name_label_reserved", field, name, label=label)
            _check_a_label(label, name, field)
    return _check_placement(name, lower, rest, wildcard, field)


def _check_placement(name: str, lower: str, rest: list[str], wildcard: bool, field: str) -> str:
    """Where the name sits: not internal, under a real TLD, not (directly under) a suffix."""
    for depth in range(1, min(len(rest), _RESERVED_DEPTH) + 1):
        suffix = ".".join(rest[-depth:])
        if suffix in RESERVED_SUFFIXES:
            raise _reject("name_internal", field, name, suffix=suffix)
    base = ".".join(rest) if wildcard else lower
    public_suffix = public_suffix_list().publicsuffix(base, accept_unknown=False)
    if len(rest) == 1 and not wildcard and public_suffix != base:
        raise _reject("name_single_label", field, name)
    if public_suffix is None:
        raise _reject("name_tld_unknown", field, name)
    if base == public_suffix:
        if wildcard:
            raise _reject("name_wildcard_public_suffix", field, name, suffix=public_suffix)
        raise _reject("name_public_suffix", field, name)
    return lower


def normalize_dns_names(
    names: Iterable[str], *, field: str = "subjectAltName", max_names: int = DEFAULT_MAX_NAMES
) -> tuple[str, ...]:
    """Normalise each name, collapse duplicates (first occurrence kept) and enforce the limit."""
    result: dict[str, None] = {}
    for name in names:
        result.setdefault(normalize_dns_name(name, field=field), None)
    if len(result) > max_names:
        raise _reject("name_too_many", field, str(len(result)), limit=max_names)
    return tuple(result)
