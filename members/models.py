"""The network and its people: ICBs, trusts, staff groups, groups and memberships.

A SIG and a task-and-finish group are both a :class:`Group` (``kind`` tells
them apart; a task-and-finish group has its SIG as ``parent``). A person's
place in a group is a :class:`Membership` with a role and a status.
"""

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


def new_calendar_token() -> str:
    """A fresh secret for a personal calendar feed URL: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


class Network(models.Model):
    """The imaging network itself (one row, loaded from the network file)."""

    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    mailbox = models.EmailField(blank=True)
    host_trust_ods_code = models.CharField(max_length=10, blank=True)

    def __str__(self) -> str:
        return self.name


class ICB(models.Model):
    """An integrated care board, keyed by its ODS code (e.g. ``QHL``)."""

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = "ICB"
        verbose_name_plural = "ICBs"

    def __str__(self) -> str:
        return self.name


class Trust(models.Model):
    """An NHS trust in the network, keyed by its ODS code (e.g. ``RRK``)."""

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    icb = models.ForeignKey(ICB, on_delete=models.PROTECT, related_name="trusts")
    specialist = models.CharField(max_length=100, blank=True)
    # Other names people use for the trust (hospital names, abbreviations).
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffGroup(models.Model):
    """A staff group such as "Sonographer" (the list comes from the network file)."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class PersonManager(BaseUserManager):
    """Manager for :class:`Person`, whose identifier is the (lower-cased) email address."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("A person needs an email address.")
        email = normalise_email(email)
        user = self.model(email=email, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        """Create an ordinary person. ``password`` is optional: sign-in is by emailed code."""
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        """Create a network administrator with the Django admin."""
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


def normalise_email(address: str) -> str:
    """Strip spaces and lower-case the whole address (NHSmail addresses are case-insensitive)."""
    return (address or "").strip().lower()


class Person(AbstractBaseUser, PermissionsMixin):
    """A member of staff: the site's user model, identified by work email."""

    email = models.EmailField("work email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    staff_group = models.ForeignKey(
        StaffGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    is_staff = models.BooleanField(
        "network office", default=False,
        help_text="Network office staff: can use the admin and the network pages.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)

    objects = PersonManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = "person"
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="person_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]


class Group(models.Model):
    """A SIG, or a task-and-finish group belonging to a SIG (``parent``)."""

    class Kind(models.TextChoices):
        SIG = "sig", "Special interest group"
        TASK_AND_FINISH = "taskfinish", "Task-and-finish group"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SIG)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    summary = models.TextField(blank=True)
    aim = models.TextField(blank=True)
    work_programme = models.JSONField(default=list, blank=True)
    established = models.CharField(max_length=20, blank=True, help_text="e.g. 2023-07")
    chair_trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    # --- Task-and-finish groups only (checked by the constraints below) ---------
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        RECRUITING = "recruiting", "Recruiting"
        ACTIVE = "active", "Under way"
        COMPLETED = "completed", "Completed"
        CLOSED_EARLY = "closed_early", "Closed early"

    # A SIG has no lifecycle: its status stays at the default and is never shown.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    deliverables = models.TextField(blank=True, help_text="What the group will produce.")
    hours_per_month = models.PositiveSmallIntegerField(
        "time commitment (hours per month)", null=True, blank=True)
    places = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most volunteers at once; empty for no limit.")
    requires_approval = models.BooleanField(
        default=False, help_text="Sign-ups wait for a lead to accept or decline them.")
    signup_closes = models.DateField("sign-up closes", null=True, blank=True,
                                     help_text="The last day people can volunteer.")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField("planned end", null=True, blank=True)
    outcome_summary = models.TextField(blank=True)
    # [{"title": "...", "url": "https://..."}]
    output_links = models.JSONField(default=list, blank=True)
    close_reason = models.TextField(blank=True)
    # When the group completed or closed early: the requests, waiting places and
    # offers it ended then have this ``ended_at`` (so "My groups" can say why).
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="sig", parent__isnull=True)
                           | Q(kind="taskfinish", parent__isnull=False)),
                name="group_parent_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "recruiting", "active", "completed",
                                        "closed_early"]),
                name="group_status_valid",
            ),
            # Volunteering fields belong to task-and-finish groups only.
            models.CheckConstraint(
                condition=Q(kind="taskfinish") | Q(
                    places__isnull=True, hours_per_month__isnull=True,
                    signup_closes__isnull=True, starts_on__isnull=True, ends_on__isnull=True,
                    requires_approval=False, outcome_summary="", close_reason="",
                    status="proposed"),
                name="group_volunteering_fields_taskfinish_only",
            ),
            models.CheckConstraint(
                condition=Q(places__isnull=True) | Q(places__gte=1),
                name="group_places_at_least_one",
            ),
            models.CheckConstraint(
                condition=Q(hours_per_month__isnull=True) | Q(hours_per_month__gte=1),
                name="group_hours_at_least_one",
            ),
            models.CheckConstraint(
                condition=(Q(starts_on__isnull=True) | Q(ends_on__isnull=True)
                           | Q(ends_on__gte=models.F("starts_on"))),
                name="group_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(outcome_summary=""),
                name="group_completed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed_early") | ~Q(close_reason=""),
                name="group_closed_early_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("events:group_detail", kwargs={"slug": self.slug})

    @property
    def is_sig(self) -> bool:
        return self.kind == self.Kind.SIG


