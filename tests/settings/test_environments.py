"""Settings per environment: the embedded default, services from the environment, and
production that refuses to start without its secrets and passes Django's deploy checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "standalone.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "Production-Secret-Key-For-Tests-0123456789abcdefgh",
        "DJANGO_ALLOWED_HOSTS": "aiadmin.example.com",
        "AIADMIN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    env.update(overrides)
    return env


SHOW_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['ENGINE']); print(settings.CACHES['default']['BACKEND'])"
)


def test_embedded_default_is_sqlite_and_local_memory_cache():
    result = run_python(SHOW_SETTINGS, DJANGO_SETTINGS_MODULE="standalone.settings.dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_database_and_redis_urls_select_postgresql_and_django_redis():
    result = run_python(
        SHOW_SETTINGS,
        DJANGO_SETTINGS_MODULE="standalone.settings.dev",
        DATABASE_URL="postgres://u@127.0.0.1:5432/db",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "django_redis.cache.RedisCache"]


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "AIADMIN_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = production_env()
    env[missing] = ""
    result = run_python("import django; django.setup()", **env)
    assert result.returncode != 0
    assert f"{missing} must be set in the environment for production" in result.stderr


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, **production_env(**env)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_the_deploy_checks_at_warning_level():
    # The checks only read the cache settings: no Redis server is needed here.
    result = check_deploy(REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_redis_is_told_to_share_the_cache():
    result = check_deploy()
    assert result.returncode != 0
    assert "(aiadmin.W023)" in result.stderr and "System check identified 1 issue" in result.stderr


def test_production_with_a_malformed_encryption_key_fails_the_checks():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**os.environ, **production_env(AIADMIN_ENCRYPTION_KEYS="short")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "aiadmin.E001" in result.stderr


def test_missing_security_middleware_still_fails_the_deploy_checks():
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.test.utils import override_settings\n"
        "from aiadmin.providers.checks import check_security_middleware\n"
        "with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if 'XFrame' not in m]):\n"
        "    print([w.id for w in check_security_middleware(None)])\n"
    )
    result = run_python(code, **production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['aiadmin.W002']"


SHOW_STORAGES = "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.STORAGES))"


@pytest.mark.parametrize("module", ["standalone.settings.dev", "standalone.settings.production"])
def test_the_media_storage_comes_from_the_environment(module):
    options = '{"bucket_name": "aiadmin-media", "region_name": "eu-central-1", "default_acl": "private"}'
    env = production_env() if module.endswith("production") else {"DJANGO_SETTINGS_MODULE": module}
    result = run_python(
        SHOW_STORAGES, **env, AIADMIN_STORAGE_BACKEND="storages.backends.s3.S3Storage", AIADMIN_STORAGE_OPTIONS=options
    )
    assert result.returncode == 0, result.stderr
    storages = json.loads(result.stdout)
    assert storages["default"] == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": json.loads(options)}
    static = "servestatic" if module.endswith("production") else "django.contrib.staticfiles"
    assert storages["staticfiles"]["BACKEND"].startswith(static)


def test_without_storage_variables_media_stays_on_the_local_disk():
    result = run_python(SHOW_STORAGES, **production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}}


@pytest.mark.parametrize("options", ["{bucket", '["a list"]'])
def test_malformed_storage_options_stop_the_start_with_the_variable_named(options):
    result = run_python("import django; django.setup()", **production_env(AIADMIN_STORAGE_OPTIONS=options))
    assert result.returncode != 0
    assert "AIADMIN_STORAGE_OPTIONS" in result.stderr


SHOW_AIADMIN = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({'AIADMIN': settings.AIADMIN, 'TIME_ZONE': settings.TIME_ZONE, "
    "'top_level': sorted(name for name in dir(settings) if name.startswith('AIADMIN_'))}))"
)


def test_the_environment_fills_the_aiadmin_dict_and_no_top_level_aiadmin_settings():
    key = Fernet.generate_key().decode()
    env = production_env(AIADMIN_ENCRYPTION_KEYS=f"{key},{key}", AIADMIN_TIME_ZONE="Pacific/Kiritimati", AIADMIN_ASGI_SYNC_THREADS="3")
    result = run_python(SHOW_AIADMIN, **env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["AIADMIN"] == {
        "ENCRYPTION_KEYS": [key, key],
        "DERIVE_ENCRYPTION_KEY": False,
        "TIME_ZONE": "Pacific/Kiritimati",
        "ASGI_SYNC_THREADS": 3,
    }
    assert shown["TIME_ZONE"] == "Pacific/Kiritimati"
    assert shown["top_level"] == []


def test_without_those_variables_the_aiadmin_defaults_apply():
    unset = {"AIADMIN_ENCRYPTION_KEYS": "", "AIADMIN_TIME_ZONE": "", "AIADMIN_ASGI_SYNC_THREADS": ""}
    result = run_python(SHOW_AIADMIN, DJANGO_SETTINGS_MODULE="standalone.settings.dev", **unset)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["AIADMIN"] == {"ENCRYPTION_KEYS": [], "DERIVE_ENCRYPTION_KEY": True, "TIME_ZONE": None, "ASGI_SYNC_THREADS": None}
    assert shown["TIME_ZONE"] == "UTC"
