"""The outbox: write a message in the caller's transaction, send it after commit, never twice.

``outbox_add`` writes an :class:`OutboxMessage` row (its RFC 5322 Message-ID
fixed once, so every attempt sends the same one) and, on commit, enqueues
:func:`send_outbox_message` on Django's tasks framework (django-tasks-db in
production). ``manage.py send_outbox`` (:func:`outbox_send_due`), run every
minute from cron, is the safety net: it sends every due row in one batch over
one connection and picks up rows whose worker died mid-send.

One delivery (:func:`deliver`) goes in three steps, each its own transaction:

1. **Claim**: lock the row (``select_for_update``; ``skip_locked`` when
   batching on PostgreSQL), skip it unless it is still pending and due; an
   address in :class:`Suppression` makes it ``suppressed`` if the suppression
   stops its kind (:meth:`Suppression.blocks`: sign-in codes are always
   attempted, invitations and decisions still go after a complaint); the rate limit
   may defer it (``next_attempt_at``, never dropped); otherwise mark it
   ``sending`` (``attempts`` + 1) and commit, so a crash mid-send is visible.
2. **Send**, outside any transaction, through the configured transport.
3. **Record**: ``sent`` with ``sent_at`` and ``transport_message_id`` at once,
   in its own transaction; or, for an error, ``retrying`` with a growing delay
   (transient errors: ``MAIL_RETRY_MINUTES``) or ``failed`` with the server's
   reply (permanent errors, or the retries used up).

Duplicates: the key (``itip:<kind>:<UID>:<SEQUENCE>:<recipient>``...) stops a
second row being queued, and the claim stops a row being sent by two workers.
The one window left is a worker dying after the server accepted the message
but before step 3 committed: the sweeper then sends it again after
``MAIL_SENDING_STALE_MINUTES``, with the **same Message-ID** (and, for an
invitation, the same UID and SEQUENCE), so the receiving system and calendar
can recognise the repeat. No SMTP or Graph submission is idempotent, so this
window cannot be closed from our side; step 3 immediately after each message
keeps it to one message per crash.

Time comes from :data:`clock` (or a ``clock`` argument), so tests can pace the
rate limit without sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core.mail import make_msgid
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import Case, F, Q, When
from django.tasks import task
from django.utils import timezone

from .models import OutboxMessage, Suppression
from .outgoing import OutgoingEmail, build_message
from .transports import (
    Failure,
    classify,
    describe,
    open_mailer,
    rate_per_minute,
    transport_name,
    with_endpoint,
)

logger = logging.getLogger(__name__)


def _timezone_now() -> datetime:
    return timezone.now()  # looked up at each call, so tests that move Django's clock move ours


#: The current time as an aware datetime. Replace it (or pass ``clock=``) to test pacing.
clock: Callable[[], datetime] = _timezone_now

DEFAULT_PRIORITY = {
    OutboxMessage.Kind.SIGN_IN: OutboxMessage.PRIORITY_SIGN_IN,
    OutboxMessage.Kind.DIGEST: OutboxMessage.PRIORITY_BULK,
}

# Sign-in codes retry quickly and stop before the code expires (the default
# LOGIN_CODE_TIMEOUT_SECONDS is 900): 30 s + 1 + 2 + 4 + 4 min = 11.5 min.
SIGN_IN_RETRY_SECONDS = (30, 60, 120, 240, 240)

RATE_WINDOW = timedelta(minutes=1)

S = OutboxMessage.Status


def _now(clock_fn: Callable[[], datetime] | None = None) -> datetime:
    return (clock_fn or clock)()


def _message_id() -> str:
    """A new RFC 5322 Message-ID in the From address's domain: ``<...@nhs.net>``."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.NETWORK_MAILBOX
    domain = address.rpartition("@")[2] or "sighub.local"
    return make_msgid(domain=domain)


