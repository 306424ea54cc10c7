"""One-click unsubscribe links (RFC 8058) for notices, signed so they need no sign-in.

A link names one person, the address the notice went to, and the list: one
group (a SIG's or a task-and-finish group's notices) or the groups of a
weekly digest. It is signed with ``django.core.signing`` under its own salt,
so it cannot be made for another address or list, nor altered: any change
to the token fails its signature. It does not expire, because a notice in
someone's mailbox keeps its link for years (RFC 8058 section 3 only asks
that the URI identify the list and recipient and be hard to forge).

Following a link (GET) only shows a confirmation page: mail scanners fetch
links, and must not unsubscribe anyone. A POST of ``List-Unsubscribe=One-Click``
(what a mail client sends, RFC 8058 section 3.1; the confirmation page's
button sends the same) sets that person's preference for those groups to
"not at all".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "members.mail.unsubscribe.v1"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


class UnsubscribeLinkError(ValueError):
    """The link is forged, altered, cut short, or names people or groups we do not have."""


@dataclass(frozen=True)
class UnsubscribeRequest:
    """What a valid token names.

    Attributes:
        person_id: the person's primary key.
        email: the address the notice was sent to (lower-case).
        group_ids: the groups whose notices to stop (one, or a digest's groups).
    """

    person_id: int
    email: str
    group_ids: tuple[int, ...]


def unsubscribe_token(*, person, email: str, groups) -> str:
    """A signed, URL-safe token naming ``person`` (by id), ``email`` and ``groups``.

    Args:
        person: a :class:`~members.models.Person`.
        email: the address the notice goes to.
        groups: one :class:`~members.models.Group` or an iterable of them.

    Returns a string of ``[A-Za-z0-9_:-]`` (safe in a URL path).
    """
    if hasattr(groups, "pk"):
        groups = [groups]
    group_ids = sorted({group.pk for group in groups})
    return signing.dumps({"p": person.pk, "e": email.strip().lower(), "g": group_ids},
                         salt=SALT, compress=True)


def unsubscribe_url(*, person, email: str, groups) -> str:
    """The absolute https URL (``settings.SITE_URL``) of the one-click unsubscribe link."""
    token = unsubscribe_token(person=person, email=email, groups=groups)
    return settings.SITE_URL + reverse("members:unsubscribe", kwargs={"token": token})


def unsubscribe_read(token: str) -> UnsubscribeRequest:
    """Check a token's signature and read what it names.

    Raises :class:`UnsubscribeLinkError` for a forged, altered or malformed
    token (never anything else). Whether the person, address and groups
    still exist is checked by :func:`members.mail.notices.unsubscribe_apply`.
    """
    try:
        data = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise UnsubscribeLinkError("This unsubscribe link is not valid.") from exc
    try:
        person_id = data["p"]
        email = data["e"]
        group_ids = tuple(data["g"])
    except (KeyError, TypeError) as exc:
        raise UnsubscribeLinkError("This unsubscribe link is not valid.") from exc
    if (not isinstance(person_id, int) or not isinstance(email, str) or not group_ids
            or not all(isinstance(pk, int) for pk in group_ids)):
        raise UnsubscribeLinkError("This unsubscribe link is not valid.")
    return UnsubscribeRequest(person_id=person_id, email=email, group_ids=group_ids)


def list_unsubscribe_headers(*, url: str) -> dict[str, str]:
    """The RFC 2369 ``List-Unsubscribe`` and RFC 8058 ``List-Unsubscribe-Post`` headers.

    ``List-Unsubscribe`` gives the https one-click URL first, then a mailto to
    the network mailbox (for clients without one-click); ``List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`` tells the client a POST of that body to the
    https URL unsubscribes at once (RFC 8058 section 3.1).
    """
    mailto = f"mailto:{settings.NETWORK_MAILBOX}?subject=unsubscribe"
    return {"List-Unsubscribe": f"<{url}>, <{mailto}>",
            "List-Unsubscribe-Post": ONE_CLICK_BODY}
