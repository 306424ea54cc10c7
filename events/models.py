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


# --- Agendas, papers, attendance, minutes and the action log (issue 4) --------


def paper_storage():
    """The private storage papers live in (``STORAGES["papers"]``): never under a public URL.

    Papers are served only by ``events.views_agenda.paper_download`` after a
    permission check.
    """
    from django.core.files.storage import storages

    return storages["papers"]


def paper_upload_to(instance: "PaperVersion", filename: str) -> str:
    """``papers/<meeting pk>/<random hex>.<ext>``: the stored name never reuses the uploader's.

    The original (cleaned) name is kept in ``PaperVersion.original_name`` for
    the download's Content-Disposition.
    """
    ext = instance.extension or "bin"
    return f"papers/{instance.paper.item.meeting_id}/{uuid.uuid4().hex}.{ext}"


class AgendaItem(models.Model):
    """One item on a meeting's agenda, in ``position`` order.

    A new meeting starts with the standing items (``Kind`` other than ITEM).
    The "minutes of the last meeting" item is where the last meeting's
    minutes are approved; the "action log" item lists the group's open
    actions from earlier meetings (computed, never copied, so each open action
    is carried forward exactly once and a closed one drops off).
    """

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome and apologies"
        LAST_MINUTES = "last_minutes", "Minutes of the last meeting"
        ACTIONS = "actions", "Action log and matters arising"
        ITEM = "item", "Item"
        AOB = "aob", "Any other business"
        NEXT_MEETING = "next_meeting", "Date of next meeting"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ITEM)
    title = models.CharField(max_length=200)
    presenter = models.CharField(max_length=200, blank=True)
    minutes_allowed = models.PositiveSmallIntegerField(
        "time allowed (minutes)", default=10,
    )
    description = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped when the title, presenter, time, description or papers change:
    # compared with the last AgendaPublication to mark "changed since the agenda was sent".
    changed_at = models.DateTimeField(default=timezone.now)
    # Items removed after the agenda was published are kept (and shown struck
    # through as "removed"); before publication they are deleted outright.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        indexes = [models.Index(fields=["meeting", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes_allowed__lte=600), name="agenda_item_at_most_ten_hours"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_standing(self) -> bool:
        return self.kind != self.Kind.ITEM


class AgendaPublication(models.Model):
    """Each time the chair publishes (or republishes) a meeting's agenda pack.

    The latest row is the agenda members were last sent; agenda items and
    papers changed after its ``published_at`` are marked as later changes.
    """

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="agenda_publications"
    )
    number = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(
        max_length=500, blank=True, help_text="What changed, for a republication."
    )
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["meeting", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="agenda_publication_number"),
        ]

    def __str__(self) -> str:
        return f"Agenda of {self.meeting} ({self.number})"


class Paper(models.Model):
    """A paper attached to an agenda item. Its file is the latest :class:`PaperVersion`."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="papers")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "created_at", "id"]

    def __str__(self) -> str:
        return self.title


class PaperVersion(models.Model):
    """One uploaded file of a paper. Replacing a paper adds a version; none is deleted."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(default=1)
    file = models.FileField(storage=paper_storage, upload_to=paper_upload_to, max_length=300)
    original_name = models.CharField(
        max_length=255, help_text="The uploaded name, cleaned of any path."
    )
    extension = models.CharField(
        max_length=10, help_text="pdf, docx, pptx, xlsx... from the content."
    )
    content_type = models.CharField(
        max_length=150, help_text="MIME type detected from the content."
    )
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paper", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "number"], name="paper_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.paper} v{self.number}"


class Attendance(models.Model):
    """Who was at a meeting, as the chair recorded it (taken first from the answers).

    A member of the group has ``person`` set; a guest ("in attendance") has
    ``guest_name`` and ``guest_organisation`` instead.
    """

    class Status(models.TextChoices):
        IN_PERSON = "in_person", "Present in person"
        ONLINE = "online", "Present online"
        APOLOGIES = "apologies", "Apologies"
        ABSENT = "absent", "Absent"

    PRESENT = (Status.IN_PERSON, Status.ONLINE)

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="attendance",
    )
    guest_name = models.CharField(max_length=200, blank=True)
    guest_organisation = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False),
                name="attendance_once_per_person",
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False, guest_name="")
                | Q(person__isnull=True) & ~Q(guest_name=""),
                name="attendance_person_or_guest",
            ),
        ]

    def __str__(self) -> str:
        who = self.person or self.guest_name
        return f"{who} at {self.meeting}: {self.get_status_display()}"


class Minutes(models.Model):
    """The minutes of one meeting: a status and every version ever saved.

    draft -> circulated (emailed to attendees for comment) -> approved (at a
    later meeting, or by the chair with a reason) -> published. Approved and
    published minutes are locked: a change makes a new version with its
    author and reason.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CIRCULATED = "circulated", "Circulated for comment"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"

    LOCKED = (Status.APPROVED, Status.PUBLISHED)

    class Approval(models.TextChoices):
        AT_MEETING = "meeting", "At a meeting"
        BY_CHAIR = "chair", "By the chair"

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    circulated_at = models.DateTimeField(null=True, blank=True)
    circulated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    approval = models.CharField(max_length=10, choices=Approval.choices, blank=True)
    approved_at_meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="minutes_approved",
    )
    approval_reason = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Published minutes may be opened to every signed-in member of network staff.
    open_to_network = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "minutes"
        constraints = [
            models.CheckConstraint(
                condition=~Q(approval="chair") | ~Q(approval_reason=""),
                name="minutes_chair_approval_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(approval="meeting") | Q(approved_at_meeting__isnull=False),
                name="minutes_meeting_approval_names_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED


class MinutesVersion(models.Model):
    """One saved version of a meeting's minutes; never changed once written.

    ``entries`` is a list of ``{"item": <AgendaItem pk or None>, "title": str,
    "text": str}`` in agenda order, ``text`` being Markdown (rendered through
    ``events.markup``, which sanitises it).
    """

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    entries = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(
        max_length=500, blank=True, help_text="Required once the minutes are approved."
    )
    status_when_saved = models.CharField(max_length=20, choices=Minutes.Status.choices)

    class Meta:
        ordering = ["minutes", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "number"], name="minutes_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} v{self.number}"


class Action(models.Model):
    """An action agreed at a meeting: what, who, by when, and where it stands.

    Open actions of a group appear under "action log and matters arising" on
    every later meeting's agenda until they are done or dropped.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="actions")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    description = models.TextField(max_length=1000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    status_note = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The due date the last overdue reminder was sent for: a new due date gets a new one.
    reminded_for_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["group", "created_at", "id"]
        indexes = [
            models.Index(fields=["group", "status"]),
            models.Index(fields=["owner", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(status_note=""),
                name="action_dropped_has_note",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | ~Q(status="open") & Q(closed_at__isnull=False),
                name="action_closed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def reference(self) -> str:
        """A short reference for minutes and emails: ``A12``."""
        return f"A{self.pk}"


class ActionUpdate(models.Model):
    """One change to an action's status or note, kept as its history."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=10, choices=Action.Status.choices)
    note = models.CharField(max_length=1000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["action", "at", "id"]

    def __str__(self) -> str:
        return f"{self.action.reference}: {self.get_status_display()}"