def outbox_add(email: OutgoingEmail, *, kind: str = OutboxMessage.Kind.OTHER,
               key: str | None = None, group=None, priority: int | None = None) -> OutboxMessage:
    """Write ``email`` to the outbox; see :func:`members.mail.outgoing.queue_email`.

    Returns the new row, or the existing row with the same ``key`` (nothing
    new is queued then). Raises ``IntegrityError`` only for a clash other than
    the key.
    """
    if priority is None:
        priority = DEFAULT_PRIORITY.get(kind, OutboxMessage.PRIORITY_NORMAL)
    if key:
        existing = OutboxMessage.objects.filter(key=key).first()
        if existing is not None:
            logger.info("Outbox: %s already queued (key %s); not queued again", email.to, key)
            return existing
    now = _now()
    try:
        with transaction.atomic():
            row = OutboxMessage.objects.create(
                kind=kind, priority=priority, to=email.to, subject=email.subject[:998],
                message=email.as_json(), message_id=_message_id(), key=key or None,
                group=group, created_at=now, updated_at=now, next_attempt_at=now,
            )
    except IntegrityError:
        if key and (existing := OutboxMessage.objects.filter(key=key).first()):
            return existing  # queued by a concurrent transaction in between
        raise
    transaction.on_commit(partial(_enqueue, row.pk, priority))
    return row


def _enqueue(pk: int, priority: int, run_after: datetime | None = None) -> None:
    """Enqueue :func:`send_outbox_message` for row ``pk``.

    With ``run_after`` on a backend that cannot defer (the immediate backend
    of development and tests), nothing is enqueued: ``manage.py send_outbox``
    sends the row when it is due.
    """
    queued = send_outbox_message.using(priority=max(-100, min(100, priority)))
    if run_after is not None:
        if not queued.get_backend().supports_defer:
            return
        queued = queued.using(run_after=run_after)
    queued.enqueue(pk)


# --- Rules ---------------------------------------------------------------------------


def retry_delay(row: OutboxMessage) -> timedelta | None:
    """How long to wait before trying ``row`` again after its ``row.attempts``-th attempt failed.

    Returns None when the retries are used up (the message is then failed).
    Ordinary mail waits ``MAIL_RETRY_MINUTES`` (default 1, 5, 15, 60, 240
    minutes: six attempts over about five and a half hours); sign-in codes
    :data:`SIGN_IN_RETRY_SECONDS`, inside the code's lifetime.
    """
    if row.kind == OutboxMessage.Kind.SIGN_IN:
        delays = [timedelta(seconds=s) for s in SIGN_IN_RETRY_SECONDS]
    else:
        delays = [timedelta(minutes=m) for m in settings.MAIL_RETRY_MINUTES]
    index = row.attempts - 1
    return delays[index] if 0 <= index < len(delays) else None


def max_attempts(kind: str) -> int:
    """The most attempts a message of ``kind`` gets (the first plus each retry)."""
    delays = SIGN_IN_RETRY_SECONDS if kind == OutboxMessage.Kind.SIGN_IN \
        else settings.MAIL_RETRY_MINUTES
    return len(delays) + 1


def _sign_in_expired(row: OutboxMessage, now: datetime) -> bool:
    if row.kind != OutboxMessage.Kind.SIGN_IN:
        return False
    lifetime = timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT)
    return now >= row.created_at + lifetime


def rate_limit_slot(transport: str, now: datetime) -> datetime | None:
    """None if a message may go through ``transport`` at ``now``, else the earliest instant one may.

    The limit (``MAIL_RATE_PER_MINUTE``; NHSmail and Exchange Online allow
    about 30 messages a minute from one mailbox) counts messages sent, or
    being sent, through ``transport`` in the rolling minute before ``now``,
    from the outbox itself, so every worker process shares it. On PostgreSQL
    an advisory lock (held until the caller's transaction ends) makes the
    count and the claim that follows one step across workers.
    """
    limit = rate_per_minute()
    if limit <= 0:
        return None
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           [f"sighub-mail-rate:{transport}"])
    since = now - RATE_WINDOW
    times = list(
        OutboxMessage.objects.filter(transport=transport)
        .filter(Q(status=S.SENT, sent_at__gt=since) | Q(status=S.SENDING, updated_at__gt=since))
        .annotate(at=Case(When(status=S.SENT, then=F("sent_at")), default=F("updated_at")))
        .order_by("at").values_list("at", flat=True)
    )
    if len(times) < limit:
        return None
    # One more may go when the oldest of the newest `limit` leaves the window.
    return times[len(times) - limit] + RATE_WINDOW


