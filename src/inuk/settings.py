"""Settings for INUK.

Zero configuration to start: with no environment at all the service runs on
SQLite files in a per-user data directory, the statistics database and the
identity vault apart. Production sets ``INUK_DATABASE_URL`` and
``INUK_VAULT_DATABASE_URL`` to PostgreSQL databases with separate roles.
All variables are documented in ``docs/operations.md``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import platformdirs
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from pythonjsonlogger.core import RESERVED_ATTRS

from inuk.conf import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
    secret_file,
)

PACKAGE_DIR = Path(__file__).resolve().parent

DATA_DIR = Path(
    env_str(
        "INUK_DATA_DIR",
        platformdirs.user_data_dir("inuk", appauthor=False),
        "directory for the embedded databases, keys and spool files",
    )
).expanduser()
# Readable by its owner only: databases, keys and uploads live here (inuk.datadir).
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_file(name: str) -> str:
    """A secret kept in the data directory, created on first use (embedded default only)."""
    return secret_file(DATA_DIR / name)


DEBUG = env_bool("INUK_DEBUG", False, "show tracebacks in pages; never in production")

SECRET_KEY = env_secret("INUK_SECRET_KEY", "Django's secret key") or _secret_file("secret-key")

ALLOWED_HOSTS = env_list(
    "INUK_ALLOWED_HOSTS",
    ["localhost", "127.0.0.1", "[::1]"],
    "comma-separated host names the service answers to",
)
CSRF_TRUSTED_ORIGINS = env_list(
    "INUK_CSRF_TRUSTED_ORIGINS", [], "comma-separated origins (https://host) trusted for forms"
)

INSTALLED_APPS = [
    "inuk.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",  # the API docs page's Swagger UI from the package's static files, not a CDN
    "inuk.organisations",
    "inuk.codes",
    "inuk.accounts",
    "inuk.audit",
    "inuk.vault",
    "inuk.intake",
    "inuk.ledger",
    "inuk.stats",
    "inuk.identity",
]

MIDDLEWARE = [
    "inuk.web.middleware.ProxyHeadersMiddleware",
    "inuk.web.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "inuk.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "inuk.urls"
WSGI_APPLICATION = "inuk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inuk.web.context_processors.service",
            ],
        },
    },
]


def _database(name: str, default_file: str, doc: str) -> dict:
    url = env_str(name, f"sqlite:///{DATA_DIR / default_file}", doc)
    try:
        config: dict = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets pages read while a delivery is written; IMMEDIATE takes the
        # write lock at BEGIN so two writers queue instead of deadlocking.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    elif config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"{name}: only sqlite:// and postgres:// are supported")
    return config


DATABASES = {
    "default": _database(
        "INUK_DATABASE_URL", "inuk.sqlite3", "statistics database URL (sqlite:/// or postgres://)"
    ),
    "vault": _database(
        "INUK_VAULT_DATABASE_URL",
        "vault.sqlite3",
        "identity vault database URL; must not be the statistics database",
    ),
}
DATABASE_ROUTERS = ["inuk.vault.routers.VaultRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:start"
LOGOUT_REDIRECT_URL = "web:home"
OTP_TOTP_ISSUER = "INUK"  # the name authenticator apps show for the account
# The admin never shows an existing device's secret key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(mode=0o700, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "inuk.web.finders.PackageFinder",  # plotly.js from the plotly package
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SECURE_COOKIES = env_bool(
    "INUK_SECURE_COOKIES", False, "send cookies over HTTPS only (set true behind TLS)"
)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("INUK_SESSION_SECONDS", 8 * 3600, "session lifetime", minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_COOKIES:
    SECURE_HSTS_SECONDS = 31536000
    # The service's own host name and any below it: nothing there is served by plain HTTP.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Scripts only from the service's own files: no inline script, no inline event
# handler, no eval. Pages hand data to their scripts in <script type="application/json">
# islands, which are data, not scripts. Styles allow inline because plotly.js
# writes its chart styles into <style> elements as it draws (and a few pages
# size an element with a style attribute); a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        # data: and blob: images: plotly draws a chart's PNG and SVG downloads through them.
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Whether to ask browsers to preload HTTPS for the whole domain is for the domain's
# owner to decide (af.se, not one service on it), so Django's reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INUK_TRUSTED_PROXY = env_networks(
    "INUK_TRUSTED_PROXY",
    "addresses or networks of the reverse proxies whose X-Forwarded-For is believed",
)
PROXY_HTTPS_HEADER = env_str(
    "INUK_PROXY_HTTPS_HEADER",
    "",
    "header in which a trusted proxy says a request came by HTTPS (X-Forwarded-Proto)",
)
if PROXY_HTTPS_HEADER:
    # Believed only from a trusted proxy: inuk.web.middleware.ProxyHeadersMiddleware
    # removes it from every other request before Django looks at it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + PROXY_HTTPS_HEADER.upper().replace("-", "_"), "https")
    # Only once the service can tell HTTPS from HTTP: without the header, every
    # request through a TLS-terminating proxy would look like HTTP and redirect forever.
    SECURE_SSL_REDIRECT = SECURE_COOKIES
    # The platform's probes ask the web process directly, by plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Uploads too large for memory are spooled in the data directory, not the system's /tmp.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, exist_ok=True)

EMAIL_BACKEND = env_str(
    "INUK_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend",
    "Django e-mail backend (smtp in production)",
)
DEFAULT_FROM_EMAIL = env_str("INUK_EMAIL_FROM", "inuk@localhost", "sender of the service's mail")

# --- INUK's own settings -----------------------------------------------------

INUK_MAX_DELIVERY_BYTES = env_int(
    "INUK_MAX_DELIVERY_BYTES", 2 * 1024**3, "largest delivery file accepted, in bytes", minimum=1
)
INUK_MAX_REQUEST_BYTES = env_int(
    "INUK_MAX_REQUEST_BYTES",
    1024 * 1024,
    "largest request body `inuk serve` reads, except a delivery from an authenticated caller",
    minimum=1024,
)
INUK_INLINE_MAX_BYTES = env_int(
    "INUK_INLINE_MAX_BYTES",
    256 * 1024,
    "deliveries and dry runs up to this size are processed at once, larger ones by a worker",
    minimum=0,
)
INUK_VALIDATOR_REQUIRES_LOGIN = env_bool(
    "INUK_VALIDATOR_REQUIRES_LOGIN", True, "the validator page requires login (demo: false)"
)
INUK_VAULT_KEY = env_secret(
    "INUK_VAULT_KEY",
    "the identity vault's keyring (JSON); embedded default: a file in the data dir",
)
INUK_AUDIT_KEY = env_secret(
    "INUK_AUDIT_KEY", "key of the audit log's hash chain; embedded default: a file in the data dir"
) or _secret_file("audit-key")
INUK_AUDIT_ANCHOR = Path(
    env_str(
        "INUK_AUDIT_ANCHOR",
        str(DATA_DIR / "audit-anchor"),
        "file outside the database holding the audit log's last entry; ship copies off-machine",
    )
).expanduser()
INUK_RETENTION_YEARS = env_int(
    "INUK_RETENTION_YEARS",
    10,
    "`inuk retention` removes transactions whose Transaktionsdatum is older, in years",
    minimum=1,
)
INUK_AGREEMENT_RETENTION_DAYS = env_int(
    "INUK_AGREEMENT_RETENTION_DAYS",
    365,
    "`inuk retention` removes a municipality's data this many days after its agreement ended",
    minimum=0,
)
INUK_WORKER_STALE_SECONDS = env_int(
    "INUK_WORKER_STALE_SECONDS",
    300,
    "a delivery whose worker has not reported for this long is taken up again",
    minimum=10,
)
INUK_HEALTH_QUEUE_SECONDS = env_int(
    "INUK_HEALTH_QUEUE_SECONDS",
    900,
    "/healthz answers 503 once a delivery has waited this long for a worker",
    minimum=1,
)

INUK_API_RATE_PER_MINUTE = env_int(
    "INUK_API_RATE_PER_MINUTE",
    60,
    "API requests allowed per token (or logged-in user) and minute",
    minimum=1,
)

# Disclosure control of the statistics (SPEC §10 R11); see inuk.stats.disclosure.
INUK_STATS_PROTECTION = env_choice(
    "INUK_STATS_PROTECTION",
    "cell-key",
    ("cell-key", "threshold"),
    "how figures are protected for all but AF's national analysts: cell-key or threshold",
)
INUK_STATS_PTABLE = env_str(
    "INUK_STATS_PTABLE",
    "",
    "perturbation table of the cell key method, a pcv,ckey,pvalue CSV; default: the shipped one",
)
INUK_STATS_PTABLE_CYCLE = env_int(
    "INUK_STATS_PTABLE_CYCLE",
    0,
    "counts above the perturbation table reuse its last N rows in turn; 0: its last row",
    minimum=0,
)
INUK_STATS_THRESHOLD = env_int(
    "INUK_STATS_THRESHOLD",
    5,
    "threshold method: the smallest count shown; smaller counts but zero are suppressed",
    minimum=1,
)
INUK_DELIVERY_DUE_DAY = env_int(
    "INUK_DELIVERY_DUE_DAY",
    15,
    "delivery follow-up: a month counts as delivered when received by this day of the next month",
    minimum=1,
)
if INUK_DELIVERY_DUE_DAY > 28:
    raise ImproperlyConfigured(
        "INUK_DELIVERY_DUE_DAY must be at most 28 (a day every month has), "
        f"not {INUK_DELIVERY_DUE_DAY}"
    )

LOG_FORMAT = env_choice(
    "INUK_LOG_FORMAT",
    "plain",
    ("plain", "json"),
    "log lines as plain text or as one JSON object a line (production: json)",
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The request's context first, then the masking, which sees every field.
    "filters": {
        "request": {"()": "inuk.logging.RequestContext"},
        "redact": {"()": "inuk.logging.RedactPersonnummer"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            # Django's request log hands over the request itself: its repr has the query string.
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request", "redact"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("INUK_LOG_LEVEL", "INFO", "log level")},
    "loggers": {
        # Django's own handlers for these (a console, mails to ADMINS, the
        # development server's) would write records before the redacting
        # filter sees them: replaced, so every record goes through "console".
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
