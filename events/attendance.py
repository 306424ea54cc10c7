"""Who was at a meeting: derived from the invitation answers, then recorded by the chair.

Reads (:func:`attendance_rows`) and writes (``attendance_*``, ``guest_*``) for
attendance, kept apart from ``events.services`` (meetings and invitations).

Rules (issue 4, "Attendance"):

- Until the chair records someone, their attendance is **derived** from their
  answer to the invitation: in person (holding a place) -> present in person;
  online -> present online; apologies -> apologies; not answered, tentative,
  or still on the in-person waiting list -> absent.
- "Attending" without saying how (the Accept button in Outlook) is present
  **in person** when the meeting has only a venue (no Teams link: in person is
  the only way to attend) and present **online** otherwise. The chair
  corrects it on the day; it is shown as derived until they do.
- Once the chair records someone (:func:`attendance_record`,
  :func:`attendance_record_many`, or :func:`attendance_take` for everyone at
  once) the :class:`~events.models.Attendance` row wins over the answer.
- Invitations withdrawn (``Invitation.removed_at``: the person left the group
  before the meeting) are left out. A row the chair recorded is kept even so:
  it is the record of the meeting.
- Guests ("in attendance": speakers, observers) are rows with ``guest_name``
  and ``guest_organisation`` instead of a person.
- Attendance can be recorded from the start of the meeting's day in
  Europe/London (the chair takes it on the day, at or after the meeting),
  never for a cancelled meeting (:func:`attendance_is_open`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from members.models import Membership, Person

from . import selectors
from .ical import LONDON
from .models import Attendance, Invitation, Meeting
from .timeutil import format_date, to_london

TRUST_NOT_GIVEN = "Trust not given"
GUEST_NAME_MAX = 200

# Display order: present (in person and online together), apologies, absent.
STATUS_ORDER = {
    Attendance.Status.IN_PERSON: 0,
    Attendance.Status.ONLINE: 0,
    Attendance.Status.APOLOGIES: 1,
    Attendance.Status.ABSENT: 2,
}


@dataclass(frozen=True)
class AttendanceRow:
    """One line of a meeting's attendance, for the minutes, their PDF and the chair's page.

    ``person`` is the :class:`~members.models.Person` (None for a guest);
    ``name`` their full name (or the guest's name); ``trust_name`` their trust's
    name, ``"Trust not given"`` if none (``""`` for a guest); ``organisation``
    the guest's organisation (``""`` for a person); ``status`` an
    :class:`~events.models.Attendance.Status` value; ``is_guest``; ``recorded``
    True if the chair recorded it (an Attendance row), False if derived from the
    invitation answer. ``guest_id`` is the Attendance pk of a guest (for removing
    them), else None.
    """

    person: Person | None
    name: str
    trust_name: str
    organisation: str
    status: str
    is_guest: bool
    recorded: bool
    guest_id: int | None = None

    @property
    def is_present(self) -> bool:
        return self.status in Attendance.PRESENT

    @property
    def status_label(self) -> str:
        return Attendance.Status(self.status).label


def derived_status(invitation: Invitation, meeting: Meeting) -> str:
    """The attendance an invitation's answer implies (see the module docstring).

    Returns an :class:`~events.models.Attendance.Status` value. No queries.
    """
    response = invitation.response
    if response == Invitation.Response.IN_PERSON:
        return (Attendance.Status.ABSENT if invitation.waitlisted_at is not None
                else Attendance.Status.IN_PERSON)
    if response == Invitation.Response.ONLINE:
        return Attendance.Status.ONLINE
    if response == Invitation.Response.ATTENDING:
        venue_only = bool(meeting.venue) and not meeting.teams_url
        return Attendance.Status.IN_PERSON if venue_only else Attendance.Status.ONLINE
    if response == Invitation.Response.APOLOGIES:
        return Attendance.Status.APOLOGIES
    return Attendance.Status.ABSENT


def _person_row(person: Person, status: str, *, recorded: bool) -> AttendanceRow:
    trust = person.trust.name if person.trust_id and person.trust else TRUST_NOT_GIVEN
    return AttendanceRow(person=person, name=person.get_full_name(), trust_name=trust,
                         organisation="", status=status, is_guest=False, recorded=recorded)


def _sort_key(row: AttendanceRow):
    return (STATUS_ORDER[row.status], row.is_guest, row.name.lower(), row.name)


def attendance_rows(*, meeting: Meeting) -> list[AttendanceRow]:
    """Everyone at (or invited to) ``meeting``, recorded or derived, in display order.

    Recorded :class:`~events.models.Attendance` rows first win; every current
    invitee (``removed_at`` not set) without one is derived from their answer
    (:func:`derived_status`). Guests come from their rows. Sorted present
    first (in person and online together), then apologies, then absent;
    within each, people before guests, by name (case-insensitive).

    Two queries, whatever the number of people. Returns a list of
    :class:`AttendanceRow`.
    """
    recorded = list(
        Attendance.objects.filter(meeting=meeting)
        .select_related("person", "person__trust")
        .order_by("id")
    )
    seen = {row.person_id for row in recorded if row.person_id}
    invitations = (
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        .exclude(person_id__in=seen)
        .select_related("person", "person__trust")
    )
    rows: list[AttendanceRow] = []
    for row in recorded:
        if row.person_id:
            rows.append(_person_row(row.person, row.status, recorded=True))
        else:
            rows.append(AttendanceRow(
                person=None, name=row.guest_name, trust_name="",
                organisation=row.guest_organisation, status=row.status, is_guest=True,
                recorded=True, guest_id=row.pk))
    for invitation in invitations:
        rows.append(_person_row(invitation.person, derived_status(invitation, meeting),
                                recorded=False))
    rows.sort(key=_sort_key)
    return rows


def attendance_opens_at(meeting: Meeting) -> datetime:
    """The moment attendance (and minutes) can first be recorded: midnight, Europe/London,
    at the start of the meeting's day, as an aware datetime."""
    day = to_london(meeting.start).date()
    return datetime.combine(day, time(0), tzinfo=LONDON)


def attendance_is_open(meeting: Meeting, *, now: datetime | None = None) -> bool:
    """True if attendance can be recorded now: the meeting is not cancelled and its day
    (Europe/London) has come. No queries."""
    now = now or timezone.now()
    return not meeting.is_cancelled and now >= attendance_opens_at(meeting)


LOCKED_MESSAGE = (
    "The minutes of this meeting are approved, so its attendance is locked. To correct "
    "it, amend the minutes: a change to approved minutes is a new version with a reason.")


def attendance_is_locked(meeting: Meeting) -> bool:
    """True once the meeting's minutes are approved or published: the attendance is part
    of them, and approved minutes are locked. One query."""
    return selectors.minutes_locked(meeting=meeting)


def _check_open(meeting: Meeting) -> None:
    if attendance_is_locked(meeting):
        raise ValidationError(LOCKED_MESSAGE, code="locked")
    if meeting.is_cancelled:
        raise ValidationError("This meeting was cancelled, so it has no attendance to record.",
                              code="cancelled")
    if not attendance_is_open(meeting):
        raise ValidationError(
            "Attendance can be recorded from the day of the meeting "
            f"({format_date(meeting.start)}).", code="too_early")


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def _check_status(status: str) -> str:
    if status not in Attendance.Status.values:
        raise ValidationError({"status": ["Choose present in person, present online, "
                                          "apologies or absent"]}, code="invalid_status")
    return status


def _may_attend(meeting: Meeting, person_ids: set[int]) -> set[int]:
    """The ids among ``person_ids`` who are invited, recorded, or active members of the group."""
    invited = set(Invitation.objects.filter(meeting=meeting, removed_at__isnull=True,
                                            person_id__in=person_ids)
                  .values_list("person_id", flat=True))
    recorded = set(Attendance.objects.filter(meeting=meeting, person_id__in=person_ids)
                   .values_list("person_id", flat=True))
    members = set(Membership.objects.filter(group_id=meeting.group_id,
                                            status=Membership.Status.ACTIVE,
                                            person_id__in=person_ids)
                  .values_list("person_id", flat=True))
    return invited | recorded | members


@transaction.atomic
def attendance_take(*, meeting: Meeting, by: Person | None) -> int:
    """Record every current invitee not yet recorded, as their answer implies.

    The chair then corrects the rows on the attendance page. Rows already
    recorded are left alone, so taking attendance twice changes nothing.
    Returns the number of rows created.

    Raises ValidationError if the meeting was cancelled or its day (Europe/London)
    has not come.
    """
    meeting = _lock(meeting)
    _check_open(meeting)
    now = timezone.now()
    seen = Attendance.objects.filter(meeting=meeting, person__isnull=False).values("person_id")
    invitations = (Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
                   .exclude(person_id__in=seen))
    rows = [Attendance(meeting=meeting, person_id=invitation.person_id,
                       status=derived_status(invitation, meeting), recorded_by=by,
                       recorded_at=now)
            for invitation in invitations]
    Attendance.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def attendance_record_many(*, meeting: Meeting, statuses: Mapping[int, str],
                           by: Person | None) -> int:
    """Record several people's attendance at once (the chair's attendance page).

    Args:
        statuses: person pk -> :class:`~events.models.Attendance.Status` value.

    Each person must be invited (not withdrawn), already recorded, or an active
    member of the group. Rows are created or updated; a row whose status does
    not change is left as it was (its ``recorded_by``/``recorded_at`` kept).
    Returns the number of rows created or changed.

    Raises ValidationError (nothing saved) if the meeting was cancelled, its
    day has not come, a status is not one of the four, or a person may not be
    recorded.
    """
    meeting = _lock(meeting)
    _check_open(meeting)
    for status in statuses.values():
        _check_status(status)
    ids = {int(pk) for pk in statuses}
    allowed = _may_attend(meeting, ids)
    if ids - allowed:
        raise ValidationError(
            "Someone on the list is not a member of the group or invited to this meeting. "
            "Add them as a guest instead.", code="not_invited")
    existing = {row.person_id: row for row in
                Attendance.objects.filter(meeting=meeting, person_id__in=ids)}
    now = timezone.now()
    changed = 0
    for person_id, status in statuses.items():
        row = existing.get(int(person_id))
        if row is None:
            Attendance.objects.create(meeting=meeting, person_id=int(person_id), status=status,
                                      recorded_by=by, recorded_at=now)
        elif row.status != status:
            row.status, row.recorded_by, row.recorded_at = status, by, now
            row.save(update_fields=["status", "recorded_by", "recorded_at"])
        else:
            continue
        changed += 1
    return changed


def attendance_record(*, meeting: Meeting, person: Person, status: str,
                      by: Person | None) -> Attendance:
    """Record one person's attendance (``status`` an Attendance.Status value).

    Same rules and errors as :func:`attendance_record_many`. Returns their row.
    """
    with transaction.atomic():
        attendance_record_many(meeting=meeting, statuses={person.pk: status}, by=by)
        return Attendance.objects.get(meeting=meeting, person=person)


@transaction.atomic
def guest_add(*, meeting: Meeting, name: str, organisation: str = "",
              status: str = Attendance.Status.IN_PERSON, by: Person | None) -> Attendance:
    """Add a guest "in attendance" (a speaker or observer who is not invited).

    ``name`` is required (200 characters at most), ``organisation`` optional
    (200 at most); ``status`` defaults to present in person. Returns the new row.

    Raises ValidationError keyed by ``name``, ``organisation`` or ``status``
    (nothing saved); also if the meeting was cancelled or its day has not come.
    """
    meeting = _lock(meeting)
    _check_open(meeting)
    name = " ".join((name or "").split())
    organisation = " ".join((organisation or "").split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter the guest's name"]
    elif len(name) > GUEST_NAME_MAX:
        errors["name"] = [f"Name must be {GUEST_NAME_MAX} characters or fewer"]
    if len(organisation) > GUEST_NAME_MAX:
        errors["organisation"] = [f"Organisation must be {GUEST_NAME_MAX} characters or fewer"]
    if status not in Attendance.Status.values:
        errors["status"] = ["Choose present in person, present online, apologies or absent"]
    if errors:
        raise ValidationError(errors)
    return Attendance.objects.create(meeting=meeting, guest_name=name,
                                     guest_organisation=organisation, status=status,
                                     recorded_by=by, recorded_at=timezone.now())


@transaction.atomic
def guest_remove(*, meeting: Meeting, guest_id: int, by: Person | None) -> None:
    """Remove a guest row of ``meeting`` (people are marked absent instead, never removed).

    Raises ValidationError if there is no such guest at this meeting, or the
    meeting was cancelled.
    """
    meeting = _lock(meeting)
    if attendance_is_locked(meeting):
        raise ValidationError(LOCKED_MESSAGE, code="locked")
    if meeting.is_cancelled:
        raise ValidationError("This meeting was cancelled, so it has no attendance to record.",
                              code="cancelled")
    deleted, _ = Attendance.objects.filter(meeting=meeting, pk=guest_id,
                                           person__isnull=True).delete()
    if not deleted:
        raise ValidationError("That guest is not on this meeting's attendance.",
                              code="no_such_guest")
