"""Subscriber key policy: algorithms, sizes, curves and badkeys' weak-key checks.

Accepted: RSA of 2048-4096 bits with a modulus length that is a multiple of 8 and public
exponent 65537; ECDSA on P-256 or P-384. Everything else is refused. RSA moduli go through
badkeys' offline checks (ROCA, Fermat close primes, small factors, shared primes, repeating
patterns, polynomial zero-byte structure); every key is looked up in badkeys' downloadable
blocklists (Debian weak keys and published compromised keys) when the operator has fetched them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from badkeys.rsakeys import fermat, pattern, roca, rsapoly, sharedprimes, smallfactors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pki.errors import CsrRejected

SubscriberPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
"""The public key types a subscriber certificate may carry."""

CURVE_NAMES: Mapping[str, str] = {"secp256r1": "P-256", "secp384r1": "P-384"}

_RsaCheck = Callable[..., Any]

WEAK_KEY_CHECKS: Mapping[str, tuple[str, _RsaCheck]] = {
    "smallfactors": ("weak_key_small_factors", smallfactors),
    "fermat": ("weak_key_fermat", fermat),
    "roca": ("weak_key_roca", roca),
    "sharedprimes": ("weak_key_shared_primes", sharedprimes),
    "pattern": ("weak_key_pattern", pattern),
    "rsapoly": ("weak_key_polynomial", rsapoly),
}
"""badkeys' offline RSA checks run by default, with the refusal code each one leads to."""


@dataclass(frozen=True)
class KeyInfo:
    """What the policy learnt about an accepted key."""

    algorithm: Literal["rsa", "ecdsa"]
    size: int
    curve: str | None
    public_key: SubscriberPublicKey = field(repr=False, compare=False)

    @functools.cached_property
    def spki_sha256(self) -> str:
        """SHA-256 of the DER SubjectPublicKeyInfo, in hex: the key's fingerprint."""
        return _spki_sha256(self.public_key)

    def __str__(self) -> str:
        if self.algorithm == "ecdsa":
            return f"ECDSA {self.curve}"
        return f"RSA {self.size}"


class Blocklist:
    """A badkeys blocklist: sorted 16-byte records of a truncated SHA-256 and a list id.

    The file format is badkeys' ``blocklist.dat`` (with list names from ``badkeysdata.json``);
    badkeys itself exits the process when the files are absent, so the core reads them here.
    """

    _RECORD = 16

    def __init__(self, data: bytes | mmap.mmap, names: Mapping[int, str] | None = None) -> None:
        if len(data) % self._RECORD:
            raise ValueError("blocklist data is not a whole number of 16-byte records")
        self._data = data
        self._names = dict(names or {})

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> Blocklist | None:
        """The blocklist in ``directory`` (badkeys' cache layout), or None when there is none."""
        path = Path(directory)
        try:
            with open(path / "blocklist.dat", "rb") as handle:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (FileNotFoundError, ValueError):
            # ValueError: mmap refuses an empty file, which holds no entries anyway.
            return None
        names: dict[int, str] = {}
        try:
            meta = json.loads((path / "badkeysdata.json").read_text(encoding="utf-8"))
            for entry in meta.get("blocklists", []):
                names[int(entry["id"])] = str(entry["name"])
        except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return cls(data, names)

    def lookup(self, value: bytes) -> str | None:
        """The name of the list holding ``value`` (a modulus or EC point), or None."""
        digest = hashlib.sha256(value).digest()[:15]
        low, high = 0, len(self._data) // self._RECORD - 1
        while low <= high:
            middle = (low + high) // 2
            record = self._data[middle * self._RECORD : (middle + 1) * self._RECORD]
            entry = bytes(record[:15])
            if entry == digest:
                list_id = record[15]
                return self._names.get(list_id, f"blocklist {list_id}")
            if digest > entry:
                low = middle + 1
            else:
                high = middle - 1
        return None


def _badkeys_cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME")
    return Path(cache) / "badkeys" if cache else Path.home() / ".cache" / "badkeys"


