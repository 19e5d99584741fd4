"""Settings shared by every environment. Deployment values come from the environment."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-secret-key-change-me")
DEBUG = env.bool("DEBUG", default=False)

# The platform host (agents, admin, platform API). Brand hosts are `<slug>.<ROOT_DOMAIN>`.
ROOT_DOMAIN = env("ROOT_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[ROOT_DOMAIN, f".{ROOT_DOMAIN}"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[f"http://{ROOT_DOMAIN}:8000", f"http://*.{ROOT_DOMAIN}:8000", f"https://{ROOT_DOMAIN}", f"https://*.{ROOT_DOMAIN}"],
)

# --- Applications -----------------------------------------------------------------
DJANGO_APPS_SHARED = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us: no CDN at run time
    "django_filters",
    "haystack",
    "csp",
    "axes",  # failed sign-ins per address and per username (login forms, both admins)
]
# Public schema: brands and domains, users and staffing, the routing state.
PLATFORM_APPS = [
    "tenants",
    "helpdesk",
    "routing",
]
# Interfaces over every app, no models: the agent's workspace, API and socket.
INTERFACE_APPS = [
    "workspace",
]
# Brand schemas: one copy per brand.
BRAND_APPS = [
    "chat",
    "knowledge",
    "surveys",
    "sla",
    "webhooks",
]

SHARED_APPS = ["django_tenants", *PLATFORM_APPS, *INTERFACE_APPS, *DJANGO_APPS_SHARED, *THIRD_PARTY_APPS]
TENANT_APPS = ["django.contrib.contenttypes", *BRAND_APPS]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Brand"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New brands are cloned from this migrated template schema instead of running every
# migration again (see docs/benchmarks.md for the difference).
TENANT_BASE_SCHEMA = "brand_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"

AUTH_USER_MODEL = "helpdesk.User"
# Axes first: it refuses a locked-out address or username before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/agent/login/"
LOGIN_REDIRECT_URL = "/agent/"

MIDDLEWARE = [
    # Static files first: they need no brand and no database, so /static/ answers even
    # when host resolution cannot (a database outage, an exhausted pool).
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the URL into the database: a NUL in it is a 400, not a 500.
    "tenants.middleware.NulRefusingMiddleware",
    "tenants.middleware.BrandHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "chat.locale.CustomerLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After CSP, so it sees the response first: pages exempt from X-Frame-Options (the
    # chat page) get `frame-ancestors *` instead of 'none'.
    "tenants.middleware.FramablePageMiddleware",
    "tenants.middleware.AdminLookupRefusingMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

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
                "tenants.context_processors.brand",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

# --- Data stores --------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/helpdesk")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Django's psycopg pool, one per server process, shared by every thread. Under ASGI each
# request runs in a thread of its own context, and with CONN_MAX_AGE > 0 every such thread
# kept its connection past its age: bursts took PostgreSQL to "too many clients". With the
# pool a request or a socket frame checks a connection out and gives it back when it ends
# (CONN_MAX_AGE=0, which Django requires with a pool), so one process never holds more than
# DB_POOL_MAX_SIZE; past that, requests wait up to DB_POOL_TIMEOUT for one instead of
# opening more. The pool keeps the connections open, so a frame pays a check-out, not a
# connect (docs/benchmarks.md: message latency). The process's whole bound, with the
# message path's own async connections, is DB_POOL_MAX_SIZE + ASYNC_DB_POOL_SIZE
# (docs/scaling.md). DB_POOL=false falls back to a connection per request, closed after.
DB_POOL = env.bool("DB_POOL", default=True)
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=2)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=10.0)
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The pool hands out only connections that passed its own check on return; health checks
# on every check-out would add a round trip to every frame.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DB_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DB_POOL_MIN_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        # Idle connections above min_size are closed after this long.
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=60.0),
    }
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis, separate databases: the channel layer, the Celery broker and the cache must
# not evict or flush each other.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379").rstrip("/")
REDIS_DB_CHANNELS = env.int("REDIS_DB_CHANNELS", default=0)
REDIS_DB_BROKER = env.int("REDIS_DB_BROKER", default=1)
REDIS_DB_CACHE = env.int("REDIS_DB_CACHE", default=2)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"{REDIS_URL}/{REDIS_DB_CACHE}",
        # Every key carries the brand schema, so one brand never reads another's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# Pub/sub, not the list-based core layer: a group send is one PUBLISH and a process gets
# its events pushed on one subscription, where the core layer pays several round trips per
# send and per receive (docs/benchmarks.md). Pub/sub delivers at most once, to processes
# listening at that moment; that is all the layer is for here: Postgres is the source of
# truth, every event is sent after its commit, and clients resume by sequence number.
# Redis pub/sub ignores database numbers, so the prefix keeps apart what the database
# number used to (a benchmark's or a test run's server beside `make run`).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "realtime.channel_layer.CoalescingPubSubChannelLayer",
        "CONFIG": {
            "hosts": [f"{REDIS_URL}/{REDIS_DB_CHANNELS}"],
            "prefix": env("CHANNEL_LAYER_PREFIX", default=f"helpdesk.{REDIS_DB_CHANNELS}."),
        },
    }
}

# --- Celery -------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=f"{REDIS_URL}/{REDIS_DB_BROKER}")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    # Deadlines are rows with a due time swept often, not long countdowns (a Redis broker
    # redelivers those after its visibility timeout).
    "routing-sweep": {"task": "routing.tasks.routing_sweep", "schedule": 5.0},
    "chat-sweep": {"task": "chat.tasks.chat_sweep", "schedule": 5.0},
    "reports-roll-up": {"task": "chat.tasks.reports_roll_up", "schedule": 300.0},
    "idempotency-prune": {"task": "tenants.tasks.idempotency_prune", "schedule": 3600.0},
    "attachments-prune": {"task": "chat.tasks.attachments_prune", "schedule": 3600.0},
    "sla-sweep": {"task": "sla.tasks.sla_sweep", "schedule": 5.0},
    "webhook-sweep": {"task": "webhooks.tasks.webhook_sweep", "schedule": 5.0},
}

# --- Search -------------------------------------------------------------------------
# One Whoosh index per brand under this folder (knowledge/search.py picks the path).
SEARCH_INDEX_ROOT = Path(env("SEARCH_INDEX_ROOT", default=str(BASE_DIR / ".data" / "search")))
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "knowledge.search_backend.BrandWhooshEngine",
        "PATH": str(SEARCH_INDEX_ROOT),
    }
}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

# --- Email --------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=1025)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"support@{ROOT_DOMAIN}")
# Per socket operation; without it a silent SMTP server holds a worker for ever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)
# How long a claimed send (chat.outbox) keeps others off the row once its sender's row
# lock is gone: longer than any SMTP conversation (several EMAIL_TIMEOUTs), because a
# sender whose database session was cut may still be talking to the server. A worker
# killed mid-send is resent this long (plus a sweep) after the kill.
OUTBOX_CLAIM_LEASE_SECONDS = env.float("OUTBOX_CLAIM_LEASE_SECONDS", default=300.0)

# --- API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Throttles count the client address DRF sees: X-Forwarded-For is trusted only for as
    # many proxies as are really in front (else any client could pick its own address).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    # Strict JSON (no NaN/Infinity, NUL, lone surrogates; depth <= 32): a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser", "rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"],
}
# The integration APIs (brand and platform, tenants.api.conventions): rates per caller (a
# brand API key or a staff token) and per client address, and the largest body accepted.
API_THROTTLE_RATES = {
    "api_caller": env("API_RATE_PER_CALLER", default="600/min"),
    "api_ip": env("API_RATE_PER_IP", default="1200/min"),
}
API_MAX_REQUEST_BYTES = env.int("API_MAX_REQUEST_BYTES", default=256 * 1024)
# Attachments (chat.attachments). Each brand sets its own limit (Brand.attachment_max_bytes);
# this is the server's ceiling over all of them, enforced while the upload streams in,
# so a lying or missing Content-Length cannot make the server take more.
ATTACHMENT_UPLOAD_MAX_BYTES = env.int("ATTACHMENT_UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
# Signed download links (the customer's <img> cannot send the conversation token): an
# hour in the chat (every fetch of the messages signs afresh), a week in an emailed transcript.
ATTACHMENT_LINK_SECONDS = env.int("ATTACHMENT_LINK_SECONDS", default=3600)
ATTACHMENT_EMAIL_LINK_SECONDS = env.int("ATTACHMENT_EMAIL_LINK_SECONDS", default=7 * 24 * 3600)
ATTACHMENT_THUMBNAIL_PIXELS = 320
# Files a chat may hold, and how long an upload no message sent is kept (hourly prune).
ATTACHMENT_MAX_PER_CONVERSATION = env.int("ATTACHMENT_MAX_PER_CONVERSATION", default=50)
ATTACHMENT_UNSENT_HOURS = env.int("ATTACHMENT_UNSENT_HOURS", default=24)
# Larger images are refused before decoding: a small file can unpack into gigabytes.
ATTACHMENT_MAX_IMAGE_PIXELS = env.int("ATTACHMENT_MAX_IMAGE_PIXELS", default=40_000_000)
# How long an Idempotency-Key's first answer is replayed (pruned hourly by beat).
API_IDEMPOTENCY_HOURS = env.int("API_IDEMPOTENCY_HOURS", default=24)
# Rate limits (tenants.throttles), "<count>/<second|minute|hour|day>"; 429 + Retry-After.
RATE_LIMITS = {
    "agent_token_ip": env("RATE_AGENT_TOKEN_IP", default="20/minute"),
    "agent_token_username": env("RATE_AGENT_TOKEN_USERNAME", default="10/minute"),
    "conversation_create_ip": env("RATE_CONVERSATION_CREATE_IP", default="20/minute"),
    "conversation_create_brand": env("RATE_CONVERSATION_CREATE_BRAND", default="600/minute"),
}
# Frames per socket (realtime.socket): a bucket of SOCKET_FRAME_BURST refilled at
# SOCKET_FRAME_RATE per second; far above what a person's client sends (a message or a
# typing change every few seconds), and above bench/message_latency's 300 frames in a
# row on one socket; it stops a runaway or hostile client, not a busy one. The bucket:
# SOCKET_FRAME_RATE per second. A frame over it gets an `error` frame `rate_limited`;
# a socket that keeps sending SOCKET_FRAME_STRIKES frames over it is closed (4429).
SOCKET_FRAME_RATE = env.float("SOCKET_FRAME_RATE", default=50.0)
SOCKET_FRAME_BURST = env.float("SOCKET_FRAME_BURST", default=500.0)
SOCKET_FRAME_STRIKES = env.int("SOCKET_FRAME_STRIKES", default=20)
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Widget, agent, brand and platform APIs of the live-chat helpdesk.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ConversationStateEnum": "chat.models.Conversation.State"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api_schema.error_responses"],
}

# --- I18N, static, media ------------------------------------------------------------
LANGUAGE_CODE = "en"
# The languages the customer's side speaks (catalogs in locale/, compiled .mo committed).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# How links in emails reach a brand host (scheme and, in development, the port).
SITE_SCHEME = env("SITE_SCHEME", default="http")
SITE_PORT_SUFFIX = env("SITE_PORT_SUFFIX", default=":8000")

# The websocket message path's own async PostgreSQL connections (chat.async_db), per
# server process, beside Django's one connection per thread.
ASYNC_DB_POOL_SIZE = env.int("ASYNC_DB_POOL_SIZE", default=10)
ASYNC_DB_POOL_TIMEOUT = env.float("ASYNC_DB_POOL_TIMEOUT", default=10.0)
# Customer messages are stored in batches (chat.async_messages): this many statements at
# a time, and what arrives meanwhile goes into the next.
ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT = env.int("ASYNC_DB_MESSAGE_BATCHES_IN_FLIGHT", default=2)

# --- Webhooks -----------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# As OUTBOX_CLAIM_LEASE_SECONDS, for a claimed delivery (a POST and up to 3 redirects).
WEBHOOK_CLAIM_LEASE_SECONDS = env.float("WEBHOOK_CLAIM_LEASE_SECONDS", default=120.0)
# Addresses or networks a webhook may reach although they are not public (development
# only: e.g. "127.0.0.1" for a receiver on this machine). Empty in production.
WEBHOOK_ALLOWED_DESTINATIONS = env.list("WEBHOOK_ALLOWED_DESTINATIONS", default=[])

# Presence from live sockets (routing.models.AgentSocket): each agent socket refreshes its
# row this often, and the sweep drops rows older than the TTL, so a socket whose server
# died without closing it is gone within TTL + one sweep (5 s), well inside a minute.
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=10.0)
PRESENCE_SOCKET_TTL_SECONDS = env.float("PRESENCE_SOCKET_TTL_SECONDS", default=30.0)

# Sign-in limits (django-axes): after AXES_FAILURE_LIMIT wrong passwords from one address,
# or for one username from anywhere, sign-in answers 429 with Retry-After for the cool-off,
# even with the right password. The counts live in the Redis cache (keys carry the schema,
# so a brand admin's failures count on that brand's host only). REMOTE_ADDR is the address
# (no ipware; behind a proxy run uvicorn with --proxy-headers).
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tenants.throttles.login_lockout_response"
AXES_CLIENT_IP_CALLABLE = "tenants.throttles.client_address"

# --- Security headers ----------------------------------------------------------------
# A Content-Security-Policy on every page (django-csp): scripts and styles only from our
# own origin, no inline script anywhere (the templates load ES modules by src). Inline
# style *attributes* are allowed (style-src-attr), since the support page sets the brand
# colour as a CSS variable on <body>; <style> blocks and inline script are not. Nothing
# may frame our pages (frame-ancestors 'none', and X-Frame-Options DENY) except the chat
# page, which the widget frames on the brand's own site (FramablePageMiddleware). The API
# docs (Swagger UI's own inline bootstrap script) are left out of the policy.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF],
        # 'self' covers ws:/wss: to the same host (the sockets).
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
