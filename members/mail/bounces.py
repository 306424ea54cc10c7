"""Bounces and complaints: addresses we stop sending to, from an ESP or from NHSmail.

Two ways in, one effect (a :class:`~members.mail.models.Suppression` for the
address, and the outbox row that bounced marked failed with the reason):

* **An ESP's tracking webhook** (django-anymail's ``tracking`` signal, e.g.
  Postmark at ``/anymail/postmark/tracking/`` with the same basic-auth
  ``ANYMAIL["WEBHOOK_SECRET"]`` as the inbound webhook):
  :func:`handle_tracking_event`. Hard bounces, spam complaints and
  rejections suppress; soft bounces and deferrals do not (the ESP retries
  those itself).
* **Non-delivery reports in the NHSmail mailbox**, read by ``manage.py
  ingest_mail``: :mod:`members.mail.inbound` recognises them and calls
  :func:`record_delivery_report` with what :func:`parse_delivery_report`
  found. A permanent failure (RFC 3464 ``Status: 5.x.x``) suppresses; a
  transient one (``4.x.x``, "delayed") does not.

Every event is recorded once as a :class:`~members.mail.models.DeliveryEvent`
keyed by (provider, event id): ESPs deliver webhooks again when a receiver
fails or is slow, and the same NDR may be exported twice, so the same event
a second time changes nothing more.

Chairs see their unreachable members (:func:`unreachable_members`); the
network office lifts a suppression made by mistake (:func:`suppression_lift`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import dateformat, timezone

from .models import DeliveryEvent, OutboxMessage, Suppression

logger = logging.getLogger(__name__)

# anymail's normalised event types that mean "stop sending to this address".
SUPPRESSING_EVENTS = {
    "bounced": Suppression.Reason.BOUNCED,
    "complained": Suppression.Reason.COMPLAINED,
    "rejected": Suppression.Reason.REJECTED,
}
# ESP-specific markers of a *soft* bounce that anymail still normalises as
# "bounced" (Postmark's Type, Amazon SES's bounceType, Mailgun's severity).
SOFT_BOUNCE_MARKERS = frozenset({
    "softbounce", "transient", "dnserror", "undetermined", "temporary",
})
# RFC 3463 enhanced status code: class.subject.detail.
STATUS_CODE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def normalise_address(address: str | None) -> str:
    """``" Jo.Smith@NHS.net "`` -> ``"jo.smith@nhs.net"`` (addresses are compared lower-case)."""
    return (address or "").strip().strip("<>").strip().lower()


def is_suppressed(address: str) -> bool:
    """True if ``address`` (any case) is suppressed for any reason. Whether that stops
    a given message depends on its kind (:meth:`Suppression.blocks`,
    :func:`blocking_suppression`). One query."""
    return Suppression.objects.filter(address=normalise_address(address)).exists()


def _bare_message_id(value: str | None) -> str:
    return (value or "").strip().strip("<>").strip()


def _matching_outbox_rows(message_id: str, recipient: str) -> QuerySet[OutboxMessage]:
    """Outbox rows the event is about: by the transport's id or the RFC 5322 Message-ID
    (with or without angle brackets), to ``recipient`` when it is known."""
    bare = _bare_message_id(message_id)
    if not bare:
        return OutboxMessage.objects.none()
    rows = OutboxMessage.objects.filter(
        Q(transport_message_id=bare) | Q(transport_message_id=f"<{bare}>")
        | Q(message_id=f"<{bare}>") | Q(message_id=bare))
    if recipient:
        rows = rows.filter(to__iexact=recipient)
    return rows


@dataclass(frozen=True)
class EventOutcome:
    """What handling one delivery event did.

    Attributes:
        duplicate: the event had been handled before; nothing changed.
        suppressed: the address newly suppressed by this event (``""`` if none).
        marked: how many outbox rows were marked failed with the reason.
        detail: a line for the log or the ``ingest_mail`` report.
    """

    duplicate: bool = False
    suppressed: str = ""
    marked: int = 0
    detail: str = ""

    def __str__(self) -> str:
        return self.detail


@transaction.atomic
def delivery_event_record(*, provider: str, event_id: str, event_type: str, recipient: str,
                          message_id: str = "", suppress_as: str | None = None,
                          detail: str = "", source: str = "") -> EventOutcome:
    """Record one delivery event once; suppress the address and mark its outbox row.

    Args:
        provider: ``"postmark"``, ``"amazon_ses"``, ``"ndr"``...; with ``event_id``
            the key that makes a repeat harmless.
        event_id: the provider's id for the event (an NDR's Message-ID).
        event_type: ``"bounced"``, ``"complained"``, ``"deferred"``...
        recipient: the address the event is about.
        message_id: the bounced message's transport id or Message-ID, if known.
        suppress_as: a ``Suppression.Reason`` to suppress ``recipient`` with, or
            None for an event that does not suppress (soft bounce, delivered...).
        detail: the bounce or complaint as reported (kept on the suppression and
            as the outbox row's ``last_error``).
        source: where it came from, for the office (``"postmark webhook"``, ``"NDR"``).

    Returns an :class:`EventOutcome`. The same (provider, event_id) a second
    time returns ``duplicate=True`` and changes nothing. An address already
    suppressed keeps its first reason. Raises only for database errors (the
    whole event is then rolled back, so a retry handles it afresh).
    """
    recipient = normalise_address(recipient)
    try:
        with transaction.atomic():
            DeliveryEvent.objects.create(
                provider=provider[:40], event_id=event_id[:255], event_type=event_type[:40],
                recipient=recipient[:254], message_id=_bare_message_id(message_id)[:255],
            )
    except IntegrityError:
        logger.info("Delivery event %s %s seen before: nothing changed", provider, event_id)
        return EventOutcome(duplicate=True, detail=f"{event_type} for {recipient or '?'}: "
                                                   "already handled")
    suppressed = ""
    if suppress_as and recipient:
        _row, created = Suppression.objects.get_or_create(
            address=recipient,
            defaults={"reason": suppress_as, "detail": detail[:4000], "source": source[:40],
                      "created_at": timezone.now()},
        )
        if created:
            suppressed = recipient
            logger.warning("Suppressed %s (%s, %s): %s", recipient, suppress_as, source, detail)
    marked = 0
    if suppress_as:
        reason = Suppression.Reason(suppress_as).label
        error = f"{reason}: {detail}" if detail else reason
        now = timezone.now()
        for row in _matching_outbox_rows(message_id, recipient).select_for_update():
            if suppress_as == Suppression.Reason.COMPLAINED:
                # A complaint means it was delivered: keep "sent", say why we stopped.
                row.last_error = error[:4000]
                row.updated_at = now
                row.save(update_fields=["last_error", "updated_at"])
            else:
                row.status = OutboxMessage.Status.FAILED
                row.last_error = error[:4000]
                row.updated_at = now
                row.save(update_fields=["status", "last_error", "updated_at"])
            marked += 1
    if suppressed:
        what = f"{recipient} suppressed ({Suppression.Reason(suppress_as).label.lower()})"
    elif suppress_as and recipient:
        what = f"{recipient} was already suppressed"
    else:
        what = f"{event_type} for {recipient or '?'}: not suppressed"
    return EventOutcome(suppressed=suppressed, marked=marked, detail=what)


# --- ESP tracking webhooks (django-anymail) -------------------------------------------


def _esp_event_text(esp_event) -> set[str]:
    """Lower-cased string values of the fields ESPs use to say a bounce is soft."""
    if not isinstance(esp_event, dict):
        return set()
    found: set[str] = set()
    for key in ("Type", "bounceType", "severity", "type", "bounce_classification"):
        value = esp_event.get(key)
        if isinstance(value, str):
            found.add(value.replace(" ", "").lower())
    bounce = esp_event.get("bounce")
    if isinstance(bounce, dict) and isinstance(bounce.get("bounceType"), str):
        found.add(bounce["bounceType"].lower())
    return found


def is_soft_bounce(event) -> bool:
    """True if an anymail "bounced" event is a soft (temporary) bounce.

    anymail normalises Postmark's ``SoftBounce`` as ``bounced`` too, so the
    ESP's own field decides (Postmark ``Type``, Amazon SES ``bounceType``,
    Mailgun ``severity``), then an RFC 3463 ``4.x.x`` code in the MTA's response.
    """
    if _esp_event_text(getattr(event, "esp_event", None)) & SOFT_BOUNCE_MARKERS:
        return True
    match = STATUS_CODE.search(getattr(event, "mta_response", None) or "")
    return bool(match and match.group(1) == "4")


def _event_id(event, esp_name: str) -> str:
    """The ESP's event id, or (for ESPs that send none) a digest of what identifies it."""
    if getattr(event, "event_id", None):
        return str(event.event_id)
    parts = [esp_name, str(event.event_type), str(event.recipient or ""),
             str(event.message_id or ""), str(event.timestamp or "")]
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def handle_tracking_event(sender, event, esp_name, **kwargs) -> EventOutcome:
    """Receiver of ``anymail.signals.tracking``: suppress on a hard bounce, complaint or rejection.

    Args:
        event: an ``AnymailTrackingEvent`` (``event_type``, ``recipient``,
            ``message_id``, ``event_id``, ``mta_response``, ``description``,
            ``esp_event``).
        esp_name: ``"Postmark"``, ``"Amazon SES"``...

    Returns the :class:`EventOutcome` (anymail ignores it). Idempotent by
    (ESP, event id). Other event types (delivered, opened, deferred, a soft
    bounce) are recorded and suppress nothing. Raises only if the database
    fails: anymail then answers 500 and the ESP sends the event again, which
    is safe because nothing of it was kept.
    """
    event_type = str(event.event_type or "unknown")
    suppress_as = SUPPRESSING_EVENTS.get(event_type)
    if event_type == "bounced" and is_soft_bounce(event):
        suppress_as = None
    detail = " ".join(str(part) for part in (event.description, event.mta_response) if part)
    provider = str(esp_name or "esp").lower().replace(" ", "_")
    outcome = delivery_event_record(
        provider=provider, event_id=_event_id(event, provider), event_type=event_type,
        recipient=event.recipient or "", message_id=str(event.message_id or ""),
        suppress_as=suppress_as, detail=detail, source=f"{esp_name} webhook"[:40],
    )
    logger.info("%s tracking event %s (%s): %s", esp_name, event.event_id, event_type, outcome)
    return outcome


