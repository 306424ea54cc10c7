"""Rendering, queueing and sending one email from the network mailbox."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@dataclass
class OutgoingEmail:
    """A fully rendered message to one recipient, as JSON-safe fields.

    ``calendar`` is an iCalendar object (text, CRLF line ends) sent as an
    inline ``text/calendar; method=<calendar_method>`` alternative (RFC 6047
    section 2.4) and, when ``attach_ics`` is true, also as ``invite.ics``.
    ``headers`` are extra header fields (e.g. ``Auto-Submitted``).
    """

    to: str
    subject: str
    text: str
    html: str = ""
    calendar: str = ""
    calendar_method: str = ""
    attach_ics: bool = True
    reply_to: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The message as a dict of JSON types (tasks' arguments must be JSON)."""
        return asdict(self)


def render_email(template: str, context: dict, *, to: str, **extra) -> OutgoingEmail:
    """Render ``templates/email/<template>_{subject,message}.txt`` and ``_message.html``.

    Args:
        template: base name such as ``"members/decision"``, looked up under ``email/``.
        context: template context; ``site_url``, ``network_mailbox`` and ``network_name`` are added.
        to: the one recipient's address.
        extra: further :class:`OutgoingEmail` fields (``calendar``, ``headers``...).

    Returns:
        the rendered :class:`OutgoingEmail`. The subject is one line (newlines
        removed) and the HTML part is omitted when no HTML template exists.
    """
    from django.template import TemplateDoesNotExist

    ctx = {"site_url": settings.SITE_URL, "network_mailbox": settings.NETWORK_MAILBOX,
           "network_name": settings.NETWORK_MAILBOX_NAME, **context}
    subject = " ".join(render_to_string(f"email/{template}_subject.txt", ctx).split())
    text = render_to_string(f"email/{template}_message.txt", ctx)
    try:
        html = render_to_string(f"email/{template}_message.html", ctx)
    except TemplateDoesNotExist:
        html = ""
    return OutgoingEmail(to=to, subject=subject, text=text, html=html, **extra)


class RawListHeader(str):
    """A header value written exactly as given, folded only between its ``<...>`` items.

    Python's email policy refolds any header line longer than 78 characters
    and, for a value it cannot fold at spaces (a long URL), writes RFC 2047
    encoded words (``=?utf-8?q?=3Chttps...``), which no mail client reads as
    a URL. RFC 2369 section 2 lets a list header be folded between its items
    and a line be up to 998 characters (RFC 5322 section 2.1.1), so this
    keeps each ``<URI>`` whole on its line. An object with ``name`` and
    ``fold()`` is what ``email.policy.EmailPolicy`` writes without refolding;
    as a ``str`` it reads as the unfolded value.
    """

    name: str

    def __new__(cls, name: str, value: str):
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if not (item.startswith("<") and item.endswith(">")) or any(
                    ch in item for ch in "\r\n") or not item.isascii():
                raise ValueError(f"{name} must be a list of ASCII <URI> items, not {value!r}.")
        obj = super().__new__(cls, ", ".join(items))
        obj.name = name
        obj.items = items
        return obj

    def fold(self, *, policy) -> str:
        """``Name: <a>,<linesep> <b><linesep>``: each item whole, folded only after a comma."""
        return f"{self.name}: " + ("," + policy.linesep + " ").join(self.items) + policy.linesep


# Headers whose values are lists of <URI>s (RFC 2369) and must leave unencoded.
RAW_LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


class CalendarEmail(EmailMultiAlternatives):
    """A message whose ``text/calendar`` parts carry ``method=`` unquoted, and whose
    ``List-Unsubscribe`` is written as plain ``<URI>, <URI>``.

    Python's email package writes ``method="REQUEST"``; that is valid MIME, but
    rule I1 (and Exchange's own invitations) use the token form
    ``text/calendar; charset="utf-8"; method=REQUEST``, so we write exactly that.
    ``List-Unsubscribe`` (RFC 2369) and ``List-Unsubscribe-Post`` (RFC 8058) are
    set raw after the message is built (see :class:`RawListHeader`): folded
    by the policy, a long one-click URL became encoded words that Outlook
    and Gmail cannot use.
    """

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        for part in msg.walk():
            if part.get_content_type() == "text/calendar":
                method = part.get_param("method")
                del part["Content-Type"]
                # set_raw keeps the value as written (no re-quoting on output).
                part.set_raw("Content-Type", f'text/calendar; charset="utf-8"; method={method}')
        for name in RAW_LIST_HEADERS:
            value = self.extra_headers.get(name)
            if value is None:
                continue
            del msg[name]
            if name == "List-Unsubscribe":
                msg.set_raw(name, RawListHeader(name, value))
            else:  # List-Unsubscribe=One-Click: short, but kept beside its partner
                msg.set_raw(name, value)
        return msg


def build_message(email: OutgoingEmail) -> EmailMultiAlternatives:
    """Turn an :class:`OutgoingEmail` into a Django message From the network mailbox.

    MIME shape (interop rule I2): ``multipart/mixed`` > ``multipart/alternative``
    (text/plain, text/html, text/calendar with ``method=``) > optional
    ``invite.ics`` attachment (application/ics). Every message carries
    ``Auto-Submitted: auto-generated`` (RFC 3834).

    From is ``DEFAULT_FROM_EMAIL``: the network mailbox, or with an ESP
    (``MAIL_TRANSPORT=anymail``) the deployment's own ``MAIL_FROM``, when
    Reply-To is ``MAIL_REPLY_TO`` (the mailbox) unless the email names its own.
    """
    headers = {"Auto-Submitted": "auto-generated", **email.headers}
    reply_to = email.reply_to or (
        [settings.MAIL_REPLY_TO] if getattr(settings, "MAIL_REPLY_TO", "") else None)
    message = CalendarEmail(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        reply_to=reply_to,
        headers=headers,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    if email.calendar:
        method = email.calendar_method.upper()
        if not method:
            raise ValueError("A calendar part needs its METHOD (REQUEST, CANCEL...).")
        message.attach_alternative(email.calendar, f"text/calendar; method={method}; charset=utf-8")
        if email.attach_ics:
            message.attach("invite.ics", email.calendar, "application/ics")
    return message


def queue_email(
    email: OutgoingEmail,
    *,
    kind: str = "other",
    key: str | None = None,
    group=None,
    priority: int | None = None,
):
    """Write ``email`` to the outbox now and have the worker send it after commit.

    Args:
        email: the rendered message (one recipient).
        kind: an ``OutboxMessage.Kind`` value (``"invitation"``, ``"notice"``...),
            for the office's outbox page and for priorities.
        key: makes re-sending harmless: if a message with this key is already in
            the outbox, nothing new is queued and that row is returned. Invitations
            use ``itip:<kind>:<UID>:<SEQUENCE>:<recipient>``.
        group: the SIG or group the message is about (for filtering), or None.
        priority: higher is sent first; default by kind (sign-in codes highest).

    Returns the :class:`~members.mail.models.OutboxMessage` row. The row is part
    of the caller's transaction: if that rolls back, nothing is queued or sent.
    """
    from . import outbox

    return outbox.outbox_add(email, kind=kind, key=key, group=group, priority=priority)
