"""Key policy: algorithms and sizes, badkeys' weak-key checks, and optional blocklists."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

import pki
from pki import keys
from tests.pki.helpers import VECTORS

BLOCKLIST = VECTORS / "blocklist"
LISTED = sorted(path.name for path in BLOCKLIST.glob("*.csr.pem"))


def _csr_key(filename: str, folder: Path = VECTORS):  # noqa: ANN202 - a cryptography key
    return pki.load_csr((folder / filename).read_bytes()).public_key()


@pytest.mark.parametrize("filename", LISTED)
def test_keys_on_an_installed_blocklist_are_refused(filename: str) -> None:
    policy = pki.CsrPolicy(key_policy=pki.KeyPolicy(blocklist=pki.Blocklist.open(BLOCKLIST)))
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr((BLOCKLIST / filename).read_bytes(), policy=policy)
    assert refused.value.code == "weak_key_blocklist"
    listed = "debianssl" if "rsa" in filename else "documentation"
    assert listed in refused.value.message_en
    assert listed in refused.value.message_ja


@pytest.mark.parametrize("filename", LISTED)
def test_without_a_blocklist_the_offline_checks_still_run(filename: str) -> None:
    policy = pki.CsrPolicy(key_policy=pki.KeyPolicy(blocklist=None))
    assert pki.validate_csr((BLOCKLIST / filename).read_bytes(), policy=policy).dns_names


def test_missing_or_empty_blocklist_means_no_blocklist(tmp_path: Path) -> None:
    assert pki.Blocklist.open(tmp_path / "absent") is None
    (tmp_path / "blocklist.dat").write_bytes(b"")
    assert pki.Blocklist.open(tmp_path) is None


def test_blocklist_without_metadata_still_blocks(tmp_path: Path) -> None:
    (tmp_path / "blocklist.dat").write_bytes((BLOCKLIST / "blocklist.dat").read_bytes())
    policy = pki.KeyPolicy(blocklist=pki.Blocklist.open(tmp_path))
    with pytest.raises(pki.CsrRejected) as refused:
        pki.check_public_key(_csr_key(LISTED[0], BLOCKLIST), policy=policy)
    assert refused.value.code == "weak_key_blocklist"
    assert "blocklist" in refused.value.message_en


def test_blocklist_fetched_by_badkeys_is_found_in_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "badkeys"
    cache.mkdir()
    for name in ("blocklist.dat", "badkeysdata.json"):
        (cache / name).write_bytes((BLOCKLIST / name).read_bytes())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    keys.installed_blocklist.cache_clear()
    try:
        with pytest.raises(pki.CsrRejected) as refused:
            pki.check_public_key(_csr_key(LISTED[0], BLOCKLIST), policy=pki.KeyPolicy())
        assert refused.value.code == "weak_key_blocklist"
    finally:
        keys.installed_blocklist.cache_clear()


def test_corrupt_blocklist_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="16-byte"):
        pki.Blocklist(b"\x00" * 17)


def test_weak_key_refusal_identifies_the_key_by_fingerprint() -> None:
    key = _csr_key("refused--weak_key_roca--infineon-prime-structure.csr.pem")
    with pytest.raises(pki.CsrRejected) as refused:
        pki.check_public_key(key)
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert refused.value.code == "weak_key_roca"
    assert refused.value.value == hashlib.sha256(spki).hexdigest()
    assert "CVE-2017-15361" in refused.value.message_ja


def test_operator_can_choose_the_weak_key_checks() -> None:
    key = _csr_key("refused--weak_key_fermat--close-primes.csr.pem")
    with pytest.raises(pki.CsrRejected):
        pki.check_public_key(key)
    relaxed = pki.KeyPolicy(weak_key_checks=("roca",), blocklist=None)
    assert pki.check_public_key(key, policy=relaxed).size == 2048
    with pytest.raises(ValueError, match="unknown weak-key checks"):
        pki.KeyPolicy(weak_key_checks=("telepathy",))


def test_rsa_size_limits_are_configurable_and_quoted() -> None:
    key = _csr_key("accepted--rsa-4096-single.csr.der")
    with pytest.raises(pki.CsrRejected) as refused:
        pki.check_public_key(key, policy=pki.KeyPolicy(rsa_max_bits=3072, blocklist=None))
    assert refused.value.code == "key_rsa_size"
    assert "2048" in refused.value.message_en and "3072" in refused.value.message_en


def test_accepted_keys_are_described() -> None:
    info = pki.check_public_key(ec.generate_private_key(ec.SECP384R1()).public_key())
    assert (info.algorithm, info.size, info.curve, str(info)) == (
        "ecdsa",
        384,
        "P-384",
        "ECDSA P-384",
    )


def test_key_agreement_keys_are_refused_by_type() -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.check_public_key(x25519.X25519PrivateKey.generate().public_key())
    assert refused.value.code == "key_type_unsupported"
    assert refused.value.value == "X25519"
    assert "X25519" in refused.value.message_ja
