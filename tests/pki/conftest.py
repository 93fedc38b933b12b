"""Fixtures for the PKI core: fixed moments and built-in CA hierarchies (files, RSA, SoftHSM2)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import pki

CA_CREATED = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
"""When the test hierarchies were made: before the first BR 6.3.2 step, so every era is covered."""
NOW = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
"""The moment most tests issue at (the 200-day era)."""
BASE_URL = "http://pki.shop-certdesk.jp"
SECRET = "correct horse battery staple, test only"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def make_config(algorithm: pki.CaAlgorithm = pki.CaAlgorithm.ECDSA) -> pki.CaConfig:
    """The test hierarchy's configuration: long-lived so that issuance in 2030 still fits."""
    return pki.CaConfig(
        base_url=BASE_URL,
        organization="certdesk test",
        algorithm=algorithm,
        root_validity=timedelta(days=20 * 365),
        issuing_validity=timedelta(days=10 * 365),
    )


def file_keys(directory: Path, secret: str = SECRET) -> pki.FileKeyStore:
    """An encrypted-file key store with a cheap KDF (the cost factor is not under test)."""
    return pki.FileKeyStore(directory / "keys", secret=secret, scrypt_n=2**12)


@pytest.fixture(scope="session")
def ecdsa_ca(tmp_path_factory: pytest.TempPathFactory) -> pki.BuiltinCA:
    """The default hierarchy: ECDSA P-384 root, P-256 issuing CA, keys in encrypted files."""
    directory = tmp_path_factory.mktemp("ca-ecdsa")
    return pki.BuiltinCA.load_or_create(
        directory=directory, keys=file_keys(directory), config=make_config(), now=CA_CREATED
    )


@pytest.fixture(scope="session")
def rsa_ca(tmp_path_factory: pytest.TempPathFactory) -> pki.BuiltinCA:
    """The RSA hierarchy: RSA 4096 root, RSA 2048 issuing CA."""
    directory = tmp_path_factory.mktemp("ca-rsa")
    return pki.BuiltinCA.load_or_create(
        directory=directory,
        keys=file_keys(directory),
        config=make_config(pki.CaAlgorithm.RSA),
        now=CA_CREATED,
    )


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pki.Pkcs11KeyStore]:
    """A fresh SoftHSM2 token ("certdesk") and a key store logged in to it."""
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        pytest.fail("SoftHSM2 (Debian package softhsm2) is required for the HSM tests")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    config = folder / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {folder / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "certdesk",
            "--so-pin",
            "12345678",
            "--pin",
            "87654321",
        ],
        check=True,
        capture_output=True,
    )
    store = pki.Pkcs11KeyStore(module=SOFTHSM_MODULE, token_label="certdesk", user_pin="87654321")
    yield store
    store.close()
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="session")
def hsm_ca(tmp_path_factory: pytest.TempPathFactory, softhsm: pki.Pkcs11KeyStore) -> pki.BuiltinCA:
    """The default hierarchy with both CA keys generated on, and never leaving, the token."""
    directory = tmp_path_factory.mktemp("ca-hsm")
    return pki.BuiltinCA.load_or_create(
        directory=directory, keys=softhsm, config=make_config(), now=CA_CREATED
    )
