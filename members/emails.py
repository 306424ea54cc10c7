"""Which email addresses count as NHS work addresses."""

from django.conf import settings


def is_nhs_address(address: str) -> bool:
    """True if ``address`` is at an allowed NHS domain.

    By default ``@nhs.net`` (NHSmail) or any domain ending ``.nhs.uk`` (trust
    domains); configured with ``ALLOWED_EMAIL_DOMAINS`` and
    ``ALLOWED_EMAIL_DOMAIN_SUFFIXES``. Comparison ignores case and spaces.
    ``nhs.uk`` itself and look-alikes such as ``evilnhs.uk`` are refused: a
    suffix must match at a dot.
    """
    address = (address or "").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return False
    if domain in {d.lower() for d in settings.ALLOWED_EMAIL_DOMAINS}:
        return True
    for suffix in settings.ALLOWED_EMAIL_DOMAIN_SUFFIXES:
        suffix = suffix.lower()
        if not suffix.startswith("."):
            suffix = "." + suffix
        if domain.endswith(suffix) and len(domain) > len(suffix):
            return True
    return False


def allowed_domains_text() -> str:
    """The allowed domains as a phrase: ``"@nhs.net or an address ending .nhs.uk"``."""
    parts = [f"@{d}" for d in settings.ALLOWED_EMAIL_DOMAINS]
    parts += [f"an address ending {s if s.startswith('.') else '.' + s}"
              for s in settings.ALLOWED_EMAIL_DOMAIN_SUFFIXES]
    return " or ".join(parts)
