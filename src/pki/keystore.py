"""Where the built-in CA's private keys live: files encrypted at rest, or a PKCS#11 token.

Both stores hand out :class:`Signer` objects. A file key is decrypted into memory and signs
with pyca/cryptography directly; a PKCS#11 key never leaves the token, which signs the bytes.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pki.errors import CaError

RandomSource = Callable[[int], bytes]
"""Returns that many unpredictable bytes (``os.urandom`` unless a test injects another)."""

CaPrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
CaPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class KeySpec(enum.StrEnum):
    """The key types a CA key can have, with the signature hash each one uses."""

    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"

    @property
    def is_ec(self) -> bool:
        """Whether this is an ECDSA key."""
        return self.value.startswith("ec-")

    @property
    def curve(self) -> ec.EllipticCurve:
        """The curve of an ECDSA spec."""
        if self is KeySpec.EC_P256:
            return ec.SECP256R1()
        if self is KeySpec.EC_P384:
            return ec.SECP384R1()
        raise ValueError(f"{self.value} is not an elliptic-curve key")

    @property
    def rsa_bits(self) -> int:
        """The modulus size of an RSA spec."""
        if self.is_ec:
            raise ValueError(f"{self.value} is not an RSA key")
        return int(self.value.removeprefix("rsa-"))

    def hash_algorithm(self) -> hashes.SHA256 | hashes.SHA384:
        """SHA-384 for P-384 (BR 7.1.3.2), SHA-256 otherwise."""
        return hashes.SHA384() if self is KeySpec.EC_P384 else hashes.SHA256()

    def generate(self) -> CaPrivateKey:
        """A new software key of this spec."""
        if self.is_ec:
            return ec.generate_private_key(self.curve)
        return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)

    @classmethod
    def of(cls, key: CaPublicKey | CaPrivateKey) -> KeySpec:
        """The spec of an existing key."""
        if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
            name = key.curve.name
            if name == "secp256r1":
                return cls.EC_P256
            if name == "secp384r1":
                return cls.EC_P384
            raise ValueError(f"unsupported CA curve {name}")
        return cls(f"rsa-{key.key_size}")


class Signer(Protocol):
    """A CA key: its public half, and a way to sign bytes with the private half."""

    @property
    def spec(self) -> KeySpec:
        """The key type."""
        ...

    def public_key(self) -> CaPublicKey:
        """The public key."""
        ...

    @property
    def private_key(self) -> CaPrivateKey | None:
        """The software key for cryptography's builders, or None when the key is external."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the spec's hash: DER ECDSA-Sig-Value or PKCS #1 v1.5 octets."""
        ...


class KeyStore(Protocol):
    """Creates and finds CA keys by label."""

    def create(self, *, label: str, spec: KeySpec) -> Signer:
        """Make a new key under ``label``."""
        ...

    def load(self, *, label: str, spec: KeySpec) -> Signer:
        """The key stored under ``label``; raise ``CaError`` when it is missing or unreadable."""
        ...


