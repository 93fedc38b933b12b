"""The built-in CA: hierarchy creation and loading, and issuance under every profile.

Every issued certificate is checked three ways: cryptography's own verifier, ``openssl verify``
against the chain the product serves, and DigiCert's pkilint (no finding at ERROR or worse).
"""

from __future__ import annotations

import dataclasses
import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

import pki
from tests.pki.conftest import BASE_URL, CA_CREATED, NOW, file_keys, make_config
from tests.pki.helpers import (
    epoch,
    lint_ca_certificate,
    lint_subscriber,
    openssl,
    subscriber_type,
    vector,
)

ORGANISATION = pki.Organization(
    name="Shop Certdesk K.K.", country="JP", state="Tokyo", locality="Chiyoda-ku"
)
CSR_FOR = {
    ("single", "ecdsa"): "accepted--ecdsa-p256-single.csr.pem",
    ("single", "rsa"): "accepted--rsa-4096-single.csr.der",
    ("multi", "ecdsa"): "accepted--ecdsa-p384-multi-no-cn.csr.pem",
    ("multi", "rsa"): "accepted--rsa-2048-multi.csr.pem",
    ("wildcard", "ecdsa"): "accepted--ecdsa-p256-wildcard.csr.pem",
    ("wildcard", "rsa"): "accepted--rsa-3072-wildcard.csr.pem",
}


def _csr(scope: str, key: str) -> pki.ValidatedCsr:
    return pki.validate_csr(vector(CSR_FOR[(scope, key)]))


def _issue(
    ca: pki.BuiltinCA, profile_key: str, key: str, now: datetime = NOW
) -> pki.IssuedCertificate:
    profile = pki.profile_get(profile_key)
    organization = ORGANISATION if profile.level is pki.ValidationLevel.OV else None
    return ca.issue(
        csr=_csr(profile.scope.value, key), profile=profile, now=now, organization=organization
    )


def _hosts(issued: pki.IssuedCertificate) -> list[str]:
    names = issued.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return [
        name.replace("*", "www", 1) if name.startswith("*.") else name
        for name in names.value.get_values_for_type(x509.DNSName)
    ]


