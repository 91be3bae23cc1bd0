"""Settings for the test suite: dev settings with fast password hashing."""

from .dev import *  # noqa: F403
from .dev import AIADMIN

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AIADMIN = {
    **AIADMIN,
    # Test-only key (not a secret): tests replace it when they exercise rotation.
    "ENCRYPTION_KEYS": ["q1pk9nO1hM3wN9gC2i2oUe1n8yI4Y5lqR8m8tFfH0eU="],
}

# With PostgreSQL as the default, a second, SQLite database lets the constraint tests prove
# the database-level rules on both engines in one run.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["sqlite"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "test-sqlite.db", "TEST": {"NAME": None}}  # noqa: F405