# --- Non-delivery reports (RFC 3464, and Exchange/NHSmail's text form) -----------------


@dataclass(frozen=True)
class FailedRecipient:
    """One recipient of a non-delivery report.

    Attributes:
        address: the final recipient (lower-case).
        status: the RFC 3463 status code (``"5.1.1"``), or ``""`` if none was given.
        action: RFC 3464 ``Action`` (``failed``, ``delayed``...), or ``""``.
        diagnostic: the remote server's reply, as reported.
    """

    address: str
    status: str = ""
    action: str = ""
    diagnostic: str = ""

    @property
    def is_permanent(self) -> bool:
        """A permanent failure: status class 5 (RFC 3463 section 3.1). ``Action:
        delayed`` or a 4.x.x status is transient and never suppresses."""
        if self.action and self.action.lower() not in ("failed",):
            return False
        return self.status.startswith("5.")


@dataclass(frozen=True)
class DeliveryReport:
    """What a non-delivery report says.

    Attributes:
        report_id: the report's own Message-ID (the key that makes it count once).
        original_message_id: the Message-ID of the message that bounced, if the
            report carries it.
        recipients: the :class:`FailedRecipient` list.
        form: ``"rfc3464"`` or ``"text"`` (Exchange's and others' plain forms).
    """

    report_id: str
    original_message_id: str = ""
    recipients: tuple[FailedRecipient, ...] = field(default_factory=tuple)
    form: str = "rfc3464"