class SoftwareSigner:
    """A key held in memory by pyca/cryptography."""

    def __init__(self, key: CaPrivateKey) -> None:
        self._key = key
        self._spec = KeySpec.of(key)

    @property
    def spec(self) -> KeySpec:
        """The key type."""
        return self._spec

    def public_key(self) -> CaPublicKey:
        """The public key."""
        return self._key.public_key()

    @property
    def private_key(self) -> CaPrivateKey:
        """The software key itself."""
        return self._key

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the spec's hash."""
        algorithm = self._spec.hash_algorithm()
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return self._key.sign(data, padding.PKCS1v15(), algorithm)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileKeyStore:
    """CA keys as files, each encrypted with AES-256-GCM under a key derived by scrypt.

    The encryption key comes from ``secret`` (the deployment's configured secret) and a
    per-file salt; the label is bound as associated data so files cannot be swapped.
    """

    FORMAT = "certdesk-ca-key"

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        secret: bytes | str,
        random: RandomSource = os.urandom,
        scrypt_n: int = 2**15,
    ) -> None:
        secret_bytes = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(secret_bytes) < 16:
            raise ValueError("the CA key secret must be at least 16 bytes long")
        self.directory = Path(directory)
        self._secret = secret_bytes
        self._random = random
        self._scrypt_n = scrypt_n

    def _path(self, label: str) -> Path:
        if not label or "/" in label or label.startswith("."):
            raise ValueError(f"invalid key label: {label!r}")
        return self.directory / f"{label}.key.json"

    def _derive(self, salt: bytes, n: int) -> bytes:
        return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(self._secret)

    def create(self, *, label: str, spec: KeySpec) -> SoftwareSigner:
        """Generate a key and store it encrypted under ``label``."""
        key = spec.generate()
        plaintext = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        salt, nonce = self._random(16), self._random(12)
        ciphertext = AESGCM(self._derive(salt, self._scrypt_n)).encrypt(
            nonce, plaintext, label.encode("utf-8")
        )
        document = {
            "format": self.FORMAT,
            "version": 1,
            "spec": spec.value,
            "kdf": {"name": "scrypt", "salt": _b64(salt), "n": self._scrypt_n, "r": 8, "p": 1},
            "cipher": "AES-256-GCM",
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_private(self._path(label), json.dumps(document, indent=2).encode("utf-8"))
        return SoftwareSigner(key)

    def load(self, *, label: str, spec: KeySpec) -> SoftwareSigner:
        """Decrypt the key stored under ``label``."""
        path = self._path(label)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CaError("ca_key_missing", field="key", value=label) from None
        except (OSError, ValueError) as exc:
            raise CaError(
                "ca_store_corrupt", field="key", value=str(path), detail=type(exc).__name__
            ) from None
        try:
            if document["format"] != self.FORMAT or document["kdf"]["name"] != "scrypt":
                raise ValueError("unknown key file format")
            salt = base64.b64decode(document["kdf"]["salt"])
            n = int(document["kdf"]["n"])
            nonce = base64.b64decode(document["nonce"])
            ciphertext = base64.b64decode(document["ciphertext"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CaError(
                "ca_store_corrupt", field="key", value=str(path), detail=str(exc)
            ) from None
        try:
            plaintext = AESGCM(self._derive(salt, n)).decrypt(
                nonce, ciphertext, label.encode("utf-8")
            )
        except (InvalidTag, ValueError):
            raise CaError("ca_key_decrypt_failed", field="key", value=label) from None
        key = serialization.load_der_private_key(plaintext, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise CaError("ca_key_mismatch", field="key", value=label)
        signer = SoftwareSigner(key)
        if signer.spec is not spec:
            raise CaError("ca_key_mismatch", field="key", value=label)
        return signer


class Pkcs11Signer:
    """A key that stays on a PKCS#11 token; the token signs digests it is given."""

    def __init__(
        self, store: Pkcs11KeyStore, handle: Any, spec: KeySpec, public_key: CaPublicKey
    ) -> None:
        self._store = store
        self._handle = handle
        self._spec = spec
        self._public_key = public_key

    @property
    def spec(self) -> KeySpec:
        """The key type."""
        return self._spec

    def public_key(self) -> CaPublicKey:
        """The public key, read from the token."""
        return self._public_key

    @property
    def private_key(self) -> None:
        """Always None: the private key cannot leave the token."""
        return None

    def sign(self, data: bytes) -> bytes:
        """Have the token sign ``data`` with the spec's hash."""
        return self._store._sign(self._handle, self._spec, data)


class Pkcs11KeyStore:
    """CA keys generated on and used inside a PKCS#11 token (an HSM; SoftHSM2 in tests).

    Private keys are created sensitive and non-extractable. One session is kept open and
    used under a lock, since a PKCS#11 session serves one operation at a time.
    """

    def __init__(self, *, module: str, token_label: str, user_pin: str) -> None:
        import pkcs11

        try:
            library = pkcs11.lib(module)
            self._token = library.get_token(token_label=token_label)
            self._session: Any = self._token.open(user_pin=user_pin, rw=True)
        except pkcs11.PKCS11Error as exc:
            raise CaError("ca_hsm_error", field="key", value=type(exc).__name__) from None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the token session."""
        with self._lock:
            self._session.close()

    def _find(self, label: str, object_class: Any) -> Any:
        import pkcs11

        try:
            return self._session.get_key(label=label, object_class=object_class)
        except pkcs11.NoSuchKey:
            raise CaError("ca_key_missing", field="key", value=label) from None
        except pkcs11.PKCS11Error as exc:
            raise CaError("ca_hsm_error", field="key", value=type(exc).__name__) from None

    @staticmethod
    def _public_from(key: Any, spec: KeySpec) -> CaPublicKey:
        from pkcs11.util.ec import encode_ec_public_key
        from pkcs11.util.rsa import encode_rsa_public_key

        der = encode_ec_public_key(key) if spec.is_ec else encode_rsa_public_key(key)
        public = serialization.load_der_public_key(der)
        if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise CaError("ca_key_mismatch", field="key", value=spec.value)
        return public

    def create(self, *, label: str, spec: KeySpec) -> Pkcs11Signer:
        """Generate a key pair on the token under ``label``."""
        import pkcs11
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_named_curve_parameters

        private_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
        }
        public_template: dict[Attribute, object] = {Attribute.TOKEN: True, Attribute.VERIFY: True}
        with self._lock:
            try:
                if spec.is_ec:
                    parameters = self._session.create_domain_parameters(
                        KeyType.EC,
                        {Attribute.EC_PARAMS: encode_named_curve_parameters(spec.curve.name)},
                        local=True,
                    )
                    public, private = parameters.generate_keypair(
                        store=True,
                        label=label,
                        public_template=public_template,
                        private_template=private_template,
                    )
                else:
                    public_template[Attribute.PUBLIC_EXPONENT] = b"\x01\x00\x01"
                    public, private = self._session.generate_keypair(
                        KeyType.RSA,
                        spec.rsa_bits,
                        store=True,
                        label=label,
                        public_template=public_template,
                        private_template=private_template,
                    )
            except pkcs11.PKCS11Error as exc:
                raise CaError("ca_hsm_error", field="key", value=type(exc).__name__) from None
            return Pkcs11Signer(self, private, spec, self._public_from(public, spec))

    def load(self, *, label: str, spec: KeySpec) -> Pkcs11Signer:
        """The key pair stored on the token under ``label``."""
        from pkcs11 import ObjectClass

        with self._lock:
            private = self._find(label, ObjectClass.PRIVATE_KEY)
            public = self._public_from(self._find(label, ObjectClass.PUBLIC_KEY), spec)
        if KeySpec.of(public) is not spec:
            raise CaError("ca_key_mismatch", field="key", value=label)
        return Pkcs11Signer(self, private, spec, public)

    def _sign(self, key: Any, spec: KeySpec, data: bytes) -> bytes:
        import pkcs11
        from pkcs11 import Mechanism

        with self._lock:
            try:
                if spec.is_ec:
                    digest = (hashlib.sha384 if spec is KeySpec.EC_P384 else hashlib.sha256)(
                        data
                    ).digest()
                    raw = bytes(key.sign(digest, mechanism=Mechanism.ECDSA))
                else:
                    return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
            except pkcs11.PKCS11Error as exc:
                raise CaError("ca_hsm_error", field="key", value=type(exc).__name__) from None
        half = len(raw) // 2
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )


__all__ = [
    "CaPrivateKey",
    "CaPublicKey",
    "FileKeyStore",
    "KeySpec",
    "KeyStore",
    "Pkcs11KeyStore",
    "Pkcs11Signer",
    "RandomSource",
    "Signer",
    "SoftwareSigner",
]
