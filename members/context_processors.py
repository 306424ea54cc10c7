"""Template context shared by every page."""

from django.conf import settings


def network(request) -> dict:
    """Add ``network_name`` and ``network_mailbox`` to every template context."""
    return {
        "network_name": settings.NETWORK_MAILBOX_NAME,
        "network_mailbox": settings.NETWORK_MAILBOX,
    }