NDR_SENDERS = re.compile(r"^(postmaster|mailer-daemon|microsoftexchange[0-9a-f]*|"
                         r"mail-daemon|mailerdaemon)@", re.IGNORECASE)
NDR_SUBJECTS = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification \(failure\)|"
    r"delivery status notification \(delay\)|delivery has failed|delivery failure|"
    r"mail delivery failed|mail delivery failure|returned mail|failure notice|"
    r"non-delivery|delivery notification: delivery has failed|message not delivered)",
    re.IGNORECASE)
# Where Exchange and others start quoting the original message in a text NDR:
# addresses after this are the original's headers (From, Reply-To...), not
# the failed recipient.
QUOTE_MARKERS = re.compile(
    r"^(original message headers|-+ ?original message ?-+|-+ ?this is a copy of the message|"
    r"-+ ?below this line is a copy of the message|received: from)",
    re.IGNORECASE | re.MULTILINE)
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)


def _header(message, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except (ValueError, TypeError, IndexError, AttributeError):
        return ""


def _report_id(message, raw: bytes) -> str:
    message_id = _header(message, "Message-ID")
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


def _strip_type(value: str) -> str:
    """``"rfc822; Jo@NHS.net"`` -> ``"jo@nhs.net"`` (RFC 3464 address-type prefix)."""
    _type, sep, address = value.partition(";")
    return normalise_address(address if sep else value)


def _status_blocks(part) -> list:
    """The header blocks of a ``message/delivery-status`` part (per-message, then one
    per recipient). The email package parses them into a list of messages; a part
    it could not split is parsed here from its text."""
    from email import message_from_string, policy

    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [message_from_string(block + "\n", policy=policy.default) for block in blocks]


def _original_message_id(message) -> str:
    """The bounced message's Message-ID from an attached ``message/rfc822`` or
    ``text/rfc822-headers`` part, else from quoted headers in a text part."""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is not None and _header(inner, "Message-ID"):
                return _header(inner, "Message-ID")
        elif ctype == "text/rfc822-headers" or (
                ctype == "text/plain" and part is not message):
            match = MESSAGE_ID.search(_part_text(part))
            if match:
                return match.group(1)
    match = MESSAGE_ID.search(_body_text(message))
    return match.group(1) if match else ""


def _part_text(part) -> str:
    try:
        payload = part.get_payload(decode=True) or b""
    except (ValueError, TypeError, AttributeError):
        return ""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _body_text(message) -> str:
    """The report's own human-readable text (text/plain parts not inside an attached message)."""
    texts: list[str] = []

    def walk(part):
        if part.get_content_maintype() == "message":
            return
        if part.is_multipart():
            for sub in part.iter_parts():
                walk(sub)
        elif part.get_content_type() in ("text/plain", "text/html"):
            text = _part_text(part)
            if part.get_content_type() == "text/html":
                text = re.sub(r"<[^>]+>", " ", text)
            texts.append(text)

    walk(message)
    return "\n".join(texts)


def is_delivery_report(message) -> bool:
    """True for a non-delivery (or delay) report.

    Either the RFC 3464 form (``multipart/report; report-type=delivery-status``,
    or a ``message/delivery-status`` part anywhere in the message's own tree),
    or the plain-text form some servers send (Exchange/NHSmail "Undeliverable:",
    Gmail's "Delivery Status Notification"): From a postmaster or mailer-daemon
    address, or a subject naming a failed delivery, and not an auto-reply.
    """
    if message.get_content_type() == "multipart/report" and (
            str(message.get_param("report-type", "") or "").lower() == "delivery-status"):
        return True
    if any(part.get_content_type() == "message/delivery-status" for part in message.walk()):
        return True
    sender = _header(message, "From")
    address = ADDRESS.search(sender)
    from_daemon = bool(address and NDR_SENDERS.match(address.group(0)))
    subject_says = bool(NDR_SUBJECTS.match(_header(message, "Subject")))
    auto_reply = _header(message, "Auto-Submitted").lower() == "auto-replied" and not from_daemon
    return (from_daemon or subject_says) and not auto_reply


def parse_delivery_report(message, raw: bytes) -> DeliveryReport:
    """Read a delivery report's failed recipients, tolerating what real servers send.

    The RFC 3464 form is read from its ``message/delivery-status`` part: each
    per-recipient block's ``Final-Recipient`` (else ``Original-Recipient``),
    ``Action``, ``Status`` and ``Diagnostic-Code``. The text form (no
    delivery-status part) is read from the report's own text, up to where it
    starts quoting the original message: each address in it except the
    network mailbox, with the first RFC 3463 status code (Exchange writes
    ``Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound'``).

    Never raises for bad input: a report with nothing readable has no recipients.
    """
    report_id = _report_id(message, raw)
    original = _original_message_id(message)
    recipients: list[FailedRecipient] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):  # the per-message block has no recipient
            address = _strip_type(_header(block, "Final-Recipient")
                                  or _header(block, "Original-Recipient"))
            if not address or "@" not in address:
                continue
            status_match = STATUS_CODE.search(_header(block, "Status"))
            diagnostic = _header(block, "Diagnostic-Code")
            if not status_match:
                status_match = STATUS_CODE.search(diagnostic)
            recipients.append(FailedRecipient(
                address=address, status=".".join(status_match.groups()) if status_match else "",
                action=_header(block, "Action").lower(), diagnostic=_strip_diag(diagnostic)))
    if recipients:
        return DeliveryReport(report_id, original, tuple(recipients), form="rfc3464")
    text = _body_text(message)
    quoted = QUOTE_MARKERS.search(text)
    own = text[: quoted.start()] if quoted else text
    status_match = STATUS_CODE.search(own)
    status = ".".join(status_match.groups()) if status_match else ""
    skip = {normalise_address(settings.NETWORK_MAILBOX)}
    sender = ADDRESS.search(_header(message, "From"))
    if sender:
        skip.add(normalise_address(sender.group(0)))
    seen: list[str] = []
    for found in ADDRESS.findall(own):
        address = normalise_address(found)
        if address not in skip and address not in seen and not NDR_SENDERS.match(address):
            seen.append(address)
    diagnostic = own[status_match.start(): status_match.start() + 200].splitlines()[0] if (
        status_match) else ""
    return DeliveryReport(report_id, original, tuple(
        FailedRecipient(address=address, status=status, action="failed" if status else "",
                        diagnostic=diagnostic) for address in seen), form="text")


