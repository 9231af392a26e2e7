"""Kaunti settings: one module, configured from the environment (README lists every variable).

`DEBUG` off is production: `SECRET_KEY` and `ALLOWED_HOSTS` must then be set, and every
security header is on. `make run` and `make test` set `DEBUG=1` themselves.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("KAUNTI_TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-" + "x" * 24

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

COUNTY_CODE = env.str("COUNTY_CODE", default="018")
# By default the port this process serves on (`make run PORT=8080` sets PORT), so links
# and receipts' QR codes lead back to it.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
# `make run` writes the address it serves on here, for `ussd_console` in another terminal.
RUN_URL_FILE = VAR_DIR / "run-url"

INSTALLED_APPS = [
    "kaunti.accounts.admin_site.KauntiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "kaunti.core",
    "kaunti.accounts",
    "kaunti.ledger",
    "kaunti.payments",
    "kaunti.eservices",
    "kaunti.land",
    "kaunti.ussd",
    "kaunti.demo",
    "kaunti.operations",
]

# Safaricom's callbacks never pass through this list: the WSGI lane hands them to their
# views (kaunti.payments.lane, ADR 8).
MIDDLEWARE = [
    "kaunti.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # During an upgrade: 503 to all but health checks and callbacks (ADR 22).
    "kaunti.core.maintenance.MaintenanceModeMiddleware",
    "kaunti.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL byte in the path, query or a form: 400, before a view makes a query of it.
    "kaunti.core.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kaunti.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kaunti.urls"
WSGI_APPLICATION = "kaunti.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kaunti" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kaunti.core.context_processors.county",
            ],
            # Money is written one way on every page, with no `{% load %}` to forget.
            "builtins": ["kaunti.core.templatetags.money"],
        },
    },
]

# --- Data -----------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kaunti.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", 0 if DEBUG else 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must take a small county's concurrency (callbacks arriving
    # together): one writer at a time, so a writer waits for the lock (timeout, seconds)
    # instead of failing; transactions take the write lock when they begin (IMMEDIATE), so
    # two readers never deadlock upgrading to writers ("database is locked" at once, which
    # no timeout waits out); WAL lets readers go on while one writes, and NORMAL syncing is
    # safe with WAL (a power cut may lose the last commits, never corrupt the file).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Values travel apart from the SQL (server-side binding), and a statement a connection
    # runs a fifth time is prepared: PostgreSQL no longer parses and plans it on every run
    # (ADR 13). Turn off behind a pooler in transaction mode (PgBouncer).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# An optional read replica (a streaming hot standby) for report reads only (ADR 24): the
# report selectors name it (`kaunti.core.db_router.replica_alias`); everything else, and
# every migration, stays on the primary. In tests it mirrors the primary's test database.
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url_config(_replica_url)
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["kaunti.core.db_router.PrimaryRouter"]

REDIS_URL = env.str("REDIS_URL", default="")
if TESTING and REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Tests clear the cache between them (a Redis FLUSHDB): each parallel worker of the
    # suite gets a database of its own, counting down from the one configured.
    _redis = urlsplit(REDIS_URL)
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    _database = (int(_redis.path.strip("/") or 0) - _worker) % 16
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_database}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "kaunti.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"kaunti{COUNTY_CODE}",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "kaunti" / "static"]

# Backups (ADR 20): the operator's key file, used when `manage.py backup` is given none,
# and the address of an S3-compatible store that is not AWS (MinIO, Ceph, a cloud's own).
BACKUP_KEY_FILE = env.str("BACKUP_KEY_FILE", default="")
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="")

# --- Users and sign-in ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["kaunti.accounts.hashers.QuickArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "accounts:my_account"

# django-axes: five failed staff sign-ins lock the account, and (separately) the address
# they came from, for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kaunti.accounts.views.locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "Kaunti"

# Citizen one-time codes (sent by SMS).
SIGN_IN_CODE_TTL_SECONDS = 300
SIGN_IN_CODE_MAX_ATTEMPTS = 5
SIGN_IN_CODE_SENDS_PER_PHONE_PER_HOUR = env.int("SIGN_IN_CODE_SENDS_PER_PHONE_PER_HOUR", default=5)
SIGN_IN_CODE_SENDS_PER_IP_PER_HOUR = env.int("SIGN_IN_CODE_SENDS_PER_IP_PER_HOUR", default=20)
PRIVACY_NOTICE_VERSION = "2026-11"

# --- Language and time -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("sw", _("Kiswahili"))]
LOCALE_PATHS = [BASE_DIR / "kaunti" / "locale"]
LANGUAGE_COOKIE_NAME = "kaunti_language"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Day-first dates and comma thousands in both languages (kaunti/formats/).
FORMAT_MODULE_PATH = ["kaunti.formats"]
USE_I18N = True
TIME_ZONE = "Africa/Nairobi"
USE_TZ = True

# --- Background work ------------------------------------------------------------------
from celery.schedules import crontab  # noqa: E402  (the schedule below is the one use)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Audit events are sealed into the chain by the sequencer's periodic task (ADR 19); with no
# broker to run it, each transaction that recorded events seals them once it commits.
AUDIT_SEAL_ON_COMMIT = env.bool("AUDIT_SEAL_ON_COMMIT", default=not CELERY_BROKER_URL)
# `make run` sets CELERY_BROKER_URL=filesystem://: kombu's filesystem transport, messages as
# files under CELERY_FILESYSTEM_DIR, so the demo's worker and beat need no broker server
# (ADR 18). Producers write where the worker reads: one folder in, one out.
CELERY_FILESYSTEM_DIR = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
    }
    for _folder in ("queue", "control", "processed"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
# `make run` prints the console backend's SMS on the terminal: its worker keeps stdout.
CELERY_WORKER_REDIRECT_STDOUTS = env.bool("CELERY_WORKER_REDIRECT_STDOUTS", default=True)
# Beat ticks only on the node holding a lease in Redis (when REDIS_URL is set), so several
# app nodes may each run beat and the schedule still runs once (kaunti.core.beat, ADR 18).
CELERY_BEAT_SCHEDULER = "kaunti.core.beat:LeasedScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
BEAT_LEASE_SECONDS = env.int("BEAT_LEASE_SECONDS", default=30)
# Runs of scheduled jobs (ScheduledJobRun) are kept this long, then pruned by a job itself.
SCHEDULED_JOB_RUNS_KEEP_DAYS = env.int("SCHEDULED_JOB_RUNS_KEEP_DAYS", default=30)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# SMS and email wait on outside gateways: their own queue, so a slow gateway never delays
# the recording of payments (a worker serves both: `celery -A kaunti worker -Q celery,notifications`).
CELERY_TASK_ROUTES = {"kaunti.core.tasks.send_notification*": {"queue": "notifications"}}
CELERY_BEAT_SCHEDULE = {
    "resend-stuck-notifications": {
        "task": "kaunti.core.tasks.send_pending_notifications",
        "schedule": 60.0,
    },
    "record-stored-paybill-confirmations": {
        "task": "kaunti.payments.tasks.retry_c2b_confirmations",
        "schedule": 30.0,
    },
    "apply-stored-stk-callbacks": {
        "task": "kaunti.payments.tasks.retry_stored_stk_callbacks",
        "schedule": 60.0,
    },
    "query-unanswered-stk-prompts": {
        "task": "kaunti.payments.tasks.resolve_pending_stk_requests",
        "schedule": 30.0,
    },
    "escalate-overdue-complaints": {
        "task": "kaunti.eservices.tasks.escalate_overdue_complaints_task",
        "schedule": 900.0,
    },
    # Idempotent: a month already charged is not charged again, so a rerun by hand is safe.
    "charge-monthly-land-penalties": {
        "task": "kaunti.land.tasks.apply_monthly_penalties_task",
        "schedule": crontab(minute=30, hour=2, day_of_month=1),
    },
    "prune-scheduled-job-runs": {
        "task": "kaunti.core.tasks.prune_scheduled_job_runs",
        "schedule": crontab(minute=15, hour=3),
    },
    # The audit chain's sequencer, for events whose own transaction's try found it busy,
    # and the hourly anchor of its head (ADR 19).
    "seal-audit-events": {
        "task": "kaunti.core.tasks.seal_audit_events",
        "schedule": 5.0,
    },
    "anchor-audit-chain": {
        "task": "kaunti.core.tasks.anchor_audit_chain",
        "schedule": 3600.0,
    },
}

# --- Notifications ----------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="console")  # console | file | africastalking
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="")
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="sandbox")
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_BASE_URL = env.str("AFRICASTALKING_BASE_URL", default="")
# Africa's Talking does not sign its callbacks (USSD, delivery reports, inbound SMS): when
# set, each must carry it as `?token=` in the URL registered with Africa's Talking. Without
# it anyone could post as any phone number (its bills, its M-Pesa prompts), so production
# refuses to start without one; development may leave it empty.
AFRICASTALKING_CALLBACK_TOKEN = env.str("AFRICASTALKING_CALLBACK_TOKEN", default="").strip()
if not DEBUG and not AFRICASTALKING_CALLBACK_TOKEN:
    raise ImproperlyConfigured("Set AFRICASTALKING_CALLBACK_TOKEN to a secret value in production.")
# USSD limits: against a script, not a person whose sessions drop and who dials again (a
# few a minute at most); steps per session far beyond what any menu needs.
USSD_SESSIONS_PER_PHONE_PER_MINUTE = env.int("USSD_SESSIONS_PER_PHONE_PER_MINUTE", default=10)
USSD_SESSIONS_PER_PHONE_PER_HOUR = env.int("USSD_SESSIONS_PER_PHONE_PER_HOUR", default=60)
USSD_STEPS_PER_SESSION = env.int("USSD_STEPS_PER_SESSION", default=40)
EMAIL_BACKEND_NAME = env.str("EMAIL_BACKEND", default="console")  # console | file | smtp
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}[EMAIL_BACKEND_NAME]
EMAIL_FILE_PATH = str(VAR_DIR / "email")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kaunti <no-reply@localhost>")
NOTIFICATION_MAX_ATTEMPTS = 6

# --- M-Pesa (Daraja) ----------------------------------------------------------------------
# Unset, Kaunti talks to the local Daraja simulator that `make run` starts.
MPESA_BASE_URL = env.str("MPESA_BASE_URL", default="http://127.0.0.1:8001")
MPESA_CONSUMER_KEY = env.str("MPESA_CONSUMER_KEY", default="demo")
MPESA_CONSUMER_SECRET = env.str("MPESA_CONSUMER_SECRET", default="demo")
MPESA_SHORTCODE = env.str("MPESA_SHORTCODE", default="174379")
# The Daraja sandbox's public test passkey (not a secret); production sets its own.
MPESA_PASSKEY = env.str(
    "MPESA_PASSKEY", default="bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
)
MPESA_CALLBACK_BASE_URL = env.str("MPESA_CALLBACK_BASE_URL", default=SITE_URL)
MPESA_CALLBACK_TOKEN = env.str("MPESA_CALLBACK_TOKEN", default="demo")
# The most M-Pesa takes in one payment (KES); a larger balance is prompted in parts.
MPESA_MAX_AMOUNT = env.int("MPESA_MAX_AMOUNT", default=250_000)
MPESA_C2B_REGISTER_VERSION = env.str("MPESA_C2B_REGISTER_VERSION", default="v2")
# Empty: any source address may post callbacks (the path token still applies).
MPESA_ALLOWED_IPS = env.list("MPESA_ALLOWED_IPS", default=[])
MPESA_STK_QUERY_AFTER_SECONDS = env.int("MPESA_STK_QUERY_AFTER_SECONDS", default=60)
MPESA_STK_MAX_QUERIES = env.int("MPESA_STK_MAX_QUERIES", default=10)
if not DEBUG and MPESA_CALLBACK_TOKEN == "demo":  # noqa: S105  (the demo value, refused)
    raise ImproperlyConfigured("Set MPESA_CALLBACK_TOKEN to a secret value in production.")

# --- HTTP API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with WWW-Authenticate, not 403.
        "kaunti.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kaunti.core.api.problem_details_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kaunti API",
    "DESCRIPTION": "County services and operations. Errors are RFC 9457 problem details.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several serializers have a `status` field with different choices: name them.
    "ENUM_NAME_OVERRIDES": {"BillStatusEnum": "kaunti.payments.models.BillStatus"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kaunti.core.api.document_refusals_of_every_operation",
    ],
}

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Behind a reverse proxy (nginx: deploy/nginx/kaunti.conf), the header in which it passes
# the client's address (`X-Real-IP`), taken only from the proxies gunicorn trusts
# (`FORWARDED_ALLOW_IPS`) or a unix socket: kaunti/core/proxy.py. Empty: REMOTE_ADDR as is.
PROXY_CLIENT_ADDRESS_HEADER = env.str("PROXY_CLIENT_ADDRESS_HEADER", default="")
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1"])

# --- Upgrades and maintenance mode (ADR 22, docs/operations/upgrade.md) ---------------------
MAINTENANCE_FLAG_FILE = env.str("MAINTENANCE_FLAG_FILE", default=str(VAR_DIR / "maintenance.json"))
# How often each process looks at the flag (seconds); `upgrade` waits this long after
# switching it on. Tests look every time.
MAINTENANCE_CHECK_SECONDS = env.float("MAINTENANCE_CHECK_SECONDS", default=0 if TESTING else 2)
MAINTENANCE_RETRY_AFTER_SECONDS = env.int("MAINTENANCE_RETRY_AFTER_SECONDS", default=600)
# The release being run, recorded by `upgrade` in the audit chain; unset: `git describe`.
KAUNTI_VERSION = env.str("KAUNTI_VERSION", default="")
BACKUP_DIR = env.str("BACKUP_DIR", default=str(VAR_DIR / "backups"))
# Run after migrations and collectstatic, e.g. "systemctl restart kaunti-web kaunti-worker
# kaunti-beat"; empty: nothing is restarted (the operator restarts the servers).
UPGRADE_RESTART_COMMAND = env.str("UPGRADE_RESTART_COMMAND", default="")
# Where the smoke checks send their requests after the restart, e.g. "http://127.0.0.1:8000";
# empty: in this process, through the whole Django stack.
UPGRADE_SMOKE_URL = env.str("UPGRADE_SMOKE_URL", default="")
UPGRADE_SMOKE_PATHS = env.list(
    "UPGRADE_SMOKE_PATHS", default=["/", "/api/v1/services/", "/healthz", "/readyz"]
)

# --- Logs -------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kaunti.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "kaunti.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Metrics (ADR 21) --------------------------------------------------------------------
# /metrics answers Prometheus with `Authorization: Bearer <METRICS_TOKEN>`; without a
# token set, only a signed-in ICT officer or the administrator. The middleware goes first,
# so a request's time includes every other middleware's.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
MIDDLEWARE.insert(0, "kaunti.core.metrics.middleware.MetricsMiddleware")

# --- Land -------------------------------------------------------------------------------
# The map needs no tiles from the internet; set a tile server (e.g. the county's own) to
# draw one under the parcels. The map page's Content-Security-Policy then allows it.
LAND_MAP_TILE_URL = env.str("LAND_MAP_TILE_URL", default="")
LAND_MAP_TILE_ATTRIBUTION = env.str("LAND_MAP_TILE_ATTRIBUTION", default="")
LAND_BALANCE_LOOKUPS_PER_IP_PER_HOUR = env.int("LAND_BALANCE_LOOKUPS_PER_IP_PER_HOUR", default=30)
