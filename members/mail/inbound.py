"""Inbound mail: the one entry point, raw RFC 822 bytes in, what happened out.

Mail reaches SIG Hub two ways: an ESP's inbound webhook through
django-anymail (:mod:`members.mail.webhooks`) and ``manage.py ingest_mail``
on ``.eml`` files or a Maildir exported from the network mailbox. Both call
:func:`ingest_message`.

This package knows nothing of meetings. It works out what kind of message
it has (:func:`detect_kind`) and hands it on:

* a message with a calendar part (RFC 6047 iMIP: ``text/calendar``, or an
  ``application/ics`` / ``.ics`` attachment, anywhere in the MIME tree, rule
  R3) is a calendar reply: each distinct part goes to the receivers of
  ``members.signals.calendar_reply_received`` (events connects one), and
  their outcomes come back in the :class:`InboundResult`;
* a non-delivery report (RFC 3464 ``multipart/report;
  report-type=delivery-status``, or the plain-text "Undeliverable:" form
  Exchange/NHSmail and others send) is detected first, before calendar
  parts, and handed to :mod:`members.mail.bounces`: a permanent failure
  (``Status: 5.x.x``) suppresses the final recipient, a delay (``4.x.x``)
  does not; the same report twice changes nothing more (keyed by its
  Message-ID);
* anything else is "not a calendar reply". Attached messages
  (``message/rfc822``, as in a bounce or a forward) are never searched for
  calendar parts, so a bounced invitation is never taken for a reply.

Nothing here raises for bad input: an unreadable message is an
:class:`InboundResult` of kind ``UNREADABLE``. (A handler that fails for
another reason, such as the database being down, does raise, so a webhook
answers 500 and the ESP tries again later.) Rule numbers refer to
``/work/shared/reference/icalendar-interop.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from enum import StrEnum

from members.signals import calendar_reply_received

logger = logging.getLogger(__name__)

# Content types of a calendar object (RFC 5545 8.1; application/ics is what
# Gmail and Outlook call the invite.ics attachment).
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
# A reply carries one calendar object (twice from Gmail); more than this is
# not a reply anyone's client wrote, and each one costs database work.
MAX_CALENDAR_PARTS = 10


class InboundKind(StrEnum):
    """What an inbound message turned out to be."""

    CALENDAR = "calendar reply"
    DELIVERY_REPORT = "delivery report"
    OTHER = "not a calendar reply"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class CalendarPart:
    """One calendar part of an inbound message, as handed to ``calendar_reply_received``.

    Attributes:
        text: the calendar object, decoded from its transfer encoding and charset.
        content_type: ``text/calendar``, ``application/ics``...
        method: the Content-Type's ``method=`` parameter, upper-cased (``""``
            if absent). Only a hint: the ``METHOD`` inside the object decides.
        filename: the attachment's file name, or ``""``.
        sender: the message's From address, lower-cased (``""`` if none).
        message_id: the Message-ID header, or ``""``.
        subject: the Subject header, or ``""``.
    """

    text: str
    content_type: str
    method: str = ""
    filename: str = ""
    sender: str = ""
    message_id: str = ""
    subject: str = ""


@dataclass(frozen=True)
class InboundResult:
    """What :func:`ingest_message` did with one message.

    Attributes:
        kind: an :class:`InboundKind`.
        outcomes: for a calendar reply, what each handler returned for each
            calendar part, in order (each one's ``str()`` describes it).
        detail: why it was unreadable or not handled, for the log.
        message_id: the Message-ID header, or ``""``.
    """

    kind: InboundKind
    outcomes: tuple = ()
    detail: str = ""
    message_id: str = ""

    def __str__(self) -> str:
        if self.outcomes:
            return "; ".join(str(outcome) for outcome in self.outcomes)
        return f"{self.kind}: {self.detail}" if self.detail else str(self.kind)


def parse_message(raw: bytes) -> EmailMessage:
    """Parse RFC 822 bytes with the email package's modern policy (``policy.default``)."""
    return BytesParser(policy=policy.default).parsebytes(raw)


def _own_leaf_parts(part) -> Iterator:
    """Every non-multipart part of the message itself, depth first.

    Attached messages (``message/rfc822``, ``message/delivery-status``...)
    are not descended into: their calendar parts are someone else's.
    """
    if part.get_content_maintype() == "message":
        return
    if part.is_multipart():
        for sub in part.iter_parts():
            yield from _own_leaf_parts(sub)
    else:
        yield part


def _is_calendar(part) -> bool:
    filename = (part.get_filename() or "").lower()
    return part.get_content_type() in CALENDAR_TYPES or filename.endswith(".ics")


def calendar_parts(message: EmailMessage) -> list:
    """The message's own calendar parts, wherever they sit in the MIME tree (rule R3).

    Outlook puts ``text/calendar`` in ``multipart/alternative``; Outlook.com
    sends it as the whole message (top level); Gmail adds the same object
    again as an ``application/ics`` ``invite.ics`` attachment. Returns the
    parts in document order.
    """
    return [part for part in _own_leaf_parts(message) if _is_calendar(part)]


def _decoded_text(part) -> str:
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _header(message, name: str) -> str:
    # A header so broken that the modern policy cannot even make a string of
    # it must not stop the message being read.
    try:
        return str(message.get(name, "") or "").strip()
    except (ValueError, TypeError, IndexError, AttributeError):
        return ""


def detect_kind(message: EmailMessage) -> InboundKind:
    """``DELIVERY_REPORT`` for a non-delivery report (checked first, see
    :func:`members.mail.bounces.is_delivery_report`), ``CALENDAR`` if the
    message has a calendar part of its own, else ``OTHER``."""
    from .bounces import is_delivery_report

    if is_delivery_report(message):
        return InboundKind.DELIVERY_REPORT
    return InboundKind.CALENDAR if calendar_parts(message) else InboundKind.OTHER


def _handle_delivery_report(message: EmailMessage, raw: bytes,
                            message_id: str) -> InboundResult:
    from .bounces import parse_delivery_report, record_delivery_report

    try:
        report = parse_delivery_report(message, raw)
    except (ValueError, TypeError, IndexError, LookupError, AttributeError) as exc:
        return InboundResult(InboundKind.UNREADABLE, detail=f"cannot read the report: {exc}",
                             message_id=message_id)
    outcomes = record_delivery_report(report)
    if not outcomes:
        return InboundResult(InboundKind.DELIVERY_REPORT, detail="no recipient could be read",
                             message_id=message_id)
    return InboundResult(InboundKind.DELIVERY_REPORT, outcomes, message_id=message_id)


def _handle_calendar(message: EmailMessage, message_id: str) -> InboundResult:
    sender = parseaddr(_header(message, "From"))[1].lower()
    subject = _header(message, "Subject")
    seen: set[str] = set()
    outcomes: list = []
    for part in calendar_parts(message)[:MAX_CALENDAR_PARTS]:
        text = _decoded_text(part)
        # Gmail sends the same object inline and as invite.ics: hand it on once.
        key = text.replace("\r\n", "\n").strip()
        if key in seen:
            continue
        seen.add(key)
        calendar = CalendarPart(
            text=text,
            content_type=part.get_content_type(),
            method=str(part.get_param("method", "") or "").strip().upper(),
            filename=part.get_filename() or "",
            sender=sender,
            message_id=message_id,
            subject=subject,
        )
        responses = calendar_reply_received.send(sender=CalendarPart, part=calendar)
        if not responses:
            logger.warning("Inbound %s: a calendar part but nothing handles calendar replies",
                           message_id or "(no Message-ID)")
            outcomes.append("no handler for calendar replies")
        outcomes.extend(outcome for _receiver, outcome in responses)
    return InboundResult(InboundKind.CALENDAR, tuple(outcomes), message_id=message_id)


def ingest_message(raw: bytes) -> InboundResult:
    """Read one inbound email and act on it.

    Args:
        raw: the whole message as RFC 822 bytes (headers and body, as
            delivered: an ``.eml`` file, a Maildir entry, an ESP's raw MIME).

    Returns:
        an :class:`InboundResult`: ``CALENDAR`` with the outcome of each
        calendar part (e.g. an answer recorded, or a reply ignored and why),
        ``DELIVERY_REPORT`` with one :class:`members.mail.bounces.EventOutcome`
        per recipient of a non-delivery report (suppressed, already handled,
        or a delay that suppresses nothing), ``OTHER`` ("not a calendar
        reply"), or ``UNREADABLE``. Each result is logged at INFO.

    Never raises for bad input. Exceptions from a handler that are not about
    the input (a database error) propagate to the caller.
    """
    if not raw or not raw.strip():
        result = InboundResult(InboundKind.UNREADABLE, detail="empty message")
        logger.info("Inbound message: %s", result)
        return result
    try:
        message = parse_message(raw)
    except (ValueError, TypeError, IndexError, LookupError) as exc:  # the parser is lenient
        result = InboundResult(InboundKind.UNREADABLE, detail=f"cannot parse: {exc}")
        logger.info("Inbound message: %s", result)
        return result
    message_id = _header(message, "Message-ID")
    kind = detect_kind(message)
    if kind == InboundKind.DELIVERY_REPORT:
        result = _handle_delivery_report(message, raw, message_id)
    elif kind == InboundKind.CALENDAR:
        result = _handle_calendar(message, message_id)
    else:
        result = InboundResult(kind, message_id=message_id)
    logger.info("Inbound message %s: %s", message_id or "(no Message-ID)", result)
    return result