def _strip_diag(value: str) -> str:
    """``"smtp; 550 5.1.1 ..."`` -> ``"550 5.1.1 ..."``."""
    _type, sep, rest = value.partition(";")
    return (rest if sep else value).strip()


def record_delivery_report(report: DeliveryReport) -> tuple[EventOutcome, ...]:
    """Act on a parsed non-delivery report: suppress each permanently failed recipient.

    When the report names the bounced message (its Message-ID) and that message
    is in the outbox, only that row's recipient is believed: a text report's
    other addresses are ignored. Idempotent by the report's Message-ID (one
    :class:`DeliveryEvent` per report and recipient). A ``4.x.x`` status or
    ``Action: delayed`` is recorded and suppresses nothing.

    Returns one :class:`EventOutcome` per recipient (none if nothing was readable).
    """
    recipients = list(report.recipients)
    if report.original_message_id:
        row = _matching_outbox_rows(report.original_message_id, "").first()
        if row is not None:
            known = normalise_address(row.to)
            matching = [r for r in recipients if r.address == known]
            if report.form == "text":
                status = recipients[0].status if recipients else ""
                diagnostic = recipients[0].diagnostic if recipients else ""
                matching = matching or [FailedRecipient(
                    address=known, status=status, action="failed" if status else "",
                    diagnostic=diagnostic)]
            recipients = matching or recipients
    outcomes = []
    for recipient in recipients:
        permanent = recipient.is_permanent
        detail = " ".join(filter(None, [recipient.status, recipient.diagnostic])).strip()
        outcomes.append(delivery_event_record(
            provider="ndr", event_id=f"{report.report_id}|{recipient.address}",
            event_type="bounced" if permanent else (recipient.action or "deferred"),
            recipient=recipient.address, message_id=report.original_message_id,
            suppress_as=Suppression.Reason.BOUNCED if permanent else None,
            detail=detail or "Non-delivery report", source="NDR",
        ))
    return tuple(outcomes)


