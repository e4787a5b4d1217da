import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "false",
    "SECRET_KEY": "x7#kQ9!pL2@vR5$wT8^yU1&zA4*bC6(dE3)fG0-hJ_mN+sP=qW[eR]tY{uI}oP",
    "ALLOWED_HOSTS": "cairn.example.org",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CAIRN_HTTPS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_defaults_fail_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={"DJANGO_SETTINGS_MODULE": "config.settings"})
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the development SECRET_KEY


def test_an_invalid_fernet_key_stops_start_up_with_a_clear_message():
    result = manage("check", env={**PRODUCTION, "CAIRN_FERNET_KEYS": "not-a-key"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: CAIRN_FERNET_KEYS" in result.stderr


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 5
    assert connection.settings_dict["TEST"]["NAME"] != ":memory:"
