"""Meetings of a group and each person's invitation to them.

Times are stored as aware UTC datetimes and shown in Europe/London. A meeting
keeps one UID for life (RFC 5545 3.8.4.7); ``sequence`` rises with every
change an attendee sees (RFC 5545 3.8.7.4, RFC 5546 2.1.4).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from members.models import Group


def new_meeting_uid() -> str:
    """A globally unique, never-reused iCalendar UID: ``<uuid4>@sighub``."""
    return f"{uuid.uuid4()}@sighub"


class Meeting(models.Model):
    """A meeting of a SIG (or, later, of a task-and-finish group)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(max_length=200)
    start = models.DateTimeField(help_text="Aware datetime, stored in UTC.")
    end = models.DateTimeField(help_text="Aware datetime, stored in UTC.")
    teams_url = models.URLField("Microsoft Teams link", max_length=1000, blank=True)
    venue = models.CharField(max_length=300, blank=True, help_text="Room, hospital and address.")
    dial_in = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    uid = models.CharField("UID", max_length=255, unique=True, default=new_meeting_uid,
                           editable=False)
    sequence = models.PositiveIntegerField("SEQUENCE", default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # LAST-MODIFIED in calendar output; bumped by every change an attendee sees.
    updated_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="meeting_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(teams_url="") | ~Q(venue=""), name="meeting_has_teams_or_venue"
            ),
        ]
        indexes = [models.Index(fields=["group", "start"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:meeting_detail", kwargs={"pk": self.pk})

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED


class Invitation(models.Model):
    """One person's invitation to one meeting, and their answer (their PARTSTAT)."""

    class Response(models.TextChoices):
        NEEDS_ACTION = "needs_action", "Not yet answered"
        ATTENDING = "attending", "Attending"
        APOLOGIES = "apologies", "Apologies"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    response = models.CharField(
        max_length=20, choices=Response.choices, default=Response.NEEDS_ACTION
    )
    note = models.CharField(max_length=500, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # The SEQUENCE of the last REQUEST or CANCEL mailed to this person.
    sent_sequence = models.IntegerField(null=True, blank=True)
    # Set when the person was taken off the meeting (left the group): a CANCEL went to them.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "person"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="invitation_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} to {self.meeting} ({self.get_response_display()})"
