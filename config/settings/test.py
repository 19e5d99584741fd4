import os

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, DATABASES, REDIS_URL, env

# Each test run gets its own database, Redis key prefix and search folder, so runs on one
# machine (several developers' sessions, CI) never drop or read each other's data.
RUN_ID = env("TEST_RUN_ID", default=str(os.getpid()))
DATABASES["default"]["TEST"] = {"NAME": f"test_helpdesk_{RUN_ID}"}
if env.bool("TEST_WORKER", default=False):
    # A Celery worker started by a test connects straight to that run's test database.
    DATABASES["default"]["NAME"] = f"test_helpdesk_{RUN_ID}"

DEBUG = False
SECRET_KEY = "test-secret-key"
ROOT_DOMAIN = "localhost"
ALLOWED_HOSTS = [ROOT_DOMAIN, f".{ROOT_DOMAIN}", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests get Redis databases of their own so a running `make run` is never disturbed.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"{REDIS_URL}/12",
        "KEY_PREFIX": f"t{RUN_ID}",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "realtime.channel_layer.CoalescingPubSubChannelLayer",
        "CONFIG": {"hosts": [f"{REDIS_URL}/13"], "prefix": f"test{RUN_ID}."},
    }
}
CELERY_BROKER_URL = f"{REDIS_URL}/14"
CELERY_TASK_DEFAULT_QUEUE = f"celery-{RUN_ID}"  # a real worker in a test only takes this run's tasks
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

SEARCH_INDEX_ROOT = BASE_DIR / ".data" / "test-search" / RUN_ID
HAYSTACK_CONNECTIONS = {
    "default": {"ENGINE": "knowledge.search_backend.BrandWhooshEngine", "PATH": str(SEARCH_INDEX_ROOT)}
}
MEDIA_ROOT = BASE_DIR / ".data" / "test-media" / RUN_ID
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = env.int("TEST_SMTP_PORT", default=2526)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files are served from the app folders in tests; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests make many conversations and tokens from 127.0.0.1; the rate-limit tests set
# their own, lower, limits.
RATE_LIMITS = {scope: "100000/minute" for scope in ("agent_token_ip", "agent_token_username", "conversation_create_ip", "conversation_create_brand")}
# Other tests sign in many times with client.login() (no request for axes to read); the
# sign-in limit tests switch axes on for themselves.
AXES_ENABLED = False

# One test process is the test thread, a live server's threads, Channels' database threads
# and the concurrency tests' routers at once: more than one server process's share. A
# server started by a test with DB_POOL_MAX_SIZE set keeps its own bound.
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = env.int("DB_POOL_MAX_SIZE", default=25)
