"""Settings for 1min-relay, read from the environment (see README for every variable)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from relay_site import redis_backends
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
# The localhost default suits local runs; `manage.py check --deploy` fails (relay.E001) when
# DEBUG is off and DJANGO_ALLOWED_HOSTS was not set (relay_site/checks.py).
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
ALLOWED_HOSTS_CONFIGURED = "DJANGO_ALLOWED_HOSTS" in os.environ
SECRET_KEY_CONFIGURED = bool(env_str("DJANGO_SECRET_KEY"))

# Served over HTTPS (directly or behind a TLS proxy): secure cookies, HSTS, HTTP -> HTTPS redirect.
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("DJANGO_HSTS_PRELOAD", False)
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself; otherwise clients could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "api",
    "quotas",
    "keys",
    "live",
]

MIDDLEWARE = [
    "api.cors.RelayCorsMiddleware",  # first, so preflights and errors get CORS headers too
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
# ASGI each of these costs a thread hop per request. SecurityMiddleware and CommonMiddleware's host
# check run there in an inline form. Middleware added to MIDDLEWARE and not listed here applies to
# the API too.
ADMIN_ONLY_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
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
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    # var/ is not in the repository: create it so `manage.py migrate` (or any command) works on a
    # fresh checkout, not only after `make run`.
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite allows one writer at a time: wait for the lock instead of failing with "database is
    # locked", and take it at the start of a transaction so two writers never deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Redis Sentinel (failover): REDIS_URL names the monitored service, e.g. redis://mymaster/0,
# and REDIS_SENTINELS lists the sentinels as host:port,host:port.
REDIS_SENTINELS = env_host_ports("REDIS_SENTINELS")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "relay")
# In process on the embedded defaults; Redis (through Sentinel when set) otherwise: the cache, and
# the Channels layer the live view and the cross-process cache signals ride on (relay_site/redis_backends.py).
CACHES = redis_backends.caches(REDIS_URL, REDIS_SENTINELS, CACHE_KEY_PREFIX)
CHANNEL_LAYERS = redis_backends.channel_layers(REDIS_URL, REDIS_SENTINELS, CACHE_KEY_PREFIX)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Bodies larger than these are refused with 413 by daphne's HTTP layer before they are read
# (relay_site/body_limits.py); Django's own check is a second line for other servers.
MAX_JSON_BODY_BYTES = env_int("MAX_JSON_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)
# Audio uploads: MAX_AUDIO_UPLOAD_BYTES (below) plus room for the rest of the form; admin: 1 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_JSON_BODY_BYTES
# Multipart forms: bounded parts (Django raises TooManyFieldsSent / TooManyFilesSent -> 400).
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("MAX_FORM_FIELDS", 100, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("MAX_FORM_FILES", 20, minimum=1)
# JSON nested deeper than this is refused with a 400 (api/parsers.py).
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 64, minimum=8)
# Request line + headers, in bytes, and the number of header lines (twisted answers 400 past them).
MAX_HEADER_BYTES = env_int("MAX_HEADER_BYTES", 16384, minimum=1024)
MAX_HEADER_COUNT = env_int("MAX_HEADER_COUNT", 100, minimum=10)
# SIGTERM: in-flight requests and streams get this long to finish (relay_site/shutdown.py).
SHUTDOWN_GRACE_SECONDS = env_float("SHUTDOWN_GRACE_SECONDS", 20.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

# The OpenAPI document at /v1/openapi.json and its pages (/v1/docs, /v1/redoc), assets served locally.
SPECTACULAR_SETTINGS = {
    "TITLE": "1min-relay",
    "DESCRIPTION": "OpenAI-compatible API in front of 1min.ai. Send your 1min.ai key as the bearer token.",
    "VERSION": VERSION,
    "SCHEMA_PATH_PREFIX": "/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "APPEND_COMPONENTS": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "SECURITY": [{"bearer": []}],
    "DISABLE_ERRORS_AND_WARNINGS": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.openapi.base.require_request_bodies"],
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

# The relay's fast paths past Django's and adrf's stock request handling (relay_site/api_handler.py,
# api/views/base.py). Off only to measure what they save (bench/bypasses.py); never needed in service.
FRAMEWORK_FAST_PATHS = env_bool("FRAMEWORK_FAST_PATHS", True)

UPSTREAM_CONNECT_TIMEOUT = env_float("UPSTREAM_CONNECT_TIMEOUT", 10.0)
UPSTREAM_READ_TIMEOUT = env_float("UPSTREAM_READ_TIMEOUT", 120.0)
# Concurrent calls to 1min.ai per process (an open stream holds one for its whole length).
UPSTREAM_MAX_CONNECTIONS = env_int("UPSTREAM_MAX_CONNECTIONS", 1000, minimum=1)
# Idle connections kept open for reuse per process.
UPSTREAM_KEEPALIVE_CONNECTIONS = env_int("UPSTREAM_KEEPALIVE_CONNECTIONS", 100, minimum=0)
# The HTTP client under httpx's interface: "aiohttp" (aiohttp's client, less CPU per call;
# see bench/reports) or "httpx" (httpx's own httpcore transport, the fallback).
UPSTREAM_TRANSPORT = env_choice("UPSTREAM_TRANSPORT", "aiohttp", ["aiohttp", "httpx"])
# Largest non-streamed answer read from 1min.ai (JSON); a larger one is a 502, not a memory spike.
UPSTREAM_MAX_RESPONSE_BYTES = env_int("UPSTREAM_MAX_RESPONSE_BYTES", 16 * 1024 * 1024, minimum=1024)
# Longest silence inside a started stream before it ends with an error event (0: the read timeout).
UPSTREAM_STREAM_IDLE_TIMEOUT = env_float("UPSTREAM_STREAM_IDLE_TIMEOUT", 0.0)
# Retries only for calls 1min.ai cannot have run (see api/upstream/retry_policy.py): backoff with full
# jitter from the base delay; Retry-After honoured up to the max wait (longer: no retry).
UPSTREAM_MAX_RETRIES = env_int("UPSTREAM_MAX_RETRIES", 2, minimum=0)
UPSTREAM_RETRY_BASE_DELAY = env_float("UPSTREAM_RETRY_BASE_DELAY", 0.5)
UPSTREAM_RETRY_MAX_WAIT = env_float("UPSTREAM_RETRY_MAX_WAIT", 10.0)

WEB_SEARCH_NUM_OF_SITE = env_int("WEB_SEARCH_NUM_OF_SITE", 1, minimum=1)
WEB_SEARCH_MAX_WORD = env_int("WEB_SEARCH_MAX_WORD", 500, minimum=1)

# Chat model for chat completions, Responses and Messages requests that name none (as the original
# relay did). Aliases apply to it too.
DEFAULT_MODEL = env_str("DEFAULT_MODEL", "open-mistral-nemo").strip()
# Seeds for the admin's model aliases, `alias=target,alias=target` (docs/models-and-aliases.md):
# rows are created at start-up when missing and never overwritten; bad syntax fails `check` (relay.E040).
MODEL_ALIASES = env_str("MODEL_ALIASES", "")
# Anthropic Messages (/v1/messages): the largest max_tokens the relay applies and reserves; larger
# values (Claude Code asks for 128000) are clamped to it, not refused.
ANTHROPIC_MAX_TOKENS_CAP = env_int("ANTHROPIC_MAX_TOKENS_CAP", 16384, minimum=1)

MODEL_CACHE_MEMORY_SECONDS = env_int("MODEL_CACHE_MEMORY_SECONDS", 300, minimum=0)
MODEL_CACHE_SHARED_SECONDS = env_int("MODEL_CACHE_SHARED_SECONDS", 3600, minimum=0)

# Image URLs in chat messages are fetched by the relay; these bound what a client can make it do.
IMAGE_FETCH_MAX_BYTES = env_int("IMAGE_FETCH_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
IMAGE_FETCH_TIMEOUT = env_float("IMAGE_FETCH_TIMEOUT", 15.0)
IMAGE_FETCH_MAX_REDIRECTS = env_int("IMAGE_FETCH_MAX_REDIRECTS", 3, minimum=0)
# Per request: how many images, how many bytes of them together, how many fetched/uploaded at once.
MAX_IMAGES_PER_REQUEST = env_int("MAX_IMAGES_PER_REQUEST", 16, minimum=1)
IMAGE_REQUEST_MAX_BYTES = env_int("IMAGE_REQUEST_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
IMAGE_FETCH_CONCURRENCY = env_int("IMAGE_FETCH_CONCURRENCY", 4, minimum=1)
# Processes for long pure-Python CPU work (WAV to PCM); 0 runs it on a thread of this process.
CPU_WORKER_PROCESSES = env_int("CPU_WORKER_PROCESSES", 1, minimum=0)
# Only for tests and demos on one machine: lets image URLs point at loopback/private addresses.
IMAGE_FETCH_ALLOW_PRIVATE = env_bool("IMAGE_FETCH_ALLOW_PRIVATE", False)
# Exceptions to the rule above, as exact `address:port` pairs (`[v6]:port`), e.g. an internal
# image server; redirects are checked against the same list.
IMAGE_FETCH_PRIVATE_ALLOWLIST = env_list("IMAGE_FETCH_PRIVATE_ALLOWLIST", [])

# --- CORS (browsers) for /v1/ only: keys travel as bearer tokens, not cookies, so any origin
# may call by default; CORS_ALLOWED_ORIGINS narrows it. The admin gets no CORS headers.
CORS_URLS_REGEX = r"^/v1/"
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = [
    "accept", "authorization", "content-type", "x-api-key", "openai-beta", "openai-organization",
    "openai-project", "x-request-id", "idempotency-key",
    "anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access",
]
# Further request headers a preflight may name (api/cors.py): the SDKs' x-stainless-* family.
CORS_ALLOWED_HEADER_PATTERNS = r"x-stainless-[a-z0-9-]+|openai-[a-z0-9-]+|anthropic-[a-z0-9-]+"
CORS_EXPOSE_HEADERS = [
    "x-request-id", "request-id", "retry-after", "retry-after-ms", "openai-processing-ms", "openai-version", "x-websearch-degraded",
    "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
]
CORS_PREFLIGHT_MAX_AGE = 600

# --- Relay keys and the upstream key pool (keys/) ----------------------------------------------
# passthrough: the client's key is its 1min.ai key. managed: clients present relay keys and the
# relay draws 1min.ai keys from its pool. both: `rk-…` keys are relay keys, others pass through.
RELAY_AUTH_MODE = env_choice("RELAY_AUTH_MODE", "passthrough", ("passthrough", "managed", "both"))
# The original relay's gate (passthrough only; relay.E041 refuses other modes): when set, the only
# key accepted is this one, which is then forwarded to 1min.ai, so it is a 1min.ai key.
AUTH_TOKEN = env_str("AUTH_TOKEN").strip()
# In passthrough, a client key 1min.ai refused is remembered (by fingerprint) this long, so that
# GET /v1/models, which costs 1min.ai nothing and so never asks it, refuses the key too (0: off).
REFUSED_KEY_MEMORY_SECONDS = env_int("REFUSED_KEY_MEMORY_SECONDS", 900, minimum=0)
# Fernet key(s) encrypting the pool's 1min.ai keys; comma-separated to rotate (first encrypts).
RELAY_ENCRYPTION_KEY = env_str("RELAY_ENCRYPTION_KEY")
UPSTREAM_KEY_POLICY = env_choice(
    "UPSTREAM_KEY_POLICY", "round_robin", ("round_robin", "least_recently_used")
)
UPSTREAM_KEY_COOLDOWN_SECONDS = env_float("UPSTREAM_KEY_COOLDOWN_SECONDS", 60.0)
# The longest cool-down whatever 1min.ai's Retry-After asks (it has asked for an hour).
UPSTREAM_COOLDOWN_MAX_SECONDS = env_float("UPSTREAM_COOLDOWN_MAX_SECONDS", 300.0)
# The cool-down of the pool's last usable key when 1min.ai refuses it without a Retry-After.
UPSTREAM_LAST_KEY_COOLDOWN_SECONDS = env_float("UPSTREAM_LAST_KEY_COOLDOWN_SECONDS", 5.0)
# Longest a process trusts its copy of a relay key or of the pool without asking again.
RELAY_KEY_CACHE_SECONDS = env_float("RELAY_KEY_CACHE_SECONDS", 60.0)
# How often a process checks the shared change counter (revocations reach it this fast).
RELAY_KEY_SYNC_SECONDS = env_float("RELAY_KEY_SYNC_SECONDS", 2.0)
# Relay-key last-used times and upstream-key counts are written at most this often per process.
RELAY_KEY_ACTIVITY_FLUSH_SECONDS = env_float("RELAY_KEY_ACTIVITY_FLUSH_SECONDS", 10.0)
# Lookups of unknown relay keys a client (IP, or IPv6 network) may cause per minute; past it, its
# unknown keys get a 429 without reaching the database for the rest of the minute. 0: no limit.
RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE = env_int("RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE", 30, minimum=0)

# --- media endpoints (images, audio) ------------------------------------------------------------
# Used when a client names no image model; if it is not an active image model, the first one is.
DEFAULT_IMAGE_MODEL = env_str("DEFAULT_IMAGE_MODEL", "gpt-image-1-mini")
# OpenAI's limit for transcription and translation uploads (25 MB).
MAX_AUDIO_UPLOAD_BYTES = env_int("MAX_AUDIO_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1024)
# Largest generated file (image for b64_json, speech audio) the relay downloads from 1min.ai.
ASSET_FETCH_MAX_BYTES = env_int("ASSET_FETCH_MAX_BYTES", 100 * 1024 * 1024, minimum=1024)

# --- Limits, quotas and usage accounting (quotas/) ---------------------------------------------
# Peers whose X-Forwarded-For is believed (comma-separated CIDRs); everyone else is REMOTE_ADDR.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
# IPv6 clients are counted by network: addresses sharing their first CLIENT_IPV6_PREFIX bits are
# one client for limits and usage (one /64 is what a single host or subscriber is given).
CLIENT_IPV6_PREFIX = env_int("CLIENT_IPV6_PREFIX", 64, minimum=0)
if CLIENT_IPV6_PREFIX > 128:
    raise ImproperlyConfigured(f"CLIENT_IPV6_PREFIX must be at most 128, not {CLIENT_IPV6_PREFIX}")
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
# The default policy's values; the admin's "default" policy inherits them for every blank field.
RATE_LIMIT_REQUESTS_PER_MINUTE = env_int("RATE_LIMIT_REQUESTS_PER_MINUTE", 180, minimum=0)
RATE_LIMIT_TOKENS_PER_MINUTE = env_int("RATE_LIMIT_TOKENS_PER_MINUTE", 100000, minimum=0)
RATE_LIMIT_DAILY_TOKENS = env_int("RATE_LIMIT_DAILY_TOKENS", 0, minimum=0)
RATE_LIMIT_MONTHLY_TOKENS = env_int("RATE_LIMIT_MONTHLY_TOKENS", 0, minimum=0)
RATE_LIMIT_ALLOWED_MODELS = env_list("RATE_LIMIT_ALLOWED_MODELS", [])
RATE_LIMIT_DEFAULT_OUTPUT_TOKENS = env_int("RATE_LIMIT_DEFAULT_OUTPUT_TOKENS", 1024, minimum=0)
RATE_LIMIT_FAIL_MODE = env_str("RATE_LIMIT_FAIL_MODE", "open").strip().lower()
# The longest a limit check waits on Redis for each of: a free pooled connection, connecting, an
# answer. A healthy Redis answers in milliseconds; this bound is for a busy process (a late event
# loop reads replies late) and a hung Redis. Only refusals, or waits with nothing answering
# meanwhile, count as an outage (see docs/limits.md).
RATE_LIMIT_REDIS_TIMEOUT = env_float("RATE_LIMIT_REDIS_TIMEOUT", 5.0, minimum=0.01)
# Connections each process keeps to Redis for the limits; more callers wait for one.
RATE_LIMIT_REDIS_MAX_CONNECTIONS = env_int("RATE_LIMIT_REDIS_MAX_CONNECTIONS", 50, minimum=1)
QUOTA_POLICY_REFRESH_SECONDS = env_float("QUOTA_POLICY_REFRESH_SECONDS", 2.0, minimum=0.0)
USAGE_ENABLED = env_bool("USAGE_ENABLED", True)
USAGE_FLUSH_SECONDS = env_float("USAGE_FLUSH_SECONDS", 1.0, minimum=0.01)
USAGE_BATCH_SIZE = env_int("USAGE_BATCH_SIZE", 500, minimum=1)
USAGE_RETENTION_DAYS = env_int("USAGE_RETENTION_DAYS", 90, minimum=1)
USAGE_ROLLUP_RETENTION_DAYS = env_int("USAGE_ROLLUP_RETENTION_DAYS", 800, minimum=1)

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

# Responses API: stored responses (store=true) are kept this many days, then no longer served
# and removed by `manage.py prune_responses`.
RESPONSES_RETENTION_DAYS = env_int("RESPONSES_RETENTION_DAYS", 30, minimum=1)

# --- Observability -------------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer METRICS_TOKEN` when this is set.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /readyz fails when the model list is older than this (1min.ai unreachable for that long).
READYZ_MODELS_MAX_AGE = env_int("READYZ_MODELS_MAX_AGE", 2 * MODEL_CACHE_SHARED_SECONDS + 600, minimum=1)
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 3.0)
# The admin's live view (live/, docs/live-view.md): off, the API records nothing for it and its
# WebSocket refuses everyone. Each process sends what changed to the others this often.
LIVE_VIEW = env_bool("LIVE_VIEW", True)
LIVE_PUBLISH_SECONDS = env_float("LIVE_PUBLISH_SECONDS", 0.25, minimum=0.05)
