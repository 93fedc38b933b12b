"""Django settings for certdesk, read from ``CERTDESK_*`` environment variables.

Nothing secret is hard-coded: a missing ``CERTDESK_SECRET_KEY`` is generated once into
``var/secret_key`` so that the embedded default runs with no configuration at all.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from certdesk.core.dburl import database_from_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CERTDESK_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("CERTDESK_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("CERTDESK_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CERTDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CERTDESK_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# Public base URL used in emails (verification links, notices).
SITE_URL = os.environ.get("CERTDESK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "huey.contrib.djhuey",
    "ninja",
    "certdesk.core",
    "certdesk.audit",
    "certdesk.notifications",
    "certdesk.accounts",
    "certdesk.mfa",
    "certdesk.members",
    "certdesk.tokens",
    "certdesk.terms",
    "certdesk.organizations",
    "certdesk.validation",
    "certdesk.suppliers",
    "certdesk.certificates",
    "certdesk.repository",
    "certdesk.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "certdesk.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "certdesk.accounts.middleware.UserLanguageMiddleware",
    "certdesk.terms.middleware.TermsAcceptanceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "certdesk.core.middleware.ErrorMappingMiddleware",
]

ROOT_URLCONF = "certdesk.urls"
WSGI_APPLICATION = "certdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "certdesk.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("CERTDESK_DATABASE_URL", f"sqlite:///{VAR_DIR / 'certdesk.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "certdesk.accounts.password_validation.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "certdesk.accounts.password_validation.CharacterVarietyValidator"},
]

# Failed sign-in lockout: this many failures inside the window lock the login ID.
CERTDESK_LOGIN_MAX_FAILURES = int(os.environ.get("CERTDESK_LOGIN_MAX_FAILURES", "5"))
CERTDESK_LOGIN_FAILURE_WINDOW = int(os.environ.get("CERTDESK_LOGIN_FAILURE_WINDOW", "900"))
CERTDESK_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("CERTDESK_LOGIN_LOCKOUT_SECONDS", "900"))
# How long an email verification / password reset link stays valid.
CERTDESK_EMAIL_TOKEN_HOURS = 24
# Days after publication when a terms version takes effect without an email notice.
CERTDESK_TERMS_GRACE_DAYS = 15

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Cookies and transport. Cookies are Secure whenever the site is served over https
# (CERTDESK_SITE_URL); only the plain-http loopback default of ``make run`` goes without.
_SECURE = _env_bool("CERTDESK_SECURE_COOKIES", SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = _SECURE
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = int(os.environ.get("CERTDESK_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_SSL_REDIRECT = _env_bool("CERTDESK_SSL_REDIRECT", False)
if _env_bool("CERTDESK_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "certdesk.core.views.csrf_failure"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Mail: real SMTP when configured, else files under var/outbox/ (and the console).
EMAIL_OUTBOX_DIR = VAR_DIR / "outbox"
DEFAULT_FROM_EMAIL = os.environ.get("CERTDESK_MAIL_FROM", "certdesk <noreply@certdesk.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_smtp = os.environ.get("CERTDESK_SMTP_URL")
if _smtp:
    from certdesk.notifications.smtpurl import smtp_settings_from_url

    globals().update(smtp_settings_from_url(_smtp))
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "certdesk.notifications.backends.OutboxFileBackend"

# Background jobs: Huey on SQLite under var/ by default, Redis when configured.
_redis = os.environ.get("CERTDESK_REDIS_URL")
HUEY = {
    "name": "certdesk",
    "immediate": _env_bool("CERTDESK_HUEY_IMMEDIATE", False),
    "utc": True,
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if _redis:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": _redis})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CERTDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Periodic jobs run by the worker and by ``certdesk sweep --now``.
CERTDESK_SWEEP_JOBS = [
    "certdesk.notifications.jobs.deliver_due_email",
    "certdesk.accounts.jobs.purge_sign_in_records",
    "certdesk.terms.jobs.send_terms_notices",
    "certdesk.validation.jobs.recheck_pending_validations",
    "certdesk.certificates.jobs.issue_ready_applications",
]
# Run once by ``certdesk serve`` after migrating, before serving.
CERTDESK_STARTUP_HOOKS: list[str] = ["certdesk.suppliers.builtin.ensure_builtin_ca"]

# Domain control validation. The first four are for tests and labs only: production leaves
# them unset, so real DNS and ports 80/443 are used.
DCV_DNS_SERVER = os.environ.get("CERTDESK_DCV_DNS_SERVER", "")  # "host:port"
DCV_HOSTS = {
    name.strip().lower().rstrip("."): address.strip()
    for name, _, address in (
        item.partition("=") for item in os.environ.get("CERTDESK_DCV_HOSTS", "").split(",")
    )
    if name.strip() and address.strip()
}
DCV_HTTP_PORT = int(os.environ.get("CERTDESK_DCV_HTTP_PORT", "80"))
DCV_TLS_PORT = int(os.environ.get("CERTDESK_DCV_TLS_PORT", "443"))
DCV_TIMEOUT_SECONDS = float(os.environ.get("CERTDESK_DCV_TIMEOUT", "5"))
# The issuer domain names certdesk's CA answers to in CAA "issue"/"issuewild" records (RFC 8659).
CAA_IDENTITIES = [
    item.strip().lower()
    for item in os.environ.get("CERTDESK_CAA_IDENTITIES", "certdesk.jp").split(",")
    if item.strip()
]

# How long a CAA check that permitted issuance is relied on (BR 3.2.2.8 allows up to the
# greater of the record's TTL and eight hours); 0 looks up before every issuance.
CAA_CACHE_SECONDS = int(os.environ.get("CERTDESK_CAA_CACHE_SECONDS", "3600"))

# Suppliers: the certificate authorities that sign, by key, as dotted paths (see
# certdesk.suppliers). A product names the supplier that fulfils it.
CERTDESK_SUPPLIERS = {"builtin": "certdesk.suppliers.builtin.BuiltinSupplier"}
# The built-in CA's files (keys encrypted with a key derived from SECRET_KEY) and the base URL
# its certificates point relying parties at for the CRL, OCSP and the issuer certificate.
CA_DIR = Path(os.environ.get("CERTDESK_CA_DIR", VAR_DIR / "ca")).resolve()
CA_BASE_URL = os.environ.get("CERTDESK_CA_BASE_URL", SITE_URL).rstrip("/")