# --- Reads and the office's action ----------------------------------------------------


#: How far back the chair's page looks for mail that failed.
FAILED_MAIL_DAYS = 30

# (pattern in OutboxMessage.last_error, what it means in plain words), first match wins.
PLAIN_ERRORS = (
    (re.compile(r"expired before it could be sent", re.I),
     "the sign-in code expired before it could be sent"),
    (re.compile(r"\b535\b|authentication|credentials|GraphAuthError", re.I),
     "SIG Hub could not sign in to the mail server (a setting the network office must fix)"),
    (re.compile(r"\b5\.1\.[0-9]+\b|\b55[03]\b|Recipient refused|does not exist|"
                r"unknown user|not found|InvalidAddress", re.I),
     "their mail server said the address does not exist"),
    (re.compile(r"\b5\.2\.2\b|mailbox (is )?full|quota", re.I),
     "their mailbox is full"),
    (re.compile(r"Hard bounce|bounced", re.I), "the message bounced"),
    (re.compile(r"Spam complaint", re.I), "they marked our email as spam"),
    (re.compile(r"Gave up after|Connection|timed out|refused|unreachable|\b4[0-9][0-9]\b",
                re.I),
     "the mail server could not be reached for several hours, so SIG Hub gave up"),
)


def plain_error(last_error: str) -> str:
    """An outbox error (a server's reply, an exception) in words a chair understands:
    ``"550 5.1.1 <x@nhs.net>: Recipient address rejected"`` -> ``"their mail server said
    the address does not exist"``. Unrecognised errors: ``"the message could not be sent"``."""
    for pattern, words in PLAIN_ERRORS:
        if pattern.search(last_error or ""):
            return words
    return "the message could not be sent"


