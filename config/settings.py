"""Kehittämö settings.

Every setting comes from the environment with a default that runs on a bare
machine: no variables -> SQLite (WAL), in-memory channel layer, eager Celery,
console e-mail. ``DATABASE_URL``, ``REDIS_URL``, ``EMAIL_URL``, ``SECRET_KEY``
and ``ALLOWED_HOSTS`` switch on the real parts.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-kehittamo-development-key-not-for-production"  # noqa: S105 (dev only)
SECRET_KEY = os.environ.get("SECRET_KEY") or _DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DJANGO_DEBUG is off.")

# Loopback names are always allowed: health checks and workers call the app from inside its host.
ALLOWED_HOSTS = [*env_list("ALLOWED_HOSTS"), "127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "config.admin_site.AdminConfig",  # django.contrib.admin with the guarded site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "template_partials",
    "allauth",
    "allauth.account",
    "accounts",
    "workshops",
    "facilitation",
    "reports",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.AccessEndedMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "20"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    # Under Daphne every request runs in a thread of its own, and a persistent connection per thread is
    # never reused or closed (Django ticket #33497): 50 voters used up PostgreSQL's 100 connections. A
    # pool per process shares a bounded number of connections instead (CONN_MAX_AGE must stay 0 with it).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The pool checks a connection before handing it out, without a round trip while nothing happened to
    # it: Django's backend with psycopg's check (a query every time) replaced (config/postgresql/base.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "config.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": 10,
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets the live pages read while a participant's comment is written.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# Requests one server process runs at once (config.limits); the others wait in the event loop. Four keep the
# core busy while some wait for PostgreSQL; more only take turns on the interpreter lock: at 16 a page cost
# a third more CPU than at 2-4 under 10 concurrent clients (docs/performance.md, "Session 14"). Fewer than
# the pool's connections, so WebSocket consumers always find one.
KEHITTAMO_HTTP_CONCURRENCY = int(os.environ.get("HTTP_CONCURRENCY", "0")) or max(1, min(4, DATABASE_POOL_SIZE - 4))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ---------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
_test_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _test_worker and os.environ.get("KEHITTAMO_REDIS_WORKER") != _test_worker:
    # `make test` runs the suite on parallel workers (pytest-xdist), each with a test database of its own.
    # Each needs a Redis database of its own too: every test clears the cache, where the rate limits live.
    # The environment carries it to the tests that read it and to the servers they start (which inherit
    # the worker's name as well, hence the mark that it is done).
    _redis = urlsplit(REDIS_URL)
    _database = (int(_redis.path.strip("/") or 0) + int(_test_worker.removeprefix("gw")) + 1) % 16
    REDIS_URL = os.environ["REDIS_URL"] = _redis._replace(path=f"/{_database}").geturl()
    os.environ["KEHITTAMO_REDIS_WORKER"] = _test_worker
REDIS_MAX_CONNECTIONS = int(os.environ.get("REDIS_MAX_CONNECTIONS", "1000"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's asyncio pool refuses a 101st simultaneous command; a thousand sockets closing
            # at once each discard their groups, so allow many more (Redis itself takes 10,000 clients).
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, exactly as long as the layer's
                # blocking BZPOPMIN waits: every idle receive then fails and tears its consumer down
                # (django/channels_redis#422). Reads may take longer than the pop's own timeout.
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS, "socket_timeout": 30}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            # A Redis outage is a cache miss, not a 500 (config/cache.py); short timeouts keep it quick.
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "kehittamo"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# How far a Celery worker lowers its CPU priority below the web processes' on the same machine (config.celery).
KEHITTAMO_WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died (SIGKILL, lost machine) is handed to another worker after this many seconds
# (Redis keeps unacknowledged messages aside until then; Kombu's default is an hour). Longer than any
# task runs or waits for its countdown; a copy that arrives while the first still runs finds its lock.
# Workers look for such messages every 10 s (Kombu's default scans only every tenth time).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600")),
    "unacked_restore_throttle": 1,
}
# The lock a worker holds on an export or an invitation batch, renewed as it goes; a dead worker's lock
# expires after this long, so the task's next delivery can take over.
KEHITTAMO_TASK_LOCK_SECONDS = int(os.environ.get("TASK_LOCK_SECONDS", "120"))
CELERY_TIMEZONE = "Europe/Helsinki"
# Run by `celery -A config beat` (the `beat` service in docker-compose.yml); times are Helsinki time.
CELERY_BEAT_SCHEDULE = {
    "erase-expired-personal-data": {
        "task": "privacy.erase_expired_personal_data",
        "schedule": crontab(hour=3, minute=15),
    },
    "delete-expired-exports": {
        "task": "reports.export_expire",
        "schedule": crontab(hour=3, minute=45),
    },
}

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kehittämö] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None

# --- E-mail ---------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kehittämö <noreply@kehittamo.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = os.environ.get("EMAIL_URL", "")


def _email_settings(url: str) -> dict[str, object]:
    """Parse ``smtp://user:pass@host:port/?tls=1`` into Django e-mail settings."""
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme in {"console", "locmem", "dummy"}:
        return {"EMAIL_BACKEND": f"django.core.mail.backends.{parts.scheme}.EmailBackend"}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true"},
        "EMAIL_TIMEOUT": 20,
    }