def _assert_verifies_everywhere(
    ca: pki.BuiltinCA, issued: pki.IssuedCertificate, folder: Path, at: datetime
) -> None:
    # 1. cryptography's own path builder and web PKI policy, for every name.
    store = Store([ca.root.certificate])
    for host in _hosts(issued):
        verifier = PolicyBuilder().store(store).time(at).build_server_verifier(x509.DNSName(host))
        chain = verifier.verify(issued.certificate, list(issued.chain))
        assert chain[-1] == ca.root.certificate
    # 2. openssl verify against the chain served at /pki/ca/<issuing>.pem.
    (folder / "root.pem").write_text(ca.root.pem)
    (folder / "served-chain.pem").write_text(ca.chain_pem(ca.issuing.slug))
    (folder / "leaf.pem").write_text(issued.pem)
    result = openssl(
        "verify", "-x509_strict", "-purpose", "sslserver", "-attime", epoch(at),
        "-CAfile", str(folder / "root.pem"), "-untrusted", str(folder / "served-chain.pem"),
        str(folder / "leaf.pem"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": OK")
    # 3. pkilint, as a CA/B Forum TLS subscriber certificate.
    assert lint_subscriber(issued.der) == []


@pytest.mark.parametrize("key", ["ecdsa", "rsa"])
@pytest.mark.parametrize("profile_key", sorted(pki.PROFILES))
def test_every_profile_issues_verifiable_lint_clean_certificates(
    ecdsa_ca: pki.BuiltinCA, profile_key: str, key: str, tmp_path: Path
) -> None:
    issued = _issue(ecdsa_ca, profile_key, key)
    _assert_verifies_everywhere(ecdsa_ca, issued, tmp_path, NOW + timedelta(hours=1))
    level = profile_key.split("-")[0].upper()
    assert subscriber_type(issued.der) == f"{level}_FINAL_CERTIFICATE"
    assert issued.profile == profile_key


@pytest.mark.parametrize("key", ["ecdsa", "rsa"])
@pytest.mark.parametrize("profile_key", sorted(pki.PROFILES))
def test_the_rsa_hierarchy_issues_under_every_profile(
    rsa_ca: pki.BuiltinCA, profile_key: str, key: str, tmp_path: Path
) -> None:
    issued = _issue(rsa_ca, profile_key, key)
    assert issued.certificate.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.11"
    _assert_verifies_everywhere(rsa_ca, issued, tmp_path, NOW + timedelta(hours=1))


@pytest.mark.parametrize("profile_key", sorted(pki.PROFILES))
def test_a_hierarchy_in_the_hsm_issues_under_every_profile(
    hsm_ca: pki.BuiltinCA, profile_key: str, tmp_path: Path
) -> None:
    issued = _issue(hsm_ca, profile_key, "ecdsa")
    _assert_verifies_everywhere(hsm_ca, issued, tmp_path, NOW + timedelta(hours=1))


@pytest.mark.parametrize("ca_fixture", ["ecdsa_ca", "rsa_ca", "hsm_ca"])
def test_ca_certificates_are_lint_clean(ca_fixture: str, request: pytest.FixtureRequest) -> None:
    ca: pki.BuiltinCA = request.getfixturevalue(ca_fixture)
    for authority in ca.authorities:
        assert lint_ca_certificate(authority.der) == [], authority.slug
    ca.issuing.certificate.verify_directly_issued_by(ca.root.certificate)
    ca.root.certificate.verify_directly_issued_by(ca.root.certificate)


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2025, 6, 1, 9, 30, tzinfo=UTC), 397),
        (datetime(2026, 11, 20, 3, 0, tzinfo=UTC), 199),
        (datetime(2027, 6, 1, 0, 0, tzinfo=UTC), 99),
        (datetime(2030, 1, 1, 0, 0, tzinfo=UTC), 46),
    ],
)
def test_validity_follows_the_dated_cap(
    ecdsa_ca: pki.BuiltinCA, now: datetime, days: int, tmp_path: Path
) -> None:
    issued = _issue(ecdsa_ca, "dv-single", "ecdsa", now=now)
    assert issued.not_before == now
    assert issued.not_after - issued.not_before + timedelta(seconds=1) == timedelta(days=days)
    # pkilint knows the schedule too and judges by notBefore.
    _assert_verifies_everywhere(ecdsa_ca, issued, tmp_path, now + timedelta(minutes=5))


def test_subscriber_certificate_carries_the_profile_extensions(ecdsa_ca: pki.BuiltinCA) -> None:
    issued = _issue(ecdsa_ca, "dv-multi", "ecdsa")
    extensions = issued.certificate.extensions
    slug = ecdsa_ca.issuing.slug
    assert extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_encipherment
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    assert (
        extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        == ecdsa_ca.issuing.key_identifier
    )
    with pytest.raises(x509.ExtensionNotFound):  # BR 7.1.2.7.6: not recommended for leaves
        extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    access = {
        item.access_method.dotted_string: item.access_location.value
        for item in extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert access == {
        "1.3.6.1.5.5.7.48.1": f"{BASE_URL}/pki/ocsp",
        "1.3.6.1.5.5.7.48.2": f"{BASE_URL}/pki/ca/{slug}.cer",
    }
    points = extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [point.full_name[0].value for point in points] == [f"{BASE_URL}/pki/crl/{slug}.crl"]
    policies = extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [policy.policy_identifier.dotted_string for policy in policies] == ["2.23.140.1.2.1"]
    names = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == [
        "shop-certdesk.jp",
        "www.shop-certdesk.jp",
        "shop.shop-certdesk.jp",
    ]
    # The CSR had no common name: the subject is empty, so the SAN is critical (RFC 5280).
    assert len(issued.certificate.subject) == 0
    assert names.critical


def test_rsa_subscriber_key_usage_adds_key_encipherment(ecdsa_ca: pki.BuiltinCA) -> None:
    issued = _issue(ecdsa_ca, "dv-multi", "rsa")
    usage = issued.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment


def test_dv_subject_is_the_common_name_only(ecdsa_ca: pki.BuiltinCA) -> None:
    issued = _issue(ecdsa_ca, "dv-single", "ecdsa")
    assert issued.certificate.subject == x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "www.shop-certdesk.jp")]
    )