def unreachable_members(group, *, now=None) -> list:
    """Active members of ``group`` email may not reach, for the chair's page.

    A member is listed if their address is suppressed (hard bounce, complaint,
    rejection, or by the office), or if a message to them failed in the last
    :data:`FAILED_MAIL_DAYS` days (and is still failed: one the office sent
    again successfully is no longer listed).

    Returns a list of :class:`~members.models.Membership` (``person`` loaded),
    ordered by name, each annotated with ``suppression_reason`` (a
    ``Suppression.Reason`` value or None) and ``suppressed_at``, and
    ``failed_at``, ``failed_subject`` and ``failed_error`` of the latest failed
    message (None if none), plus ``failed_reason``: that error in plain words
    (:func:`plain_error`). One query.
    """
    from members.models import Membership

    now = now or timezone.now()
    suppression = Suppression.objects.filter(address=Lower(OuterRef("person__email")))
    # Outbox addresses are the members' own (person.email), so the index on `to` serves.
    failed = (OutboxMessage.objects.filter(
        to=OuterRef("person__email"), status=OutboxMessage.Status.FAILED,
        updated_at__gte=now - timedelta(days=FAILED_MAIL_DAYS))
        .order_by("-updated_at", "-pk"))
    rows = list(
        Membership.objects.filter(group=group, status=Membership.Status.ACTIVE)
        .annotate(suppression_reason=Subquery(suppression.values("reason")[:1]),
                  suppressed_at=Subquery(suppression.values("created_at")[:1]),
                  failed_at=Subquery(failed.values("updated_at")[:1]),
                  failed_subject=Subquery(failed.values("subject")[:1]),
                  failed_error=Subquery(failed.values("last_error")[:1]))
        .filter(Q(suppression_reason__isnull=False) | Q(failed_at__isnull=False))
        .select_related("person")
        .order_by("person__full_name", "person__email")
    )
    for row in rows:
        row.failed_reason = plain_error(row.failed_error) if row.failed_at else ""
    return rows


