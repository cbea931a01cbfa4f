"""Settings shared by every environment.

Everything that differs between a laptop, CI and production is read from environment
variables; the README has one table of them. ``local``, ``test`` and ``production``
import this module and adjust what they must.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # modeltranslation must come before django.contrib.admin.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "csp",
    "cacaotours.users.apps.UsersConfig",
    "cacaotours.core.apps.CoreConfig",
    "cooperatives",
    "farms",
    "tours",
    "bookings",
]

MIDDLEWARE = [
    # First: times the whole request and writes its JSON log line (cacaotours/core/middleware.py).
    "cacaotours.core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves anonymous visitors' catalog pages it keeps, before the rest of the stack runs again.
    "cacaotours.core.caching.CatalogPageCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cacaotours.urls"
WSGI_APPLICATION = "cacaotours.wsgi.application"

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
                "cacaotours.core.context_processors.site",
                "cooperatives.context_processors.portal",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI (DATABASE_URL); SQLite file otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# Redis: Celery broker and cache. Unset means eager Celery and a local-memory cache.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, except that a Redis that does not answer is a miss, not a 500
            # (cacaotours/core/cache.py); the timeouts keep a hung Redis from hanging requests.
            "BACKEND": "cacaotours.core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cacaotours",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "cacaotours",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: English and Spanish; times are stored in UTC, shown in Lima.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en", "es")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["cacaotours.formats"]
TIME_ZONE = "America/Lima"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads: photos are validated and re-encoded by cacaotours.core.images.
PHOTO_MAX_BYTES = int(env("PHOTO_MAX_BYTES", str(12 * 1024 * 1024)))
PHOTO_MAX_PIXELS = int(env("PHOTO_MAX_PIXELS", str(40_000_000)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Catalog pages are cached for anonymous visitors (0 disables the cache).
CATALOG_CACHE_SECONDS = int(env("CATALOG_CACHE_SECONDS", "60"))
# Catalog fragment cache (cacaotours/core/fragments.py), for every visitor, signed in or not: the parts of
# catalog pages that change only when staff edit content (a tour's itinerary, gallery, facts, money split)
# are kept this long, per language, under the catalog version that the admin bumps on every edit
# (cacaotours/core/catalog_version.py). Live parts (seats left) are never cached. 0 turns it off.
# The test settings turn it off (like the page cache); tests/tours/test_fragment_cache.py turns it on.
CATALOG_FRAGMENT_SECONDS = env_int("CATALOG_FRAGMENT_SECONDS", 600)

# Celery
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Two queues: "celery" (webhook events, confirmations, e-mails, periodic tasks) and "routing"
# (one task per share or transfer reversal: slow Stripe calls). A worker started without -Q
# consumes both; in production a dedicated routing worker (-Q routing) keeps confirmations
# from waiting behind a backlog of transfers (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "routing": {}}
CELERY_TASK_ROUTES = {
    "cooperatives.tasks.share_route_task": {"queue": "routing"},
    "cooperatives.tasks.transfer_reversal_task": {"queue": "routing"},
}
# Celery's Django fixup closes the database connection after EVERY task unless this is set (a
# new PostgreSQL connection per task: ~1 ms of worker CPU and a backend fork each time). With
# it, connections are kept and cacaotours/celery.py applies Django's own rules around each task
# instead (close_old_connections: DB_CONN_MAX_AGE, health checks, broken connections).
CELERY_DB_REUSE_MAX = 1000
# Publishing fails fast when Redis is down: the outbox and sweepers make up for it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# Stripe: unset keys mean the simulated checkout (allowed only with DEBUG).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env("STRIPE_API_BASE", "")  # tests point stripe-python at a loopback server
STRIPE_TIMEOUT_SECONDS = float(env("STRIPE_TIMEOUT_SECONDS", "10"))

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Kallpa Travel <reservas@kallpa.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SITE_NAME = "Kallpa Travel · Cacao Routes of Cusco"
# Path of the Django admin under the language prefix ("kallpa-ops/" → /kallpa-ops/, /es/kallpa-ops/).
ADMIN_URL = (env("ADMIN_URL", "admin/") or "admin/").strip("/") + "/"
# The admin login is rate limited like allauth's (cacaotours/core/login_limits.py): failed attempts
# per client IP and per e-mail address within the window.
ADMIN_LOGIN_FAILURES_PER_IP = env_int("ADMIN_LOGIN_FAILURES_PER_IP", 10)
ADMIN_LOGIN_FAILURES_PER_USERNAME = env_int("ADMIN_LOGIN_FAILURES_PER_USERNAME", 5)
ADMIN_LOGIN_WINDOW_SECONDS = env_int("ADMIN_LOGIN_WINDOW_SECONDS", 15 * 60)

# Content-Security-Policy (django-csp 4): everything from this origin only, no inline script or
# style, no plugins, no framing. Forms may post to this site and be redirected to Stripe's hosted
# Checkout and Connect onboarding. Photos are served from MEDIA_URL on this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://checkout.stripe.com", "https://connect.stripe.com"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "cacaotours.core.jsonlog.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # One JSON line per request (cacaotours.core.middleware.RequestLogMiddleware), written at INFO:
        # REQUEST_LOG_LEVEL (default: LOG_LEVEL) = WARNING silences it.
        "cacaotours.request": {
            "handlers": ["json"],
            "level": env("REQUEST_LOG_LEVEL", env("LOG_LEVEL", "INFO")),
            "propagate": False,
        },
        "django.db.backends": {"level": "INFO"},
        # Eager tasks (make run) would log every task at INFO; workers log with -l info anyway.
        "celery.app.trace": {"level": env("CELERY_TRACE_LOG_LEVEL", "WARNING")},
        "kombu.connection": {"level": "ERROR"},
        # stripe-python logs two INFO lines per API call; its errors reach us as exceptions.
        "stripe": {"level": env("STRIPE_LOG_LEVEL", "WARNING")},
    },
}

# Bookings
BOOKING_HOLD_MINUTES = int(env("BOOKING_HOLD_MINUTES", "15"))
BOOKING_REMINDER_DAYS = 3
# Money events that bookings hands to the revenue-share ledger (same transaction; see docs/ledger.md).
BOOKING_PAYMENT_CAPTURED_HOOKS = ["cooperatives.services.shares_split_on_capture"]
BOOKING_PAYMENT_REFUNDED_HOOKS = ["cooperatives.services.shares_reverse_on_refund"]
BOOKING_PAYMENT_FEE_HOOKS = ["cooperatives.services.payment_fee_post"]
# Stripe events that belong to other apps: type → function(obj=...) run in the event's transaction.
STRIPE_EVENT_HOOKS = {"account.updated": "cooperatives.services.connected_account_updated"}
# Who bears Stripe's processing fee: "operator" (an expense of Kallpa) or "shared" (in proportion
# to the split, each recipient's part taken from its payable). See docs/ledger.md.
LEDGER_STRIPE_FEE_BORNE_BY = env("LEDGER_STRIPE_FEE_BORNE_BY", "operator")
if LEDGER_STRIPE_FEE_BORNE_BY not in ("operator", "shared"):
    raise ImproperlyConfigured('LEDGER_STRIPE_FEE_BORNE_BY must be "operator" or "shared".')
# The daily reconciliation looks at bookings whose ledger moved in this many days (0: all).
LEDGER_RECONCILE_DAYS = int(env("LEDGER_RECONCILE_DAYS", "35"))
# Routing of shares to recipients.
STRIPE_CALLS_PER_SECOND = int(env("STRIPE_CALLS_PER_SECOND", "20"))
# The simulated checkout stands in for Stripe only when no key is configured (never in production).
SIMULATED_CHECKOUT = not STRIPE_SECRET_KEY
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

CELERY_BEAT_SCHEDULE = {
    "release-expired-holds": {"task": "bookings.tasks.booking_expire_holds", "schedule": 60.0},
    "send-departure-reminders": {"task": "bookings.tasks.booking_reminders_send", "schedule": 3600.0},
    "retry-stuck-stripe-events": {"task": "bookings.tasks.stripe_events_retry_stuck", "schedule": 300.0},
    "bookings-sweep": {"task": "bookings.tasks.bookings_sweep", "schedule": 600.0},
    "routing-sweep": {"task": "cooperatives.tasks.routing_sweep", "schedule": 60.0},
    "reconcile-ledger": {"task": "cooperatives.tasks.ledger_reconcile", "schedule": crontab(hour=4, minute=15)},
}

# Accounts (django-allauth): e-mail is the login; passwords optional thanks to login by code.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "bookings:list"
# Members of a cooperative or fund land on their portal after signing in (cooperatives/accounts.py).
ACCOUNT_ADAPTER = "cooperatives.accounts.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
    "change_password": "5/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kallpa Travel] "
# Social providers can be added to INSTALLED_APPS (allauth.socialaccount.providers.*) and
# configured here; none is enabled by default (this platform may run without internet).
SOCIALACCOUNT_PROVIDERS: dict = {}
INVITATION_DAYS = 14
