"""Test settings: the real settings with a fast hasher, in-memory email, and plain HTTP."""

from .settings import *  # noqa: F403
from .settings import BASE_DIR, DATABASES, INSTALLED_APPS, STORAGES, env

# Models with every kind of relation a merge must handle (tests/mergeapp); never installed outside tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.mergeapp"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The test client speaks plain HTTP; production mode is tested by running `check --deploy`.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# The manifest exists only after collectstatic; tests render templates without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

# Concurrency tests need a file, not ":memory:", so that threads share one database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": env.str("CAIRN_TEST_SQLITE", default=str(BASE_DIR / ".test-db.sqlite3"))}

# Serve static files from the app folders, as in development (there is no collectstatic in tests).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = True
