"""The outbox and what we know about recipients' mailboxes (issue 6).

Every message SIG Hub sends is first an :class:`OutboxMessage` row, written in
the same transaction as the change that causes it; a worker sends it after
commit. :class:`Suppression` records addresses that bounced or complained,
:class:`DeliveryEvent` the provider events already handled (so a webhook
delivered twice changes nothing), :class:`NoticePreference` how a person
wants each SIG's notices, and :class:`DigestItem` notices held for a
person's weekly digest.

These models belong to the ``members`` app (imported by ``members.models``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """One email to one recipient, from queueing until it is sent or given up.

    ``message`` holds the rendered :class:`members.mail.outgoing.OutgoingEmail`
    as JSON. ``message_id`` is the RFC 5322 Message-ID, fixed when the row is
    written, so every attempt sends the same one. ``key`` (when given) is
    unique: queueing a message whose key is already in the outbox does nothing,
    which makes re-sending harmless (invitations use
    ``itip:<kind>:<UID>:<SEQUENCE>:<recipient>``).
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in code or account email"
        INVITATION = "invitation", "Meeting invitation, update or cancellation"
        REMINDER = "reminder", "Meeting reminder"
        DECISION = "decision", "Decision about the person's own application"
        NOTICE = "notice", "Notice (agenda pack, minutes, new group)"
        ACTION = "action", "Action assigned or overdue"
        VOLUNTEERING = "volunteering", "Task-and-finish volunteering"
        DIGEST = "digest", "Weekly digest"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    PENDING = (Status.QUEUED, Status.RETRYING)

    # Higher goes first (as Django tasks' priority): sign-in codes are the most urgent.
    PRIORITY_SIGN_IN = 50
    PRIORITY_NORMAL = 0
    PRIORITY_BULK = -20

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    priority = models.SmallIntegerField(default=PRIORITY_NORMAL)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=998)
    message = models.JSONField(help_text="The rendered OutgoingEmail.")
    message_id = models.CharField("Message-ID", max_length=255, unique=True)
    key = models.CharField(max_length=400, null=True, blank=True, unique=True)
    group = models.ForeignKey(
        "members.Group", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="outbox_messages", help_text="The SIG or group the message is about.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    transport = models.CharField(max_length=40, blank=True, help_text="Which transport sent it.")
    transport_message_id = models.CharField(
        max_length=255, blank=True, help_text="The id the transport or ESP gave the message."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["to"]),
            models.Index(fields=["kind", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}: {self.subject} ({self.status})"


class Suppression(models.Model):
    """An address we stop sending to: it hard-bounced, complained, or was suppressed by hand.

    What is still sent depends on the reason and the kind of message
    (:meth:`blocks`), because the README promises that sign-in codes,
    invitations and decisions always arrive:

    ================================  ========  ======================  ==========
    reason                            sign-in   invitation, decision    all else
    ================================  ========  ======================  ==========
    complained (marked as spam)       sent      sent                    suppressed
    bounced, rejected, manual         sent      suppressed              suppressed
    ================================  ========  ======================  ==========

    A complaint means the mailbox works and its owner does not want our bulk
    mail, so only notices, digests, reminders and the like stop. A hard bounce
    means the mailbox does not exist: invitations and decisions would bounce
    too (and each bounce harms the sender's reputation), so they wait, shown
    on the chair's page, until the network office lifts the suppression and
    sends them again. A sign-in code is still attempted whatever the reason:
    the person is signing in at that moment, so their mailbox may well have
    been fixed, and without the code they cannot reach SIG Hub at all.
    Suppressed messages are marked ``suppressed`` in the outbox instead of
    being sent. Chairs see which of their members are unreachable.
    """

    # Kinds a complaint does not stop (the README's "always arrive").
    ESSENTIAL_KINDS = frozenset({"sign_in", "invitation", "decision"})
    # Kinds attempted even to an address that bounced.
    ALWAYS_ATTEMPTED_KINDS = frozenset({"sign_in"})

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Spam complaint"
        REJECTED = "rejected", "Rejected by the mail service"
        MANUAL = "manual", "Suppressed by the network office"

    address = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField(blank=True, help_text="The bounce or complaint as reported.")
    source = models.CharField(
        max_length=40, blank=True, help_text="Where we learned it: an ESP webhook, an NDR..."
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    def blocks(self, kind: str) -> bool:
        """True if this suppression stops a message of ``kind`` (an ``OutboxMessage.Kind``
        value); see the class docstring's table."""
        return self.reason_blocks(self.reason, kind)

    @classmethod
    def reason_blocks(cls, reason: str | None, kind: str) -> bool:
        """:meth:`blocks` for a reason given as a value (None: not suppressed, blocks nothing)."""
        if not reason or kind in cls.ALWAYS_ATTEMPTED_KINDS:
            return False
        if reason == cls.Reason.COMPLAINED:
            return kind not in cls.ESSENTIAL_KINDS
        return True


class DeliveryEvent(models.Model):
    """A delivery event (bounce, complaint, delivered...) already handled, by its id.

    The same event delivered twice (ESPs retry webhooks) finds its row here
    and changes nothing more.
    """

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=40)
    recipient = models.EmailField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="delivery_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.recipient}"


class NoticePreference(models.Model):
    """How a person wants one group's notices: as they happen, weekly, or not at all.

    No row means as they happen. Invitations, sign-in codes and decisions about
    the person's own applications are always sent, whatever this says.
    """

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "As they happen"
        DIGEST = "digest", "In a weekly digest"
        NONE = "none", "Not at all"

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    group = models.ForeignKey(
        "members.Group", on_delete=models.CASCADE, related_name="notice_preferences"
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "group"], name="notice_preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} / {self.group}: {self.get_mode_display()}"


class DigestItem(models.Model):
    """A notice held for a person's weekly digest (their preference for its group is digest)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_items"
    )
    group = models.ForeignKey("members.Group", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=998)
    text = models.TextField()
    url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_in = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The digest message that carried it.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["person", "sent_in"])]

    def __str__(self) -> str:
        return f"{self.subject} for {self.person}"
