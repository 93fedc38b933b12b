"""Bad input: mutated CSRs, random bytes and text always end in an acceptance or a refusal.

Whatever a customer pastes, the policy answers with a :class:`pki.ValidatedCsr` or a
:class:`pki.CsrRejected` carrying a known code: never any other exception.
"""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pki
from pki import _der
from tests.pki.conftest import NOW
from tests.pki.helpers import vector

FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SEEDS = [
    pki.load_csr(vector(name)).public_bytes(serialization.Encoding.DER)
    for name in (
        "accepted--ecdsa-p256-single.csr.pem",
        "accepted--rsa-2048-multi.csr.pem",
        "accepted--ecdsa-p384-multi-no-cn.csr.pem",
        "accepted--rsa-3072-wildcard.csr.pem",
    )
]


def _judge(data: bytes | str) -> None:
    try:
        result = pki.validate_csr(data)
    except pki.CsrRejected as refused:
        assert refused.code in pki.REASONS
        assert refused.message_en and refused.message_ja
    else:
        assert isinstance(result, pki.ValidatedCsr)
        assert result.dns_names


@st.composite
def mutated_der(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete", "truncate"]))
        if not data:
            break
        where = draw(st.integers(min_value=0, max_value=len(data) - 1))
        if kind == "flip":
            data[where] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set":
            data[where] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0xFF]))
        elif kind == "cut":
            del data[where : where + draw(st.integers(min_value=1, max_value=64))]
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[where]
        else:
            del data[where:]
    return bytes(data)


@FUZZ
@given(mutated_der())
def test_mutated_der_csrs_are_accepted_or_refused(data: bytes) -> None:
    _judge(data)


# A CSR whose key the test holds: mutated request info can be signed again, so the damage
# reaches the lazily parsed subject, attributes and extensions behind a valid signature.
_KEY = ec.generate_private_key(ec.SECP256R1())
_SIGNED = (
    x509.CertificateSigningRequestBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.shop-certdesk.jp")]))
    .add_extension(
        x509.SubjectAlternativeName(
            [x509.DNSName("www.shop-certdesk.jp"), x509.DNSName("*.shop-certdesk.jp")]
        ),
        critical=False,
    )
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .sign(_KEY, hashes.SHA256())
)
_INFO = _SIGNED.tbs_certrequest_bytes
# The public key's span, left alone so that the signature can still verify.
_SPKI = _KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
_SPKI_AT = _INFO.index(_SPKI)


@st.composite
def resigned_der(draw: st.DrawFn) -> bytes:
    info = bytearray(_INFO)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        choices = [i for i in range(len(info)) if not _SPKI_AT <= i < _SPKI_AT + len(_SPKI)]
        where = draw(st.sampled_from(choices))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if kind == "flip":
            info[where] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set":
            info[where] = draw(st.sampled_from([0x00, 0x05, 0x0C, 0x13, 0x16, 0x30, 0x80, 0xFF]))
        elif kind == "insert":
            info[where:where] = draw(st.binary(min_size=1, max_size=4))
        else:
            del info[where]
    signature = _KEY.sign(bytes(info), ec.ECDSA(hashes.SHA256()))
    return _der.replace_signature(
        _SIGNED.public_bytes(serialization.Encoding.DER), bytes(info), signature
    )


@FUZZ
@given(resigned_der())
def test_mutated_but_validly_signed_csrs_are_accepted_or_refused(data: bytes) -> None:
    _judge(data)


@FUZZ
@given(mutated_der())
def test_mutated_csrs_in_pem_armour_are_accepted_or_refused(data: bytes) -> None:
    body = base64.encodebytes(data).decode("ascii")
    _judge(f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n")


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused(data: bytes) -> None:
    _judge(data)


PEM_PIECES = st.sampled_from(
    [
        "-----BEGIN CERTIFICATE REQUEST-----\n",
        "-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN NEW CERTIFICATE REQUEST-----\n",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----BEGIN ",
        "-----END ",
        "-----\n",
        "Proc-Type: 4,ENCRYPTED\n",
        "MIIB",
        "\u00e9",
        "\u4f8b",
    ]
) | st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=- \n", max_size=80
)


@FUZZ
@given(st.lists(PEM_PIECES, max_size=12).map("".join))
def test_random_pem_like_text_is_refused_or_accepted(text: str) -> None:
    _judge(text)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_a_name_is_normalised_or_refused(name: str) -> None:
    try:
        normalised = pki.normalize_dns_name(name)
    except pki.CsrRejected as refused:
        assert refused.code.startswith("name_")
    else:
        assert normalised == normalised.lower() and normalised.isascii()
        assert pki.normalize_dns_name(normalised) == normalised


def test_ocsp_responder_answers_any_request_bytes(ecdsa_ca: pki.BuiltinCA) -> None:
    from cryptography.x509 import ocsp

    @FUZZ
    @given(st.binary(max_size=512))
    def check(request: bytes) -> None:
        answer = ocsp.load_der_ocsp_response(
            ecdsa_ca.ocsp_respond(request, lambda serial: pki.CertStatus.unknown(), now=NOW)
        )
        assert answer.response_status in {
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
            ocsp.OCSPResponseStatus.UNAUTHORIZED,
            ocsp.OCSPResponseStatus.SUCCESSFUL,
        }

    check()


def _outcome(function, name: str) -> str:  # noqa: ANN001 - a normaliser
    try:
        return "ok:" + function(name)
    except pki.CsrRejected as refused:
        return refused.code


@FUZZ
@given(
    st.text(alphabet="abcxyz019-*._:XN", max_size=40)
    | st.lists(st.sampled_from(["www", "xn--r8jz45g", "ab--c", "co", "jp", "*", "-a", "1"])).map(
        ".".join
    )
)
def test_fast_path_for_plain_names_agrees_with_the_rule_by_rule_path(name: str) -> None:
    from pki import names

    assert _outcome(pki.normalize_dns_name, name) == _outcome(
        lambda value: names._check_syntax(value, "subjectAltName"), name
    )