def test_ov_subject_carries_the_verified_organisation(ecdsa_ca: pki.BuiltinCA) -> None:
    issued = _issue(ecdsa_ca, "ov-single", "ecdsa")
    assert issued.certificate.subject.rfc4514_string() == (
        "CN=www.shop-certdesk.jp,O=Shop Certdesk K.K.,L=Chiyoda-ku,ST=Tokyo,C=JP"
    )
    policies = issued.certificate.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert [item.policy_identifier.dotted_string for item in policies.value] == ["2.23.140.1.2.2"]


def test_serials_are_random_positive_and_unique(ecdsa_ca: pki.BuiltinCA) -> None:
    serials = {_issue(ecdsa_ca, "dv-single", "ecdsa").serial_number for _ in range(20)}
    assert len(serials) == 20
    assert all(0 < serial < 2**127 for serial in serials)
    # 127 random bits: twenty serials all under 2^64 would be a broken randomness source.
    assert max(serial.bit_length() for serial in serials) > 64


def test_randomness_source_is_injected(ecdsa_ca: pki.BuiltinCA) -> None:
    ca = pki.BuiltinCA(
        root=ecdsa_ca.root,
        issuing=ecdsa_ca.issuing,
        config=ecdsa_ca.config,
        random=lambda size: b"\xab" * size,
    )
    issued = _issue(ca, "dv-single", "ecdsa")
    assert issued.serial_number == int.from_bytes(b"\xab" * 16, "big") >> 1


def test_explicit_serial_is_used_and_checked(ecdsa_ca: pki.BuiltinCA) -> None:
    csr = _csr("single", "ecdsa")
    profile = pki.profile_get("dv-single")
    issued = ecdsa_ca.issue(csr=csr, profile=profile, now=NOW, serial=2**158 + 7)
    assert issued.serial_number == 2**158 + 7
    for bad in (0, -1, 2**159):
        with pytest.raises(pki.PolicyViolation) as refused:
            ecdsa_ca.issue(csr=csr, profile=profile, now=NOW, serial=bad)
        assert refused.value.code == "serial_invalid"


def test_issuance_refusals_carry_their_codes(ecdsa_ca: pki.BuiltinCA) -> None:
    single = _csr("single", "ecdsa")
    with pytest.raises(pki.PolicyViolation) as refused:
        ecdsa_ca.issue(csr=single, profile=pki.profile_get("ov-single"), now=NOW)
    assert refused.value.code == "organization_required"
    with pytest.raises(pki.PolicyViolation) as refused:
        ecdsa_ca.issue(csr=single, profile=pki.profile_get("dv-single"), now=NOW, validity_days=201)
    assert refused.value.code == "validity_exceeds_cap"
    with pytest.raises(pki.CsrRejected) as rejected:
        ecdsa_ca.issue(csr=_csr("multi", "rsa"), profile=pki.profile_get("dv-single"), now=NOW)
    assert rejected.value.code == "profile_single_name"
    with pytest.raises(pki.CaError) as failed:
        ecdsa_ca.issue(
            csr=single, profile=pki.profile_get("dv-single"), now=CA_CREATED - timedelta(days=1)
        )
    assert failed.value.code == "ca_not_valid"
    with pytest.raises(pki.PolicyViolation) as refused:
        ecdsa_ca.issue(
            csr=single,
            profile=pki.profile_get("dv-single"),
            now=ecdsa_ca.issuing.not_after - timedelta(days=10),
        )
    assert refused.value.code == "validity_beyond_ca"


def test_chains_are_what_the_product_serves(ecdsa_ca: pki.BuiltinCA) -> None:
    issued = _issue(ecdsa_ca, "dv-single", "ecdsa")
    assert issued.chain == (ecdsa_ca.issuing.certificate,)
    assert issued.fullchain_pem == issued.pem + ecdsa_ca.issuing.pem
    assert ecdsa_ca.chain_pem(ecdsa_ca.issuing.slug) == ecdsa_ca.issuing.pem + ecdsa_ca.root.pem
    assert ecdsa_ca.chain_pem(ecdsa_ca.root.slug) == ecdsa_ca.root.pem
    assert ecdsa_ca.root.slug == "root-ecdsa-2025"
    assert ecdsa_ca.issuing.slug == "issuing-ecdsa-2025"
    with pytest.raises(pki.CaError) as failed:
        ecdsa_ca.authority("nope")
    assert failed.value.code == "ca_unknown"
    assert len(issued.fingerprint_sha256) == 64


