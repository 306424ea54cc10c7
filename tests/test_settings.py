"""Settings read from the environment; unsafe production start-up is refused."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_settings(**env) -> subprocess.CompletedProcess:
    """Import config.settings in a fresh interpreter with exactly ``env`` (plus PATH)."""
    clean = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c",
         "import django; django.setup(); from django.conf import settings; "
         "print(settings.DATABASES['default']['ENGINE']); "
         "print(settings.MAILERS['default']['BACKEND']); "
         "print(settings.TASKS['default']['BACKEND']); print(settings.ALLOWED_HOSTS)"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False,
    )


def test_development_defaults_need_no_configuration():
    result = run_settings()
    assert result.returncode == 0, result.stderr
    engine, email_backend, task_backend, hosts = result.stdout.splitlines()
    assert engine == "django.db.backends.sqlite3"
    assert email_backend == "django.core.mail.backends.console.EmailBackend"
    assert task_backend == "django.tasks.backends.immediate.ImmediateBackend"
    assert "localhost" in hosts


def test_missing_secret_key_with_debug_off_stops_start_up_with_a_clear_message():
    result = run_settings(DEBUG="0", EMAIL_HOST="send.nhs.net")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_read_database_mail_and_hosts():
    result = run_settings(
        DEBUG="0", SECRET_KEY="x" * 50, EMAIL_HOST="send.nhs.net",
        DATABASE_URL="postgres://sighub@db.example:5432/sighub",
        ALLOWED_HOSTS="sighub.example.nhs.uk, www.sighub.example.nhs.uk",
    )
    assert result.returncode == 0, result.stderr
    engine, email_backend, task_backend, hosts = result.stdout.splitlines()
    assert engine == "django.db.backends.postgresql"
    assert email_backend == "django.core.mail.backends.smtp.EmailBackend"
    assert task_backend == "django_tasks_db.DatabaseBackend"
    assert hosts == "['sighub.example.nhs.uk', 'www.sighub.example.nhs.uk']"


def test_production_without_a_mail_transport_is_refused():
    result = run_settings(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "No mail transport" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_mistyped_boolean_is_refused(value):
    result = run_settings(DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_sqlite_writers_wait_for_the_lock_instead_of_failing():
    """Two requests writing at once on SQLite (the `make run` database) queue for the
    lock: IMMEDIATE transactions with a timeout (the newcomer test saw "database is
    locked" 500s from a double-submitted form). PostgreSQL gets no such options."""
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default'].get('OPTIONS', {}))")
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    sqlite = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    assert "'transaction_mode': 'IMMEDIATE'" in sqlite.stdout
    assert "'timeout': 20" in sqlite.stdout
    postgres = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True, env={**env, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"})
    assert "transaction_mode" not in postgres.stdout


@pytest.mark.parametrize("value", ["1,five,15", "1,-5", "1.5", "1;5;15"])
def test_mail_retry_minutes_must_be_whole_numbers(value):
    """A typo was a bare ValueError traceback from int(): now a clear message."""
    result = run_settings(MAIL_RETRY_MINUTES=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured: MAIL_RETRY_MINUTES must be a comma-separated list of " \
           "whole numbers of minutes, 0 or more" in result.stderr
    assert "ValueError" not in result.stderr


def test_mail_retry_minutes_accepts_a_list_and_zero():
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.MAIL_RETRY_MINUTES)")
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings",
           "MAIL_RETRY_MINUTES": " 0, 2 ,30"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0, 2, 30]"


@pytest.mark.parametrize("name, value, message", [
    ("MAIL_BATCH_SIZE", "0", "MAIL_BATCH_SIZE must be 1 or more, not 0."),
    ("MAIL_BATCH_SIZE", "-3", "MAIL_BATCH_SIZE must be 1 or more, not -3."),
    ("MAIL_SENDING_STALE_MINUTES", "1", "MAIL_SENDING_STALE_MINUTES must be 2 or more, not 1"),
    ("MAIL_SENDING_STALE_MINUTES", "0", "MAIL_SENDING_STALE_MINUTES must be 2 or more, not 0"),
])
def test_mail_batch_size_and_stale_minutes_are_checked(name, value, message):
    result = run_settings(**{name: value})
    assert result.returncode != 0
    assert message in result.stderr