globals().update(_email_settings(EMAIL_URL))

# --- Languages and time -----------------------------------------------------
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "kehittamo_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
TIME_ZONE = "Europe/Helsinki"
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks come over plain HTTP from inside the container network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging --------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {"readable": {"()": "config.logging.KeyValueFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "readable",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Kehittämö ------------------------------------------------------------
KEHITTAMO_SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Where vulnerabilities are reported (/.well-known/security.txt, docs/security.md): the deployer's own address.
KEHITTAMO_SECURITY_CONTACT = os.environ.get(
    "SECURITY_CONTACT_EMAIL", f"security@{urlsplit(KEHITTAMO_SITE_URL).hostname or 'localhost'}"
)
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: "example.fi" means https://example.fi

# --- Data protection ------------------------------------------------------
# A closed workshop's participants' names, e-mails and links are erased this many days after it closed
# (the anonymous content stays for the report). 0 switches the automatic erasure off.
KEHITTAMO_RETENTION_DAYS = int(os.environ.get("KEHITTAMO_RETENTION_DAYS", "180"))
# The controller (rekisterinpitäjä) named in the privacy notice and the accessibility statement.
KEHITTAMO_CONTROLLER_NAME = os.environ.get("KEHITTAMO_CONTROLLER_NAME", "Kehittämö-palvelun ylläpitäjä")
KEHITTAMO_CONTROLLER_ADDRESS = os.environ.get("KEHITTAMO_CONTROLLER_ADDRESS", "")
KEHITTAMO_PRIVACY_EMAIL = os.environ.get("KEHITTAMO_PRIVACY_EMAIL", "tietosuoja@example.fi")
KEHITTAMO_DPO_EMAIL = os.environ.get("KEHITTAMO_DPO_EMAIL", "")
KEHITTAMO_ACCESSIBILITY_EMAIL = os.environ.get("KEHITTAMO_ACCESSIBILITY_EMAIL", "saavutettavuus@example.fi")
# The supervisory authorities the two pages point to, with their public contact details. An empty name
# shows the authority's own name in the reader's language; the defaults are the real Finnish authorities.
KEHITTAMO_DATA_PROTECTION_AUTHORITY = {
    "name": os.environ.get("KEHITTAMO_DPA_NAME", ""),  # "": the Data Protection Ombudsman (tietosuojavaltuutettu)
    "url": os.environ.get("KEHITTAMO_DPA_URL", "https://tietosuoja.fi"),
    "email": os.environ.get("KEHITTAMO_DPA_EMAIL", "tietosuoja@om.fi"),
    "phone": os.environ.get("KEHITTAMO_DPA_PHONE", "029 566 6700"),
    "address": os.environ.get("KEHITTAMO_DPA_ADDRESS", "PL 800, 00531 Helsinki"),
}
KEHITTAMO_ACCESSIBILITY_AUTHORITY = {
    "name": os.environ.get("KEHITTAMO_ACCESSIBILITY_AUTHORITY_NAME", ""),  # "": Traficom's accessibility supervision
    "url": os.environ.get("KEHITTAMO_ACCESSIBILITY_AUTHORITY_URL", "https://www.saavutettavuusvaatimukset.fi"),
    "email": os.environ.get("KEHITTAMO_ACCESSIBILITY_AUTHORITY_EMAIL", "saavutettavuus@traficom.fi"),
    "phone": os.environ.get("KEHITTAMO_ACCESSIBILITY_AUTHORITY_PHONE", "029 534 5000"),
}
# When the accessibility statement was written or last reviewed (YYYY-MM-DD); the law asks for it on the page.
KEHITTAMO_ACCESSIBILITY_STATEMENT_DATE = date.fromisoformat(
    os.environ.get("KEHITTAMO_ACCESSIBILITY_STATEMENT_DATE", "2026-11-23")
)
# Rate limits on writes in a live workshop (config/throttle.py): (requests, seconds) per guest or account,
# per client address and per workshop. Sized for a 300-person hall behind one NAT address: a person writes
# at most 20 comments or ideas a minute, the hall together far below 1,500; joining allows the whole hall
# (and its typos) within ten minutes. RATE_LIMIT_FACTOR scales them all (bench/ raises them for its floods).
KEHITTAMO_RATE_LIMITS = {
    "post": {"guest": (20, 60), "address": (1500, 60), "workshop": (6000, 60)},
    "vote": {"guest": (120, 60), "address": (9000, 60), "workshop": (30000, 60)},
    "join": {"address": (600, 600), "workshop": (5000, 600)},
    # The group leader's summary saves itself a second after each pause in typing, so even a writer who
    # pauses after every word sends at most one save a second: 120 a minute is twice that; a script sending
    # hundreds meets it. A hall of 300 has about 60 leaders.
    "summary": {"guest": (120, 60), "address": (6000, 60), "workshop": (20000, 60)},
    # Calling the facilitator to a room: a few times a minute per person and per room, never hundreds.
    "help": {"guest": (6, 60), "room": (10, 60), "address": (600, 60), "workshop": (2000, 60)},
}
KEHITTAMO_RATE_LIMIT_FACTOR = float(os.environ.get("RATE_LIMIT_FACTOR", "1"))
