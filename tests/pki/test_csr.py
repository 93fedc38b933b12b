"""The CSR policy, driven by the vector files: every refusal is asserted by its code."""

from __future__ import annotations

import pytest
from cryptography import x509

import pki
from tests.pki.helpers import expected_code, vector, vector_names

ACCEPTED = vector_names("accepted--")
REFUSED = vector_names("refused--")


def test_the_vector_set_covers_acceptance_and_many_refusals() -> None:
    assert len(ACCEPTED) >= 10
    assert len({expected_code(name) for name in REFUSED}) >= 40


@pytest.mark.parametrize("filename", ACCEPTED)
def test_acceptable_csrs_are_accepted(filename: str) -> None:
    csr = pki.validate_csr(vector(filename))
    assert csr.dns_names
    assert all(name == name.lower() for name in csr.dns_names)
    assert csr.key.algorithm in {"rsa", "ecdsa"}


@pytest.mark.parametrize("filename", REFUSED)
def test_unacceptable_input_is_refused_with_its_code(filename: str) -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector(filename))
    assert refused.value.code == expected_code(filename)
    assert refused.value.field
    assert refused.value.message_en and refused.value.message_ja
    assert refused.value.message_en != refused.value.message_ja


def _is_text(filename: str) -> bool:
    try:
        vector(filename).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("filename", [name for name in REFUSED + ACCEPTED if _is_text(name)])
def test_text_and_bytes_are_judged_alike(filename: str) -> None:
    data = vector(filename)
    text = data.decode("utf-8")
    outcomes = []
    for form in (data, text, bytearray(data), memoryview(data)):
        try:
            outcomes.append(pki.validate_csr(form).dns_names)
        except pki.CsrRejected as refused:
            outcomes.append(refused.code)
    assert len(set(outcomes)) == 1


def test_summary_of_an_accepted_csr() -> None:
    csr = pki.validate_csr(vector("accepted--ecdsa-p384-multi-no-cn.csr.pem"))
    assert csr.dns_names == ("shop-certdesk.jp", "www.shop-certdesk.jp", "shop.shop-certdesk.jp")
    assert csr.common_name is None
    assert str(csr.key) == "ECDSA P-384"
    assert csr.key.curve == "P-384"
    assert len(csr.key.spki_sha256) == 64
    assert csr.signature_hash == "SHA-384"
    assert not csr.has_wildcard
    assert csr.pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert x509.load_der_x509_csr(csr.der) == csr.csr


def test_rsa_key_summary() -> None:
    csr = pki.validate_csr(vector("accepted--rsa-4096-single.csr.der"))
    assert str(csr.key) == "RSA 4096"
    assert csr.key.curve is None


def test_common_name_is_copied_into_the_names_when_there_is_no_san() -> None:
    csr = pki.validate_csr(vector("accepted--cn-only-copied-to-san.csr.pem"))
    assert csr.common_name == "portal.shop-certdesk.jp"
    assert csr.dns_names == ("portal.shop-certdesk.jp",)


def test_names_are_lower_cased_and_duplicates_collapsed() -> None:
    csr = pki.validate_csr(vector("accepted--uppercase-and-duplicates.csr.pem"))
    assert csr.common_name == "www.shop-certdesk.jp"
    assert csr.dns_names == ("www.shop-certdesk.jp", "shop-certdesk.jp")


def test_wildcard_csr_names_the_domains_to_validate() -> None:
    csr = pki.validate_csr(vector("accepted--rsa-3072-wildcard.csr.pem"))
    assert csr.has_wildcard
    assert csr.dns_names == ("*.shop-certdesk.jp", "shop-certdesk.jp")
    assert csr.domains_to_validate == ("shop-certdesk.jp",)


def test_a_csr_object_can_be_validated_directly() -> None:
    loaded = pki.load_csr(vector("accepted--ecdsa-p256-single.csr.pem"))
    assert pki.validate_csr(loaded).dns_names == ("www.shop-certdesk.jp",)


@pytest.mark.parametrize("filename", vector_names("refused--csr_private_key--"))
def test_pasted_private_key_is_refused_as_compromised_and_never_echoed(filename: str) -> None:
    data = vector(filename)
    with pytest.raises(pki.PrivateKeySubmitted) as refused:
        pki.validate_csr(data)
    error = refused.value
    assert error.code == "csr_private_key"
    assert error.value == ""
    assert "compromised" in error.message_en
    assert "漏えい" in error.message_ja
    # Nothing of the key travels with the refusal: no PEM body line, no DER fragment.
    carried = repr(error.args) + repr(error.as_dict()) + str(error)
    for line in data.splitlines():
        if len(line) > 20 and not line.startswith(b"-----"):
            assert line.decode("latin-1") not in carried
    assert error.__cause__ is None
    assert error.__context__ is None or not isinstance(error.__context__, pki.CsrRejected)


def test_oversized_input_is_refused_before_parsing() -> None:
    data = vector("accepted--ecdsa-p256-single.csr.pem") + b" " * (64 * 1024)
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(data)
    assert refused.value.code == "csr_too_large"
    assert "65536" in refused.value.message_en


def test_a_smaller_policy_limit_is_honoured() -> None:
    policy = pki.CsrPolicy(max_names=2)
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("accepted--ecdsa-p384-multi-no-cn.csr.pem"), policy=policy)
    assert refused.value.code == "name_too_many"
    assert refused.value.value == "3"


@pytest.mark.filterwarnings("ignore:Attribute's length must be")
def test_common_name_longer_than_64_characters_is_refused() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # cryptography will not build such a name, so the attribute is added unchecked.
    long_name = "a" * 60 + ".shop-certdesk.jp"
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.warns(UserWarning, match="length must be"):
        attribute = x509.NameAttribute(NameOID.COMMON_NAME, long_name, _validate=False)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([attribute]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(long_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(csr)
    assert refused.value.code == "subject_cn_too_long"
    assert refused.value.field == "subject.commonName"


def test_refusal_names_the_offending_field_and_value() -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("refused--name_cn_mismatch--cn-not-in-san.csr.pem"))
    assert refused.value.field == "subject.commonName"
    assert refused.value.value == "mail.shop-certdesk.jp"
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("refused--name_ip_address--san-ip.csr.pem"))
    assert refused.value.field == "subjectAltName"
    assert refused.value.value == "203.0.113.7"
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("refused--name_not_dns--san-email.csr.pem"))
    assert refused.value.value == "email:admin@shop-certdesk.jp"
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("refused--csr_pem_unknown--crl.pem"))
    assert refused.value.value == "X509 CRL"


def test_signature_algorithm_refusal_names_the_hash() -> None:
    with pytest.raises(pki.CsrRejected) as refused:
        pki.validate_csr(vector("refused--csr_signature_algorithm--sha1.csr.pem"))
    assert refused.value.value == "SHA1"
    assert "SHA1" in refused.value.message_ja


def test_data_of_the_wrong_type_is_a_caller_mistake() -> None:
    with pytest.raises(TypeError):
        pki.validate_csr(12345)  # type: ignore[arg-type]