def reason_label(reason: str) -> str:
    """``"bounced"`` -> ``"Hard bounce"`` (unknown values returned as given)."""
    try:
        return Suppression.Reason(reason).label
    except ValueError:
        return reason


@transaction.atomic
def suppression_lift(*, suppression: Suppression, by=None) -> str:
    """Lift a suppression (the network office, once the address works again).

    Deletes the row; later mail to the address is sent. Messages already
    marked suppressed or failed stay so until the office sends them again.
    Returns the address. Logged with who lifted it.
    """
    address = suppression.address
    suppression.delete()
    logger.warning("Suppression of %s (%s) lifted by %s", address, suppression.reason, by)
    return address


# Statuses the network office may send again: failed for good, or suppressed
# (once the suppression has been lifted, e.g. a bounce by mistake).
SEND_AGAIN_STATUSES = (OutboxMessage.Status.FAILED, OutboxMessage.Status.SUPPRESSED)


def blocking_suppression(row: OutboxMessage) -> Suppression | None:
    """The suppression that stops ``row`` being sent, or None (no suppression, or one
    that does not stop this kind: see :meth:`Suppression.blocks`). One query."""
    suppression = Suppression.objects.filter(address=normalise_address(row.to)).first()
    return suppression if suppression is not None and suppression.blocks(row.kind) else None


def superseded_message(row: OutboxMessage, newer: OutboxMessage) -> str:
    """Why ``row`` (an invitation) is not sent again: ``newer`` replaced it. Plain words."""
    when = dateformat.format(timezone.localtime(newer.created_at), "j M Y, H:i")
    return (f"This calendar message to {row.to} is out of date: a newer one for the same "
            f"meeting, \u201c{newer.subject}\u201d (queued {when}, "
            f"{newer.get_status_display().lower()}), replaced it. Sending the old one again "
            "would put an earlier or cancelled version of the meeting back in their calendar.")


def _sign_in_code_expired(row: OutboxMessage) -> bool:
    from .outbox import _now, _sign_in_expired

    return _sign_in_expired(row, _now())


@transaction.atomic
def outbox_message_send_again(*, pk: int, by=None) -> OutboxMessage:
    """The network office's "send again" for one failed or suppressed outbox message.

    Locks the row and checks it may be sent again; a suppressed message whose
    suppression has since been lifted (or no longer applies to its kind)
    counts as failed. Then ``members.mail.outbox.outbox_send_again`` queues it
    (attempts from 0, same Message-ID, sent after commit).

    Raises ``OutboxMessage.DoesNotExist`` if there is no such row, and
    ValidationError (nothing changed) with code ``not_failed`` if it is not
    failed or suppressed; ``suppressed`` if its address is still suppressed for
    its kind (lift the suppression first); ``superseded`` for a calendar
    message (invitation, update, cancellation) replaced by a newer one to the
    same person for the same meeting (:func:`members.mail.outbox.superseded_by`),
    the message naming the newer one; ``expired`` for a sign-in code past its
    lifetime.
    """
    from django.core.exceptions import ValidationError

    from .outbox import outbox_send_again, superseded_by

    row = OutboxMessage.objects.select_for_update().get(pk=pk)
    if row.status not in SEND_AGAIN_STATUSES:
        raise ValidationError(
            f"Only failed or suppressed messages can be sent again: this one is "
            f"{row.get_status_display().lower()}.", code="not_failed")
    if blocking_suppression(row) is not None:
        raise ValidationError(
            f"{row.to} is suppressed (it bounced or complained): lift the suppression "
            "before sending to it again.", code="suppressed")
    newer = superseded_by(row)
    if newer is not None:
        raise ValidationError(superseded_message(row, newer), code="superseded")
    if row.kind == OutboxMessage.Kind.SIGN_IN and _sign_in_code_expired(row):
        raise ValidationError(
            f"This sign-in code to {row.to} has expired, so it is not sent again: the person "
            "can ask for a new code on the sign-in page.", code="expired")
    if row.status == OutboxMessage.Status.SUPPRESSED:
        row.status = OutboxMessage.Status.FAILED
        row.save(update_fields=["status"])
    row = outbox_send_again(message=row)
    logger.warning("Outbox message %s to %s sent again by %s", row.pk, row.to, by)
    return row