# --- One delivery ----------------------------------------------------------------------


@dataclass
class Delivery:
    """What :func:`deliver` did with one row.

    ``status``: the row's status afterwards, or ``deferred`` (rate limit;
    ``until`` says when), ``not_due`` (its ``next_attempt_at`` is later),
    ``busy`` (another worker holds it) or ``missing``. ``failure``: the
    classified error when a send failed. ``attempted``: whether a send was tried.
    """

    status: str
    failure: Failure | None = None
    until: datetime | None = None
    attempted: bool = False


def build_outbox_message(row: OutboxMessage):
    """The Django message for ``row``, carrying the row's fixed Message-ID (RFC 5322 3.6.4)."""
    message = build_message(OutgoingEmail(**row.message))
    message.extra_headers["Message-ID"] = row.message_id
    return message


def _transport_message_id(message, row: OutboxMessage) -> str:
    status = getattr(message, "anymail_status", None)
    esp_id = getattr(status, "message_id", None)
    if esp_id is not None and not isinstance(esp_id, set):
        return str(esp_id)[:255]
    return row.message_id


def _claim(pk: int, now: datetime, *, skip_locked: bool) -> tuple[OutboxMessage | None, Delivery]:
    skip = skip_locked and db_connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update(skip_locked=skip).filter(pk=pk).first()
        if row is None:
            exists = skip and OutboxMessage.objects.filter(pk=pk).exists()
            return None, Delivery("busy" if exists else "missing")
        if row.status not in OutboxMessage.PENDING:
            return None, Delivery(row.status)
        if row.next_attempt_at > now:
            return None, Delivery("not_due", until=row.next_attempt_at)
        suppression = Suppression.objects.filter(address__iexact=row.to).first()
        # Sign-in codes, and invitations and decisions to an address that only
        # complained, are still sent (Suppression.blocks).
        if suppression is not None and suppression.blocks(row.kind):
            row.status = S.SUPPRESSED
            row.last_error = (f"Not sent: {row.to} is suppressed "
                              f"({suppression.get_reason_display().lower()}).")
            row.updated_at = now
            row.save(update_fields=["status", "last_error", "updated_at"])
            logger.info("Outbox %s: %s is suppressed; not sent", pk, row.to)
            return None, Delivery(S.SUPPRESSED)
        if _sign_in_expired(row, now):
            row.status = S.FAILED
            row.last_error = "Not sent: the sign-in code expired before it could be sent."
            row.updated_at = now
            row.save(update_fields=["status", "last_error", "updated_at"])
            return None, Delivery(S.FAILED)
        transport = transport_name()
        slot = rate_limit_slot(transport, now)
        if slot is not None:
            row.next_attempt_at = slot
            row.updated_at = now
            row.save(update_fields=["next_attempt_at", "updated_at"])
            return None, Delivery("deferred", until=slot)
        row.status = S.SENDING
        row.attempts += 1
        row.transport = transport
        row.updated_at = now
        row.save(update_fields=["status", "attempts", "transport", "updated_at"])
    return row, Delivery(S.SENDING)


def _record_failure(pk: int, failure: Failure, now: datetime, *, attempted: bool,
                    requeue: bool) -> str:
    """Record a failed attempt on row ``pk``; return its new status.

    ``attempted``: the row was claimed (``sending``) and sent; otherwise it is
    a pending row of a batch whose connection failed, and the attempt is
    counted here. Transient failures become ``retrying`` with
    :func:`retry_delay` (``requeue`` also enqueues the task for then), or
    ``failed`` once the retries are used up; permanent ones ``failed``.
    """
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            return "missing"
        if attempted and row.status != S.SENDING:
            return row.status
        if not attempted:
            if row.status not in OutboxMessage.PENDING or row.next_attempt_at > now:
                return row.status
            row.attempts += 1
        delay = retry_delay(row) if failure.transient else None
        if delay is not None and row.kind == OutboxMessage.Kind.SIGN_IN:
            if _sign_in_expired(row, now + delay):
                delay = None
        if delay is not None:
            row.status = S.RETRYING
            row.next_attempt_at = now + delay
            row.last_error = failure.detail
        else:
            row.status = S.FAILED
            row.last_error = (failure.detail if not failure.transient else
                              f"Gave up after {row.attempts} attempts: {failure.detail}")
        row.updated_at = now
        row.save(update_fields=["status", "attempts", "next_attempt_at", "last_error",
                                "updated_at"])
        if row.status == S.RETRYING and requeue:
            transaction.on_commit(partial(_enqueue, row.pk, row.priority, row.next_attempt_at))
    log = logger.warning if row.status == S.RETRYING else logger.error
    log("Outbox %s to %s: %s (attempt %d): %s", pk, row.to, row.status, row.attempts,
        failure.detail)
    return row.status


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped
        logger.debug("Closing the mail connection failed", exc_info=True)


