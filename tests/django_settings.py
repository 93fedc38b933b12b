"""Settings for the test suite: the real ones, with a throwaway var/ and the test database.

``CERTDESK_TEST_DATABASE_URL`` (CI sets it to the machine's PostgreSQL) runs the whole suite
on that server; without it the suite uses SQLite.
"""

import os
import tempfile

os.environ.setdefault("CERTDESK_VAR_DIR", tempfile.mkdtemp(prefix="certdesk-test-var-"))
os.environ.setdefault("CERTDESK_SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")

from certdesk.core.dburl import database_from_url  # noqa: E402
from certdesk.settings import *  # noqa: E402,F403

_url = os.environ.get("CERTDESK_TEST_DATABASE_URL")
if _url:
    DATABASES = {"default": database_from_url(_url)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES = {"default": database_from_url("sqlite:///" + os.path.join(VAR_DIR, "test.sqlite3"))}  # noqa: F405

# Still Argon2id, with a small cost so that hundreds of sign-ups stay fast.
PASSWORD_HASHERS = ["tests.hashers.FastArgon2idHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HUEY = {**HUEY, "immediate": True}  # noqa: F405
SITE_URL = "http://testserver"
CA_BASE_URL = "http://testserver"
# A dead loopback port until the suite's lab DNS server starts (tests/conftest.py): a lookup
# outside it fails loudly instead of leaving the machine.
DCV_DNS_SERVER = "127.0.0.1:9"
