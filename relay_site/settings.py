"""Settings for 1min-relay, read from the environment (see README for every variable)."""
from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from relay_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_host_ports,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"

DEBUG = env_bool("DJANGO_DEBUG", False)
# Without a configured secret each process gets a random one: fine for the API (it uses no
# sessions), but admin logins would not survive a restart, so production sets it.
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "api",
    "quotas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The admin's middleware. The API (/v1/, /healthz, /readyz, /metrics) is served without it
# (relay_site/api_handler.py): it uses no sessions, cookies, CSRF tokens or frames, and under
# ASGI each of these costs a thread hop per request. Middleware added to MIDDLEWARE and not
# listed here applies to the API too.
ADMIN_ONLY_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "relay_site.urls"
ASGI_APPLICATION = "relay_site.asgi.application"
APPEND_SLASH = False

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
            ],
        },
    },
]

# Embedded default: SQLite beside the code. DATABASE_URL (PostgreSQL) for shared deployments.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Redis Sentinel (failover): REDIS_URL names the monitored service, e.g. redis://mymaster/0,
# and REDIS_SENTINELS lists the sentinels as host:port,host:port.
REDIS_SENTINELS = env_host_ports("REDIS_SENTINELS")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "relay")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
    if REDIS_SENTINELS:
        CACHES["default"]["OPTIONS"].update(
            {
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": REDIS_SENTINELS,
            }
        )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "relay",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# JSON bodies larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_JSON_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# --- 1min.ai upstream -------------------------------------------------------------------------
ONE_MIN_BASE_URL = env_str("ONE_MIN_BASE_URL", "https://api.1min.ai").rstrip("/")
ONE_MIN_CHAT_API_URL = env_str("ONE_MIN_CHAT_API_URL", f"{ONE_MIN_BASE_URL}/api/chat-with-ai")
ONE_MIN_API_URL = env_str("ONE_MIN_API_URL", f"{ONE_MIN_BASE_URL}/api/features")
ONE_MIN_ASSET_URL = env_str("ONE_MIN_ASSET_URL", f"{ONE_MIN_BASE_URL}/api/assets")
ONE_MIN_MODELS_API_URL = env_str("ONE_MIN_MODELS_API_URL", f"{ONE_MIN_BASE_URL}/models")
ONE_MIN_CONVERSATION_API_URL = env_str(
    "ONE_MIN_CONVERSATION_API_URL", f"{ONE_MIN_BASE_URL}/api/conversations"
)
ONE_MIN_ASSET_CDN_URL = env_str("ONE_MIN_ASSET_CDN_URL", "https://asset.1min.ai").rstrip("/")

UPSTREAM_CONNECT_TIMEOUT = env_float("UPSTREAM_CONNECT_TIMEOUT", 10.0)
UPSTREAM_READ_TIMEOUT = env_float("UPSTREAM_READ_TIMEOUT", 120.0)
# Concurrent calls to 1min.ai per process (an open stream holds one for its whole length).
UPSTREAM_MAX_CONNECTIONS = env_int("UPSTREAM_MAX_CONNECTIONS", 1000, minimum=1)
# Idle connections kept open for reuse per process.
UPSTREAM_KEEPALIVE_CONNECTIONS = env_int("UPSTREAM_KEEPALIVE_CONNECTIONS", 100, minimum=0)

WEB_SEARCH_NUM_OF_SITE = env_int("WEB_SEARCH_NUM_OF_SITE", 1, minimum=1)
WEB_SEARCH_MAX_WORD = env_int("WEB_SEARCH_MAX_WORD", 500, minimum=1)

MODEL_CACHE_MEMORY_SECONDS = env_int("MODEL_CACHE_MEMORY_SECONDS", 300, minimum=0)
MODEL_CACHE_SHARED_SECONDS = env_int("MODEL_CACHE_SHARED_SECONDS", 3600, minimum=0)

# Image URLs in chat messages are fetched by the relay; these bound what a client can make it do.
IMAGE_FETCH_MAX_BYTES = env_int("IMAGE_FETCH_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
IMAGE_FETCH_TIMEOUT = env_float("IMAGE_FETCH_TIMEOUT", 15.0)
IMAGE_FETCH_MAX_REDIRECTS = env_int("IMAGE_FETCH_MAX_REDIRECTS", 3, minimum=0)
# Only for tests and demos on one machine: lets image URLs point at loopback/private addresses.
IMAGE_FETCH_ALLOW_PRIVATE = env_bool("IMAGE_FETCH_ALLOW_PRIVATE", False)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ["plain", "json"])
# One line per request from the relay (request id, status, timings, model, tokens). In plain
# format daphne's own access log already covers requests, so it is on by default only for JSON.
ACCESS_LOG = env_bool("ACCESS_LOG", LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "relay_site.log_format.PlainFormatter"},
        "json": {"()": "relay_site.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # httpx logs every request at INFO: noise on the hot path, and URLs are not for logs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Observability -------------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer METRICS_TOKEN` when this is set.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /readyz fails when the model list is older than this (1min.ai unreachable for that long).
READYZ_MODELS_MAX_AGE = env_int("READYZ_MODELS_MAX_AGE", 2 * MODEL_CACHE_SHARED_SECONDS + 600, minimum=1)
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 3.0)
