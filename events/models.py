"""Meetings of a group and each person's invitation to them.

Times are stored as aware UTC datetimes and shown in Europe/London. A meeting
keeps one UID for life (RFC 5545 3.8.4.7); ``sequence`` rises with every
change an attendee sees (RFC 5545 3.8.7.4, RFC 5546 2.1.4).
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from members.models import Group

# Hosts of Microsoft Teams meeting links: teams.microsoft.com (work accounts,
# NHSmail) and teams.live.com (personal accounts). Both are real Teams hosts,
# so both are accepted, and the hint and the error message name both.
TEAMS_HOSTS = ("teams.microsoft.com", "teams.live.com")
TEAMS_LINK_STARTS = " or ".join(f"https://{host}/" for host in TEAMS_HOSTS)


def is_teams_url(url: str) -> bool:
    """True if ``url`` is an https link on a Microsoft Teams host (or a subdomain of one)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(
        host == allowed or host.endswith("." + allowed) for allowed in TEAMS_HOSTS
    )


# The longest text a meeting field may hold, and how the field is named in the
# message when it is longer ("Description must be 4,000 characters or fewer").
# A 1 MB description would otherwise go into every invitation and feed.
MAX_LENGTHS = {
    "title": (200, "Title"),
    "teams_url": (1000, "Microsoft Teams link"),
    "venue": (300, "Venue"),
    "dial_in": (300, "Dial-in details"),
    "description": (4000, "Description"),
}


def too_long_message(field: str) -> str:
    """``"Description must be 4,000 characters or fewer"`` for a field of :data:`MAX_LENGTHS`."""
    limit, label = MAX_LENGTHS[field]
    return f"{label} must be {limit:,} characters or fewer"


def new_meeting_uid() -> str:
    """A globally unique, never-reused iCalendar UID: ``<uuid4>@sighub``."""
    return f"{uuid.uuid4()}@sighub"


class MeetingSeries(models.Model):
    """A run of meetings scheduled together from one pattern.

    Each occurrence is its own :class:`Meeting` with its own UID, agenda and
    minutes; moving or cancelling one touches only that one. The series only
    remembers how they were made.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="meeting_series")
    title = models.CharField(max_length=200)
    pattern = models.CharField(
        max_length=200, help_text='How the chair described it, e.g. "Second Tuesday of each month".'
    )
    rrule = models.CharField(
        "RRULE", max_length=300, help_text="The pattern as an RFC 5545 3.3.10 recurrence rule."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "meeting series"

    def __str__(self) -> str:
        return f"{self.title} ({self.pattern})"


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
    description = models.TextField(blank=True, max_length=MAX_LENGTHS["description"][0])
    in_person_places = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="How many can attend in person; blank for no limit. Once full, in-person "
                  "answers join a first-come waiting list.",
    )
    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
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
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="meeting_ends_after_start"
            ),
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

    def clean_fields(self, exclude=None) -> None:
        """Django's field checks, with our own message for text that is too long.

        Django's "Ensure this value has at most 200 characters (it has 250)."
        is replaced by "Title must be 200 characters or fewer"; the
        description (a TextField, unchecked by Django) is held to 4,000.
        """
        exclude = set(exclude or ())
        errors: dict[str, list[str]] = {}
        for field, (limit, _label) in MAX_LENGTHS.items():
            value = getattr(self, field)
            if field not in exclude and value and len(value) > limit:
                errors[field] = [too_long_message(field)]
                exclude.add(field)
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        """Check what the database constraints check, with messages a chair can act on.

        Raises ValidationError keyed by field: ``end`` not after ``start``;
        neither ``teams_url`` nor ``venue``; a ``teams_url`` that is not an
        https Microsoft Teams link. (Whether ``start`` is in the past depends
        on the change being made, so ``events.services`` checks it.)
        """
        errors: dict[str, list[str]] = {}
        self.title = self.title.strip()
        self.teams_url = self.teams_url.strip()
        self.venue = self.venue.strip()
        self.dial_in = self.dial_in.strip()
        if self.start and self.end and self.end <= self.start:
            errors.setdefault("end", []).append("The end time must be after the start time.")
        if not self.teams_url and not self.venue:
            errors.setdefault("teams_url", []).append(
                "Give a Microsoft Teams link or a venue (or both)."
            )
        if self.teams_url and not is_teams_url(self.teams_url):
            errors.setdefault("teams_url", []).append(
                f"Enter a Microsoft Teams meeting link starting {TEAMS_LINK_STARTS}"
            )
        if errors:
            raise ValidationError(errors)


class Invitation(models.Model):
    """One person's invitation to one meeting, and their answer (their PARTSTAT)."""

    class Response(models.TextChoices):
        NEEDS_ACTION = "needs_action", "Not yet answered"
        IN_PERSON = "in_person", "Attending in person"
        ONLINE = "online", "Attending online"
        # Accepted without saying how (e.g. the Accept button in Outlook).
        ATTENDING = "attending", "Attending"
        TENTATIVE = "tentative", "Tentative"
        APOLOGIES = "apologies", "Apologies"

    class Source(models.TextChoices):
        SITE = "site", "SIG Hub"
        CALENDAR = "calendar", "Calendar reply"
        CHAIR = "chair", "Recorded by the chair"

    ATTENDING_RESPONSES = (Response.IN_PERSON, Response.ONLINE, Response.ATTENDING)

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    response = models.CharField(
        max_length=20, choices=Response.choices, default=Response.NEEDS_ACTION
    )
    note = models.CharField(max_length=500, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=20, choices=Source.choices, blank=True)
    # Set while an in-person answer waits for a place (first come, first served:
    # the waiting list is ordered by this, then id).
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    # The SEQUENCE and DTSTAMP of the last METHOD:REPLY applied (RFC 5546 2.1.5):
    # an older reply never overwrites a newer answer.
    reply_sequence = models.IntegerField(null=True, blank=True)
    reply_dtstamp = models.DateTimeField(null=True, blank=True)
    # The meeting start the last reminder was sent for: a moved meeting gets a new one.
    reminded_for_start = models.DateTimeField(null=True, blank=True)
    # The SEQUENCE of the last REQUEST or CANCEL mailed to this person.
    sent_sequence = models.IntegerField(null=True, blank=True)
    # Set when the person was taken off the meeting (left the group): a CANCEL went to them.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], name="invitation_once_per_person"
            ),
            models.CheckConstraint(
                condition=Q(waitlisted_at__isnull=True) | Q(response="in_person"),
                name="invitation_only_in_person_answers_wait",
            ),
        ]
        indexes = [models.Index(fields=["meeting", "response"])]

    def __str__(self) -> str:
        return f"{self.person} to {self.meeting} ({self.get_response_display()})"

    @property
    def is_waitlisted(self) -> bool:
        return self.waitlisted_at is not None