@dataclass(frozen=True)
class SendAgainReport:
    """What "send all failed again" did: counts of failed messages.

    Attributes:
        queued: queued to be sent again.
        superseded: calendar messages left alone because a newer one replaced them.
        suppressed: left alone because their address is still suppressed.
        expired: sign-in codes left alone because they have expired.
    """

    queued: int = 0
    superseded: int = 0
    suppressed: int = 0
    expired: int = 0

    def __str__(self) -> str:
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        parts = [n(self.queued, "failed message is", "failed messages are")
                 + " queued to be sent again"]
        if self.superseded:
            parts.append(n(self.superseded, "out-of-date calendar message was",
                           "out-of-date calendar messages were")
                         + " left alone (a newer one replaced it)")
        if self.suppressed:
            parts.append(n(self.suppressed, "message to a suppressed address was",
                           "messages to suppressed addresses were")
                         + " left alone (lift the suppression first)")
        if self.expired:
            parts.append(n(self.expired, "expired sign-in code was",
                           "expired sign-in codes were") + " left alone")
        return "; ".join(parts) + "."


def outbox_failed_send_again(*, by=None) -> SendAgainReport:
    """The network office's "send all failed again": every ``failed`` message that may go.

    Leaves alone (and counts) calendar messages a newer one replaced
    (:func:`members.mail.outbox.superseding_messages`), messages whose address is
    still suppressed for their kind, and expired sign-in codes. The rest are
    queued in one transaction (attempts from 0, the same Message-ID each),
    sent after commit by the worker, which keeps to the rate limit. Suppressed
    messages are not included: lift their suppressions and send them one by one.
    A few queries whatever the number of messages. Returns a :class:`SendAgainReport`.
    """
    from .outbox import _enqueue, _now, _sign_in_expired, superseding_messages

    failed = list(OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
                  .order_by("pk"))
    newer = superseding_messages(failed)
    reasons = dict(Suppression.objects.filter(
        address__in={normalise_address(row.to) for row in failed}).values_list("address",
                                                                                 "reason"))
    now = _now()
    eligible, superseded, suppressed, expired = [], 0, 0, 0
    for row in failed:
        if Suppression.reason_blocks(reasons.get(normalise_address(row.to)), row.kind):
            suppressed += 1
        elif row.pk in newer:
            superseded += 1
        elif row.kind == OutboxMessage.Kind.SIGN_IN and _sign_in_expired(row, now):
            expired += 1
        else:
            eligible.append(row.pk)
    with transaction.atomic():
        # Only rows still failed now (another office user, or a worker, may have moved one).
        locked = list(OutboxMessage.objects.select_for_update()
                      .filter(pk__in=eligible, status=OutboxMessage.Status.FAILED)
                      .values_list("pk", "priority"))
        OutboxMessage.objects.filter(pk__in=[pk for pk, _priority in locked]).update(
            status=OutboxMessage.Status.QUEUED, attempts=0, next_attempt_at=now,
            updated_at=now)
        for pk, priority in locked:
            transaction.on_commit(partial(_enqueue, pk, priority))
    report = SendAgainReport(queued=len(locked), superseded=superseded,
                             suppressed=suppressed, expired=expired)
    logger.warning("Send all failed again by %s: %s", by, report)
    return report