def deliver(pk: int, *, connection=None, clock: Callable[[], datetime] | None = None,
            skip_locked: bool = False, requeue: bool = False) -> Delivery:
    """Send outbox row ``pk`` once, if it is pending and due (claim, send, record).

    Args:
        pk: the :class:`OutboxMessage` id.
        connection: an open-able mail backend to reuse (a batch); None opens
            and closes the default mailer for this one message.
        clock: returns the current aware datetime (default :data:`clock`).
        skip_locked: skip a row another worker has locked (batches, PostgreSQL).
        requeue: enqueue the task again for a retry or a rate-limit deferral.

    Returns a :class:`Delivery`. Never raises for a sending error (they are
    recorded on the row); ``BaseException`` (a killed worker) passes through,
    leaving the row ``sending`` for the sweeper.
    """
    row, claimed = _claim(pk, _now(clock), skip_locked=skip_locked)
    if row is None:
        return claimed
    mailer = connection if connection is not None else open_mailer()
    try:
        message = build_outbox_message(row)
        if connection is not None:
            connection.open()  # once per batch: send_messages then leaves it open
        mailer.send_messages([message])
    except Exception as exc:  # noqa: BLE001 - every sending error is classified and recorded
        failure = with_endpoint(classify(exc), mailer)
        # Drop a half-open connection (e.g. a refused login); a batch reconnects.
        _close_quietly(mailer)
        status = _record_failure(pk, failure, _now(clock), attempted=True, requeue=requeue)
        return Delivery(status, failure=failure, attempted=True)
    sent_at = _now(clock)
    # An earlier attempt's error no longer describes the message: it was sent.
    OutboxMessage.objects.filter(pk=pk, status__in=(S.SENDING, *OutboxMessage.PENDING)).update(
        status=S.SENT, sent_at=sent_at, updated_at=sent_at, last_error="",
        transport_message_id=_transport_message_id(message, row),
    )
    logger.info("Outbox %s: sent %r to %s (%s)", pk, row.subject, row.to, row.message_id)
    return Delivery(S.SENT, attempted=True)


@task(priority=0)
def send_outbox_message(pk: int) -> str:
    """Task: send outbox row ``pk`` if it is still pending; return what happened.

    Enqueued on commit by :func:`outbox_add`. The row is locked while it is
    claimed, so two workers never send it twice; a row already sent, failed,
    suppressed or being sent is skipped. A retry or a rate-limit deferral is
    enqueued again for its time when the task backend can defer
    (django-tasks-db can); otherwise ``manage.py send_outbox`` sends it.
    """
    result = deliver(pk, requeue=True)
    if result.status in ("deferred", "not_due") and result.until is not None:
        row = OutboxMessage.objects.filter(pk=pk).only("priority").first()
        if row is not None:
            _enqueue(pk, row.priority, run_after=result.until)
    return result.status


# --- The sweeper ---------------------------------------------------------------------


