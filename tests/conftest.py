"""Shared fixtures. Factories live in tests/factories.py."""

import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def _immediate_tasks_and_locmem_mail(settings):
    """Tests run tasks immediately and collect mail in ``django.core.mail.outbox``
    (pytest-django swaps every MAILERS backend for locmem)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.SITE_URL = "https://sighub.example.nhs.uk"
    mail.outbox = []


@pytest.fixture(autouse=True)
def _private_files_in_tmp(settings, tmp_path, monkeypatch):
    """Papers uploaded by a test land in its own temporary folder, never in ./private.

    ``PaperVersion.file`` evaluated its storage once, when the model loaded, so
    the field's storage is pointed at the same folder as ``STORAGES["papers"]``.
    """
    from django.core.files.storage import FileSystemStorage

    from events.models import PaperVersion

    monkeypatch.setattr(
        PaperVersion._meta.get_field("file"), "storage",
        FileSystemStorage(location=tmp_path / "private", base_url=None),
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "papers": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
