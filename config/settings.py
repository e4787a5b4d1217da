"""Cairn's one settings module. Every value comes from the environment (see README, "Configuration").

Production differs from development by environment values only: set DEBUG=false, SECRET_KEY and
ALLOWED_HOSTS, and `manage.py check --deploy` passes.
"""

import ipaddress
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# The default key is only good for development; `check --deploy` flags it (security.W009).
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-cairn-development-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as static files: no CDN
    "accounts",
    "integrity",
    "archives",
    "onboarding",
    "conversations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lib.middleware.ArchiveErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# Database: SQLite file by default, PostgreSQL when DATABASE_URL says so.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on `timeout`
            # instead of failing with "database is locked" when a read turns into a write.
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_TIMEOUT", default=20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Text archives (the archives app's source of truth) live under this root, written through the
# "archives" storage so that a shared store can be configured later without code changes.
CAIRN_ARCHIVE_ROOT = Path(env.str("CAIRN_ARCHIVE_ROOT", default=str(BASE_DIR / "var" / "archives")))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "archives": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(CAIRN_ARCHIVE_ROOT)},
    },
}

# Fernet keys that encrypt stored secrets (API keys), newest first; older keys still decrypt.
CAIRN_FERNET_KEYS = env.list("CAIRN_FERNET_KEYS", default=[])
for _key in CAIRN_FERNET_KEYS:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CAIRN_FERNET_KEYS: each key must be 32 url-safe base64-encoded bytes "
            "(make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc

# HTTPS hardening: on by default whenever DEBUG is off.
CAIRN_HTTPS = env.bool("CAIRN_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = CAIRN_HTTPS
SESSION_COOKIE_SECURE = CAIRN_HTTPS
CSRF_COOKIE_SECURE = CAIRN_HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if CAIRN_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = CAIRN_HTTPS
SECURE_HSTS_PRELOAD = CAIRN_HTTPS
if env.bool("CAIRN_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Django's own handlers already print its messages; don't print them twice through root.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- onboarding (issue 4) -------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "Cairn API",
    "DESCRIPTION": "Onboarding: website style detection and the wizard summary. Session authentication.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# The website analyzer: a dotted path to a class with analyze(url) and analyze_text(text) (onboarding.analyzer).
CAIRN_ONBOARDING_ANALYZER = env.str("CAIRN_ONBOARDING_ANALYZER", default="onboarding.analyzer.StatisticalAnalyzer")
# Networks the analyzer may fetch from although they are private, loopback or link-local (CIDRs,
# comma-separated). Empty in production: a user-supplied URL never reaches an internal address.
CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = env.list("CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS", default=[])
for _network in CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS: {_network!r} is not a network (e.g. 10.0.0.0/8)"
        ) from exc
CAIRN_ONBOARDING_FETCH_TIMEOUT = env.float("CAIRN_ONBOARDING_FETCH_TIMEOUT", default=10.0)
CAIRN_ONBOARDING_FETCH_MAX_BYTES = env.int("CAIRN_ONBOARDING_FETCH_MAX_BYTES", default=2 * 1024 * 1024)
CAIRN_ONBOARDING_FETCH_MAX_REDIRECTS = env.int("CAIRN_ONBOARDING_FETCH_MAX_REDIRECTS", default=5)


# --- conversations (issue 5) ----------------------------------------------------------------------
# Chat sessions end after this many minutes without a message (the next message starts a new one).
CONVERSATIONS_CHAT_INACTIVITY_MINUTES = env.int("CONVERSATIONS_CHAT_INACTIVITY_MINUTES", default=30)
# The messaging provider's shared secret: POST /api/conversations/messages must carry X-Cairn-Signature,
# an HMAC-SHA256 of the URL and the sorted form fields (Twilio's scheme). Empty: every webhook is refused.
CONVERSATIONS_WEBHOOK_SECRET = env.str("CONVERSATIONS_WEBHOOK_SECRET", default="")
# The public URL the provider posts to, when the app sits behind a proxy that rewrites host or scheme.
CONVERSATIONS_WEBHOOK_URL = env.str("CONVERSATIONS_WEBHOOK_URL", default="")
# Transcription backend (dotted path of a class with transcribe(path) -> str). The default runs offline.
CONVERSATIONS_TRANSCRIBER = env.str(
    "CONVERSATIONS_TRANSCRIBER", default="conversations.transcription.PocketSphinxTranscriber"
)
# The cloud backend (conversations.transcription.OpenAICompatibleTranscriber): endpoint, model and key.
CONVERSATIONS_TRANSCRIPTION_URL = env.str(
    "CONVERSATIONS_TRANSCRIPTION_URL", default="https://api.openai.com/v1/audio/transcriptions"
)
CONVERSATIONS_TRANSCRIPTION_MODEL = env.str("CONVERSATIONS_TRANSCRIPTION_MODEL", default="whisper-1")
CONVERSATIONS_TRANSCRIPTION_API_KEY = env.str("CONVERSATIONS_TRANSCRIPTION_API_KEY", default="")
# Uploaded audio: largest accepted file, longest accepted duration, and where files are stored.
CONVERSATIONS_AUDIO_MAX_BYTES = env.int("CONVERSATIONS_AUDIO_MAX_BYTES", default=25 * 1024 * 1024)
CONVERSATIONS_AUDIO_MAX_SECONDS = env.int("CONVERSATIONS_AUDIO_MAX_SECONDS", default=15 * 60)
CONVERSATIONS_AUDIO_ROOT = Path(env.str("CONVERSATIONS_AUDIO_ROOT", default=str(BASE_DIR / "var" / "audio")))
STORAGES["conversation_audio"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(CONVERSATIONS_AUDIO_ROOT)},
}
# Idempotency-Key records are kept this long; `heal` prunes older ones.
CONVERSATIONS_IDEMPOTENCY_TTL_HOURS = env.int("CONVERSATIONS_IDEMPOTENCY_TTL_HOURS", default=24)
# doctor flags a user who started more chat sessions than this within one hour (a returning race).
CONVERSATIONS_MAX_SESSIONS_PER_HOUR = env.int("CONVERSATIONS_MAX_SESSIONS_PER_HOUR", default=12)