@dataclass
class SweepReport:
    """Counts from one :func:`outbox_send_due` run (rows, by what happened to them)."""

    recovered: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The counts as a JSON-safe dict (the task's return value)."""
        return {"recovered": self.recovered, "sent": self.sent, "retrying": self.retrying,
                "failed": self.failed, "suppressed": self.suppressed,
                "deferred": self.deferred, "skipped": self.skipped}

    def count(self, status: str) -> None:
        if status == S.SENT:
            self.sent += 1
        elif status == S.RETRYING:
            self.retrying += 1
        elif status == S.FAILED:
            self.failed += 1
        elif status == S.SUPPRESSED:
            self.suppressed += 1
        elif status == "deferred":
            self.deferred += 1
        else:
            self.skipped += 1


def outbox_recover_stale(*, now: datetime | None = None) -> int:
    """Put back rows left ``sending`` by a worker that died; return how many.

    A row ``sending`` for longer than ``MAIL_SENDING_STALE_MINUTES`` (longer
    than any send takes: the SMTP timeout is 30 s) becomes ``retrying``, due
    at once, to be sent again with the same Message-ID; if its attempts are
    used up it is ``failed`` instead.
    """
    now = now or _now()
    cutoff = now - timedelta(minutes=settings.MAIL_SENDING_STALE_MINUTES)
    skip = db_connection.features.has_select_for_update_skip_locked
    recovered = 0
    stale = list(OutboxMessage.objects.filter(status=S.SENDING, updated_at__lt=cutoff)
                 .values_list("pk", flat=True))
    for pk in stale:
        with transaction.atomic():
            row = (OutboxMessage.objects.select_for_update(skip_locked=skip)
                   .filter(pk=pk, status=S.SENDING, updated_at__lt=cutoff).first())
            if row is None:
                continue
            detail = ("The worker stopped while sending, so whether the server accepted the "
                      "message is unknown; it is sent again with the same Message-ID.")
            if retry_delay(row) is None:
                row.status = S.FAILED
                row.last_error = f"Gave up after {row.attempts} attempts: {detail}"
            else:
                row.status = S.RETRYING
                row.next_attempt_at = now
                row.last_error = detail
            row.updated_at = now
            row.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
            recovered += 1
            logger.warning("Outbox %s to %s was left sending; now %s", pk, row.to, row.status)
    return recovered


def _defer(pks: Sequence[int], until: datetime, now: datetime) -> int:
    return OutboxMessage.objects.filter(
        pk__in=list(pks), status__in=OutboxMessage.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=until, updated_at=now)


def outbox_send_due(*, clock: Callable[[], datetime] | None = None,
                    batch_size: int | None = None, connection=None) -> SweepReport:
    """Send every due outbox row, most urgent first, over one connection.

    Due: ``queued`` or ``retrying`` with ``next_attempt_at`` at or before now,
    after :func:`outbox_recover_stale` has put back rows whose worker died.
    At most ``batch_size`` rows (default ``MAIL_BATCH_SIZE``), ordered by
    priority (sign-in codes first), then ``next_attempt_at``.

    The batch stops early, touching nothing it has not sent, when the rate
    limit is reached (the rest wait for the next slot: ``next_attempt_at``)
    or when the transport itself fails (refused connection, refused login):
    the rest then count that attempt too, with the same error, rather than
    each knocking on a closed door.

    Args:
        clock: returns the current aware datetime (default :data:`clock`).
        connection: a mail backend to use (default: the default mailer),
            opened once for the batch and closed at the end.

    Returns a :class:`SweepReport`.
    """
    now = _now(clock)
    report = SweepReport(recovered=outbox_recover_stale(now=now))
    size = batch_size or settings.MAIL_BATCH_SIZE
    due = list(
        OutboxMessage.objects.filter(status__in=OutboxMessage.PENDING, next_attempt_at__lte=now)
        .order_by("-priority", "next_attempt_at", "pk").values_list("pk", flat=True)[:size]
    )
    if not due:
        return report
    mailer = connection if connection is not None else open_mailer()
    try:
        for index, pk in enumerate(due):
            result = deliver(pk, connection=mailer, clock=clock, skip_locked=True)
            report.count(result.status)
            if result.status == "deferred":
                report.deferred += _defer(due[index + 1:], result.until, now)
                break
            if result.failure is not None:
                report.errors.append(result.failure.detail)
                if result.failure.connection:
                    for rest in due[index + 1:]:
                        report.count(_record_failure(rest, result.failure, _now(clock),
                                                     attempted=False, requeue=False))
                    break
    finally:
        _close_quietly(mailer)
    logger.info("send_outbox: %s", report.as_dict())
    return report


@task(priority=0)
def send_outbox_due_task() -> dict:
    """Task: :func:`outbox_send_due` (for a scheduler instead of cron); returns its counts."""
    return outbox_send_due().as_dict()


# --- Out-of-date calendar messages ----------------------------------------------------


def itip_position(key: str | None) -> tuple[str, int] | None:
    """``itip:<kind>:<UID>:<SEQUENCE>:<recipient>[:<DTSTAMP>]`` -> ``(UID, SEQUENCE)``;
    None for any other key (not an iTIP message, or malformed)."""
    if not key or not key.startswith("itip:"):
        return None
    parts = key.split(":", 4)
    if len(parts) < 5 or not parts[2]:
        return None
    try:
        return parts[2], int(parts[3])
    except ValueError:
        return None


def superseding_messages(rows: Sequence[OutboxMessage]) -> dict[int, OutboxMessage]:
    """For each iTIP row in ``rows``, the newest later message to the same person about
    the same meeting, if there is one: ``{row.pk: newer row}``. One query (none if no
    row is an iTIP message).

    "Later" is the calendar's own order (RFC 5546 section 2.1.5): a higher
    SEQUENCE (the meeting moved, or was cancelled: a cancellation raises it),
    or the same SEQUENCE queued later (a person removed from the meeting gets
    a CANCEL at the current SEQUENCE; a promotion from the waiting list a
    REQUEST with a later DTSTAMP). Sending the older message again would put
    an old or cancelled version of the meeting back in that person's calendar.
    """
    from django.db.models.functions import Lower

    mine = {}
    for row in rows:
        position = itip_position(row.key)
        if position is not None:
            mine[row.pk] = (position, row)
    if not mine:
        return {}
    uids = Q()
    for uid in {position[0] for position, _row in mine.values()}:
        uids |= Q(key__contains=f":{uid}:")
    addresses = {row.to.lower() for _position, row in mine.values()}
    candidates: dict[tuple[str, str], list[tuple[tuple, OutboxMessage]]] = {}
    for other in (OutboxMessage.objects.filter(key__startswith="itip:").filter(uids)
                  .annotate(to_lower=Lower("to")).filter(to_lower__in=addresses)):
        position = itip_position(other.key)
        if position is not None:
            order = (position[1], other.created_at, other.pk)
            candidates.setdefault((position[0], other.to.lower()), []).append((order, other))
    found = {}
    for pk, ((uid, sequence), row) in mine.items():
        order = (sequence, row.created_at, row.pk)
        later = [(o, other) for o, other in candidates.get((uid, row.to.lower()), [])
                 if o > order]
        if later:
            found[pk] = max(later, key=lambda pair: pair[0])[1]
    return found


def superseded_by(row: OutboxMessage) -> OutboxMessage | None:
    """The newer message that makes iTIP ``row`` out of date (see
    :func:`superseding_messages`), or None. One query for an iTIP row, none otherwise."""
    return superseding_messages([row]).get(row.pk)


def outbox_send_again(*, message: OutboxMessage) -> OutboxMessage:
    """Queue a failed message again (the office's "send again"); return the row.

    Its attempts start again from 0 and it is sent after the caller's
    transaction commits, with the same Message-ID. Raises ValueError unless
    the row is ``failed``.
    """
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if row.status != S.FAILED:
            raise ValueError(f"Only a failed message can be sent again, not a {row.status} one.")
        now = _now()
        row.status = S.QUEUED
        row.attempts = 0
        row.next_attempt_at = now
        row.updated_at = now
        row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        transaction.on_commit(partial(_enqueue, row.pk, row.priority))
    return row


__all__ = [
    "Delivery", "SweepReport", "clock", "deliver", "describe", "max_attempts", "outbox_add",
    "itip_position", "outbox_recover_stale", "outbox_send_again", "outbox_send_due",
    "rate_limit_slot", "retry_delay", "send_outbox_due_task", "send_outbox_message",
    "superseded_by", "superseding_messages",
]