class Membership(models.Model):
    """A person's place in a group: role, status, and who decided it and when."""

    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        DEPUTY_CHAIR = "deputy_chair", "Deputy chair"
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"  # leads a task-and-finish group

    class Status(models.TextChoices):
        # SIGs: applied -> active | declined; active -> left.
        APPLIED = "applied", "Applied"
        ACTIVE = "active", "Active"
        DECLINED = "declined", "Declined"
        LEFT = "left", "Left"
        # Task-and-finish groups (members.volunteering): requested -> active |
        # waiting | declined; waiting -> offered -> active | expired | left.
        REQUESTED = "requested", "Requested"
        WAITING = "waiting", "On the waiting list"
        OFFERED = "offered", "Offered a place"
        EXPIRED = "expired", "Offer expired"

    class Source(models.TextChoices):
        SITE = "site", "SIG Hub"
        FORMS_IMPORT = "forms", "Microsoft Forms import"
        APPOINTED = "appointed", "Appointed by the network office"

    CURRENT_STATUSES = (Status.APPLIED, Status.ACTIVE, Status.REQUESTED, Status.WAITING,
                        Status.OFFERED)
    # A volunteer who has signed up and not yet got (or been refused) a place.
    VOLUNTEER_PENDING_STATUSES = (Status.REQUESTED, Status.WAITING, Status.OFFERED)
    CHAIR_ROLES = (Role.CHAIR, Role.DEPUTY_CHAIR)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPLIED)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SITE)
    note = models.TextField(blank=True, help_text="What the person said when applying.")
    applied_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # --- Volunteering for a task-and-finish group -----------------------------
    statement = models.TextField(blank=True, help_text="Why they volunteered (leads only).")
    line_manager_aware = models.BooleanField(
        default=False, help_text="They confirmed their line manager knows they volunteered.")
    waitlisted_at = models.DateTimeField(
        null=True, blank=True, help_text="When they joined the waiting list (its order).")
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "person"]
        constraints = [
            # One current membership per person per group (applied or active in
            # a SIG; requested, waiting, offered or active in a task-and-finish group).
            models.UniqueConstraint(
                fields=["person", "group"],
                condition=Q(status__in=["applied", "active", "requested", "waiting",
                                        "offered"]),
                name="membership_one_current_per_group",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["requested", "waiting", "offered"])
                | Q(line_manager_aware=True),
                name="membership_volunteer_line_manager_aware",
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(waitlisted_at__isnull=False),
                name="membership_waiting_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(
                    offered_at__isnull=False, offer_expires_at__isnull=False,
                    offer_expires_at__gt=models.F("offered_at")),
                name="membership_offer_has_deadline",
            ),
            models.CheckConstraint(
                condition=~Q(role="lead") | Q(status__in=["active", "left"]),
                name="membership_lead_active_or_left",
            ),
        ]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return f"{self.person} in {self.group} ({self.get_status_display()})"

    @property
    def is_chair(self) -> bool:
        return self.status == self.Status.ACTIVE and self.role in self.CHAIR_ROLES

    @property
    def is_lead(self) -> bool:
        return self.status == self.Status.ACTIVE and self.role == self.Role.LEAD

    @property
    def holds_place(self) -> bool:
        """True if this membership takes one of a task-and-finish group's places.

        Active volunteers (not leads) hold a place; so does an open offer,
        which keeps the place for the person offered it until they answer.
        """
        return (self.status == self.Status.OFFERED
                or (self.status == self.Status.ACTIVE and self.role == self.Role.MEMBER))