def test_hierarchy_uses_the_documented_keys(ecdsa_ca: pki.BuiltinCA, rsa_ca: pki.BuiltinCA) -> None:
    assert ecdsa_ca.root.signer.spec is pki.KeySpec.EC_P384
    assert ecdsa_ca.issuing.signer.spec is pki.KeySpec.EC_P256
    assert rsa_ca.root.signer.spec is pki.KeySpec.RSA_4096
    assert rsa_ca.issuing.signer.spec is pki.KeySpec.RSA_2048
    constraints = ecdsa_ca.issuing.certificate.extensions.get_extension_for_class(
        x509.BasicConstraints
    ).value
    assert constraints.ca and constraints.path_length == 0


# --- the store ---------------------------------------------------------------------------


def test_first_use_creates_the_hierarchy_and_later_use_loads_it(tmp_path: Path) -> None:
    keys = file_keys(tmp_path)
    first = pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=keys, config=make_config(), now=NOW
    )
    again = pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    assert first.created and not again.created
    assert again.root.certificate == first.root.certificate
    assert again.issuing.certificate == first.issuing.certificate
    loaded = pki.BuiltinCA.load(directory=tmp_path, keys=keys, config=make_config())
    issued = _issue(loaded, "dv-single", "ecdsa")
    issued.certificate.verify_directly_issued_by(first.issuing.certificate)


def test_keys_are_encrypted_at_rest_and_private_to_the_owner(tmp_path: Path) -> None:
    pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    key_files = sorted((tmp_path / "keys").glob("*.key.json"))
    assert len(key_files) == 2
    for path in key_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        document = json.loads(path.read_text())
        assert document["cipher"] == "AES-256-GCM" and document["kdf"]["name"] == "scrypt"
        assert b"PRIVATE KEY" not in path.read_bytes()
    store = (tmp_path / "ca.json").read_text()
    assert "PRIVATE KEY" not in store and "BEGIN CERTIFICATE" in store


def test_wrong_secret_cannot_open_the_keys(tmp_path: Path) -> None:
    pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load_or_create(
            directory=tmp_path,
            keys=file_keys(tmp_path, secret="a different secret entirely"),
            config=make_config(),
            now=NOW,
        )
    assert failed.value.code == "ca_key_decrypt_failed"
    assert "復号" in failed.value.message_ja


def test_swapped_key_files_are_detected(tmp_path: Path) -> None:
    ca = pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    root_file = tmp_path / "keys" / f"{ca.root.key_label}.key.json"
    issuing_file = tmp_path / "keys" / f"{ca.issuing.key_label}.key.json"
    root_file.write_bytes(issuing_file.read_bytes())
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load(directory=tmp_path, keys=file_keys(tmp_path), config=make_config())
    # The label is bound into the encryption: a file under another name does not decrypt.
    assert failed.value.code == "ca_key_decrypt_failed"


def test_missing_key_and_damaged_store_are_reported(tmp_path: Path) -> None:
    ca = pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    (tmp_path / "keys" / f"{ca.issuing.key_label}.key.json").unlink()
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load(directory=tmp_path, keys=file_keys(tmp_path), config=make_config())
    assert failed.value.code == "ca_key_missing"
    (tmp_path / "ca.json").write_text("{not json")
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load(directory=tmp_path, keys=file_keys(tmp_path), config=make_config())
    assert failed.value.code == "ca_store_corrupt"
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load(
            directory=tmp_path / "elsewhere", keys=file_keys(tmp_path), config=make_config()
        )
    assert failed.value.code == "ca_store_corrupt"


def test_stored_hierarchy_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    pki.BuiltinCA.load_or_create(
        directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
    )
    with pytest.raises(pki.CaError) as failed:
        pki.BuiltinCA.load(
            directory=tmp_path,
            keys=file_keys(tmp_path),
            config=make_config(pki.CaAlgorithm.RSA),
        )
    assert failed.value.code == "ca_algorithm_mismatch"


