"""The outbox: write a message in the caller's transaction, send it after commit.

``outbox_add`` writes an :class:`OutboxMessage` row (with its Message-ID
fixed) and, on commit, enqueues :func:`send_outbox_message` on Django's tasks
framework (django-tasks-db in production). The worker locks the row, skips it
unless it is still pending, sends it and records the result.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.core.mail import mailers, make_msgid
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from .models import OutboxMessage
from .outgoing import OutgoingEmail, build_message

logger = logging.getLogger(__name__)

DEFAULT_PRIORITY = {
    OutboxMessage.Kind.SIGN_IN: OutboxMessage.PRIORITY_SIGN_IN,
    OutboxMessage.Kind.DIGEST: OutboxMessage.PRIORITY_BULK,
}


def _message_id() -> str:
    """A new RFC 5322 Message-ID in the mailbox's domain: ``<...@nhs.net>``."""
    domain = settings.NETWORK_MAILBOX.rpartition("@")[2] or "sighub.local"
    return make_msgid(domain=domain)


def outbox_add(email: OutgoingEmail, *, kind: str = OutboxMessage.Kind.OTHER,
               key: str | None = None, group=None, priority: int | None = None) -> OutboxMessage:
    """Write ``email`` to the outbox; see :func:`members.mail.outgoing.queue_email`."""
    if priority is None:
        priority = DEFAULT_PRIORITY.get(kind, OutboxMessage.PRIORITY_NORMAL)
    if key:
        existing = OutboxMessage.objects.filter(key=key).first()
        if existing is not None:
            logger.info("Outbox: %s already queued (key %s); not queued again", email.to, key)
            return existing
    now = timezone.now()
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


def _enqueue(pk: int, priority: int) -> None:
    send_outbox_message.using(priority=max(-100, min(100, priority))).enqueue(pk)


@task(priority=0)
def send_outbox_message(pk: int) -> str:
    """Task: send outbox row ``pk`` if it is still pending. Returns its final status.

    The row is locked while it is sent (``select_for_update``), so two workers
    never send it twice; a row already sent, failed or suppressed is skipped.
    """
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().filter(pk=pk).first()
        if row is None or row.status not in OutboxMessage.PENDING:
            return row.status if row else "missing"
        email = OutgoingEmail(**row.message)
        message = build_message(email)
        message.extra_headers["Message-ID"] = row.message_id
        row.attempts += 1
        mailers.default.send_messages([message])
        row.status = OutboxMessage.Status.SENT
        row.sent_at = row.updated_at = timezone.now()
        row.save(update_fields=["status", "sent_at", "updated_at", "attempts"])
    logger.info("Sent %r to %s", email.subject, email.to)
    return row.status


def outbox_requeue(row: OutboxMessage) -> OutboxMessage:
    """Queue ``row`` again (the network office's "send again"): status queued, attempts 0,
    error cleared, due now; the worker is given it after the caller's transaction commits.

    The caller decides whether it may be sent again (see
    ``members.mail.bounces.outbox_send_again``). Its Message-ID and key are kept,
    so it is the same message, sent once more.
    """
    now = timezone.now()
    row.status = OutboxMessage.Status.QUEUED
    row.attempts = 0
    row.last_error = ""
    row.next_attempt_at = row.updated_at = now
    row.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])
    transaction.on_commit(partial(_enqueue, row.pk, row.priority))
    return row