class GroupTarget(models.Model):
    """A desired mix for a task-and-finish group, shown against who has signed up.

    ``kind`` ``staff_group``: at least ``minimum`` volunteers from ``staff_group``
    (e.g. at least one sonographer). ``each_icb``: at least ``minimum`` from
    each ICB in the network. Targets guide the lead; they never block a sign-up.
    """

    class Kind(models.TextChoices):
        STAFF_GROUP = "staff_group", "From a staff group"
        EACH_ICB = "each_icb", "From each ICB"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    staff_group = models.ForeignKey(
        StaffGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minimum = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["kind", "staff_group__position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="staff_group", staff_group__isnull=False)
                           | Q(kind="each_icb", staff_group__isnull=True)),
                name="grouptarget_staff_group_matches_kind",
            ),
            models.CheckConstraint(condition=Q(minimum__gte=1),
                                   name="grouptarget_minimum_at_least_one"),
            models.UniqueConstraint(fields=["group", "staff_group"],
                                    condition=Q(kind="staff_group"),
                                    name="grouptarget_one_per_staff_group"),
            models.UniqueConstraint(fields=["group"], condition=Q(kind="each_icb"),
                                    name="grouptarget_one_each_icb"),
        ]

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """The target in words: "At least 2 from the sonographer staff group",
        "At least 1 from each ICB" (staff group names do not all pluralise:
        "Administrative and clerical", "Specialty registrar (radiology)")."""
        if self.kind == self.Kind.EACH_ICB:
            return f"At least {self.minimum} from each ICB"
        name = str(self.staff_group)
        if name == "Other":
            return f"At least {self.minimum} from other staff groups"
        if name[:2] != name[:2].upper():  # "Sonographer", not "MRI radiographer"
            name = name[0].lower() + name[1:]
        return f"At least {self.minimum} from the {name} staff group"


class ContentVersion(models.Model):
    """One row of two tokens that change after every committed change: ``token`` to
    what pages and feeds show, ``sessions`` to the ``django_session`` table.

    Written only by :mod:`members.pagecache` (a new random value after each
    transaction that wrote a watched table), read once per request. Random
    values rather than counters: a database restored from a backup brings
    back the tokens its data had, so no entry made from other data can match.
    """

    token = models.BigIntegerField(default=0)
    sessions = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "content version"

    def __str__(self) -> str:
        return f"content version {self.token}, sessions {self.sessions}"


# The outbox, suppressions, delivery events, notice preferences and digests
# (issue 6) live in members.mail.models; importing them here registers them
# with the members app.
from .mail.models import (  # noqa: E402, F401
    DeliveryEvent,
    DigestItem,
    NoticePreference,
    OutboxMessage,
    Suppression,
)