@functools.cache
def installed_blocklist() -> Blocklist | None:
    """badkeys' blocklist as fetched by ``badkeys --update-bl``, if the operator has done so."""
    return Blocklist.open(_badkeys_cache_dir())


@dataclass(frozen=True)
class KeyPolicy:
    """Which subscriber keys are accepted."""

    rsa_min_bits: int = 2048
    rsa_max_bits: int = 4096
    rsa_exponent: int = 65537
    curves: frozenset[str] = frozenset(CURVE_NAMES)
    weak_key_checks: tuple[str, ...] = tuple(WEAK_KEY_CHECKS)
    blocklist: Blocklist | None = field(default_factory=installed_blocklist, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.weak_key_checks) - set(WEAK_KEY_CHECKS)
        if unknown:
            raise ValueError(f"unknown weak-key checks: {sorted(unknown)}")


def _key_type_name(key: object) -> str:
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519"
    if isinstance(key, x448.X448PublicKey):
        return "X448"
    return type(key).__name__.removesuffix("PublicKey").lstrip("_") or "unknown"


def _spki_sha256(key: SubscriberPublicKey) -> str:
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def check_public_key(
    key: PublicKeyTypes, *, policy: KeyPolicy | None = None, field: str = "publicKey"
) -> KeyInfo:
    """Check ``key`` against ``policy``; raise ``CsrRejected`` with the rule it breaks."""
    policy = policy if policy is not None else KeyPolicy()
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        if curve not in policy.curves:
            raise CsrRejected("key_curve_unsupported", field=field, value=curve)
        if policy.blocklist is not None:
            listed = policy.blocklist.lookup(_int_bytes(key.public_numbers().x))
            if listed is not None:
                raise CsrRejected(
                    "weak_key_blocklist", field=field, value=_spki_sha256(key), blocklist=listed
                )
        return KeyInfo(
            algorithm="ecdsa",
            size=key.key_size,
            curve=CURVE_NAMES.get(curve, curve),
            public_key=key,
        )
    if isinstance(key, rsa.RSAPublicKey):
        return _check_rsa(key, policy, field)
    raise CsrRejected("key_type_unsupported", field=field, value=_key_type_name(key))


@functools.lru_cache(maxsize=1024)
def _weak_key_check(n: int, e: int, checks: tuple[str, ...]) -> str | None:
    """The first of ``checks`` that finds the modulus weak, or None.

    The checks cost up to a millisecond for a 2048-bit modulus (the shared-primes gcd runs
    against badkeys' product of known shared primes); a renewal with the same key, which is
    common, gets the verdict from this cache.
    """
    for check in checks:
        if WEAK_KEY_CHECKS[check][1](n, e=e) is not False:
            return check
    return None


def _check_rsa(key: rsa.RSAPublicKey, policy: KeyPolicy, field: str) -> KeyInfo:
    numbers = key.public_numbers()
    n, e = numbers.n, numbers.e
    bits = n.bit_length()
    if not policy.rsa_min_bits <= bits <= policy.rsa_max_bits:
        raise CsrRejected(
            "key_rsa_size",
            field=field,
            value=bits,
            minimum=policy.rsa_min_bits,
            maximum=policy.rsa_max_bits,
        )
    if bits % 8:
        raise CsrRejected("key_rsa_modulus", field=field, value=bits)
    if e != policy.rsa_exponent:
        raise CsrRejected("key_rsa_exponent", field=field, value=e)
    failed = _weak_key_check(n, e, policy.weak_key_checks)
    if failed is not None:
        code, _ = WEAK_KEY_CHECKS[failed]
        raise CsrRejected(code, field=field, value=_spki_sha256(key), check=failed)
    if policy.blocklist is not None:
        listed = policy.blocklist.lookup(_int_bytes(n))
        if listed is not None:
            raise CsrRejected(
                "weak_key_blocklist", field=field, value=_spki_sha256(key), blocklist=listed
            )
    return KeyInfo(algorithm="rsa", size=bits, curve=None, public_key=key)