def test_concurrent_first_use_creates_one_hierarchy(tmp_path: Path) -> None:
    results: list[pki.BuiltinCA] = []

    def start() -> None:
        results.append(
            pki.BuiltinCA.load_or_create(
                directory=tmp_path, keys=file_keys(tmp_path), config=make_config(), now=NOW
            )
        )

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ca.created for ca in results) == 1
    assert len({ca.root.pem for ca in results}) == 1
    assert len(list((tmp_path / "keys").glob("*.key.json"))) == 2


def test_hsm_keys_never_leave_the_token(
    hsm_ca: pki.BuiltinCA, softhsm: pki.Pkcs11KeyStore, tmp_path: Path
) -> None:
    from pkcs11 import Attribute, ObjectClass

    assert hsm_ca.root.signer.private_key is None
    assert hsm_ca.issuing.signer.private_key is None
    for authority in hsm_ca.authorities:
        key = softhsm._session.get_key(
            label=authority.key_label, object_class=ObjectClass.PRIVATE_KEY
        )
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
    assert not list(Path(tmp_path).glob("**/*.key.json"))


def test_hsm_hierarchy_loads_again_from_the_token(
    hsm_ca: pki.BuiltinCA, softhsm: pki.Pkcs11KeyStore, tmp_path: Path
) -> None:
    directory = tmp_path / "hsm"
    # An RSA hierarchy this time; a 2048-bit root keeps SoftHSM's key generation quick.
    config = dataclasses.replace(make_config(pki.CaAlgorithm.RSA), root_key=pki.KeySpec.RSA_2048)
    created = pki.BuiltinCA.load_or_create(
        directory=directory, keys=softhsm, config=config, now=NOW
    )
    loaded = pki.BuiltinCA.load(directory=directory, keys=softhsm, config=config)
    assert created.created and loaded.root.certificate == created.root.certificate
    issued = _issue(loaded, "dv-multi", "rsa")
    issued.certificate.verify_directly_issued_by(created.issuing.certificate)
    assert lint_ca_certificate(created.root.der) == []


def test_configuration_mistakes_are_caught_early(ecdsa_ca: pki.BuiltinCA) -> None:
    with pytest.raises(ValueError, match="base_url"):
        pki.CaConfig(base_url="pki.shop-certdesk.jp")
    with pytest.raises(ValueError, match="base_url"):
        pki.CaConfig(base_url="http://pki.shop-certdesk.jp/")
    with pytest.raises(ValueError, match="ocsp_validity"):
        pki.CaConfig(base_url=BASE_URL, ocsp_validity=timedelta(days=11))
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pki.FileKeyStore("/nonexistent", secret="short")
    with pytest.raises(ValueError, match="timezone-aware"):
        ecdsa_ca.issue(
            csr=_csr("single", "ecdsa"),
            profile=pki.profile_get("dv-single"),
            now=datetime(2026, 11, 20),  # noqa: DTZ001 - the point of the test
        )


class _FaultySigner:
    """An external signer (like an HSM) whose signatures are wrong."""

    def __init__(self, real: pki.Signer) -> None:
        self._real = real

    @property
    def spec(self) -> pki.KeySpec:
        return self._real.spec

    def public_key(self):  # noqa: ANN201 - the CA key type
        return self._real.public_key()

    @property
    def private_key(self) -> None:
        return None

    def sign(self, data: bytes) -> bytes:
        return self._real.sign(data + b"tampered")


def test_a_signer_that_returns_bad_signatures_is_caught(ecdsa_ca: pki.BuiltinCA) -> None:
    issuing = dataclasses.replace(ecdsa_ca.issuing, signer=_FaultySigner(ecdsa_ca.issuing.signer))
    ca = pki.BuiltinCA(root=ecdsa_ca.root, issuing=issuing, config=ecdsa_ca.config)
    with pytest.raises(pki.CaError) as failed:
        _issue(ca, "dv-single", "ecdsa")
    assert failed.value.code == "ca_hsm_error"
    with pytest.raises(pki.CaError) as failed:
        ca.crl(revoked=[], now=NOW, number=1)
    assert failed.value.code == "ca_hsm_error"
