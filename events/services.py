"""Every write to meetings and invitations: ``<noun>_<verb>(*, ...)`` inside a transaction.

Each change an attendee sees raises the meeting's SEQUENCE and ``updated_at``
(LAST-MODIFIED) and queues one email per attendee, each carrying that
attendee's own iMIP object (rule I4), in the same transaction: nothing is sent
if the change rolls back. ``Meeting.sequence`` is always the highest SEQUENCE
ever sent for the meeting's UID (rules U2, C1); ``Invitation.sent_sequence``
records what each person last received.

Times are aware datetimes, stored in UTC; emails show them in Europe/London.
Rule numbers refer to ``/work/shared/reference/icalendar-interop.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from members.mail import queue_email, render_email
from members.models import Group, Membership, Person

from .ical import (
    METHOD_CANCEL,
    METHOD_REQUEST,
    attendee_from_invitation,
    invitation_calendar,
    joining_details,
    meeting_url,
)
from .models import Invitation, Meeting
from .timeutil import format_date, format_when

logger = logging.getLogger(__name__)

# Fields a chair may change; each is something an attendee sees, so changing
# any of them sends an update (RFC 5546 2.1.4, rule U2).
EDITABLE_FIELDS = ("title", "start", "end", "teams_url", "venue", "dial_in", "description")
# Changes that make earlier answers meaningless: answers are asked for again
# (RFC 5546 3.2.2.2: the organizer may reset PARTSTAT to NEEDS-ACTION).
TIME_FIELDS = ("start", "end")
CHANGE_LABELS = {
    "title": "title", "start": "time", "end": "time", "teams_url": "Microsoft Teams link",
    "venue": "venue", "dial_in": "dial-in details", "description": "description",
}


# How far ahead a meeting may start (a typo'd year such as 9999 is refused).
MAX_YEARS_AHEAD = 2


def _years_after(moment: datetime, years: int) -> datetime:
    """The same instant ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _normalise(field: str, value):
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").strip()
    return value


def _validate(meeting: Meeting, *, now: datetime, check_start: bool) -> None:
    """``full_clean`` plus "starts in the future", all errors raised together by field."""
    errors: dict[str, list[str]] = {}
    try:
        meeting.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
    if check_start and meeting.start and meeting.start <= now:
        errors.setdefault("start", []).append("The meeting must start in the future.")
    if check_start and meeting.start and meeting.start > _years_after(now, MAX_YEARS_AHEAD):
        errors.setdefault("start", []).append(
            f"A meeting can be scheduled up to {MAX_YEARS_AHEAD} years ahead")
    if errors:
        raise ValidationError(errors)


def _current_invitations(meeting: Meeting) -> list[Invitation]:
    return list(
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        .select_related("person")
        .order_by("person__full_name", "person__email")
    )


def _queue_invitation_emails(
    meeting: Meeting,
    *,
    method: str,
    kind: str,
    recipients: Iterable[Invitation],
    attendees: list[Invitation],
    now: datetime,
    changes: list[str] | None = None,
) -> int:
    """Queue one message per recipient with its own calendar part; record ``sent_sequence``.

    ``kind`` picks the wording: ``new``, ``update``, ``cancel`` or ``removed``.
    Returns the number of messages queued.
    """
    attendee_lines = [attendee_from_invitation(invitation) for invitation in attendees]
    context = {
        "meeting": meeting,
        "group": meeting.group,
        "kind": kind,
        "is_request": method == METHOD_REQUEST,
        "when": format_when(meeting.start, meeting.end),
        "date": format_date(meeting.start),
        "network_name": settings.NETWORK_MAILBOX_NAME,
        "details": joining_details(meeting),
        "meeting_url": meeting_url(meeting),
        "changes": changes or [],
    }
    sent = []
    for invitation in recipients:
        person = invitation.person
        calendar = invitation_calendar(
            meeting, method=method, attendees=attendee_lines, recipient=person.email,
            dtstamp=now, removed=kind == "removed",
        )
        queue_email(render_email(
            "events/invitation", {**context, "person": person, "invitation": invitation},
            to=person.email, calendar=calendar, calendar_method=method,
        ))
        sent.append(invitation.pk)
    Invitation.objects.filter(pk__in=sent).update(sent_sequence=meeting.sequence)
    return len(sent)


def _active_people(group: Group):
    return Person.objects.filter(
        memberships__group=group, memberships__status=Membership.Status.ACTIVE, is_active=True
    ).distinct()


@transaction.atomic
def meeting_schedule(
    *,
    group: Group,
    scheduled_by: Person | None,
    title: str,
    start: datetime,
    end: datetime,
    teams_url: str = "",
    venue: str = "",
    dial_in: str = "",
    description: str = "",
) -> Meeting:
    """Schedule a meeting of ``group`` and invite every active member.

    Args:
        start, end: aware datetimes (stored in UTC); ``start`` in the future.
        teams_url: an https Microsoft Teams link; ``venue`` a place. At least one.

    Each active member gets an Invitation and an email with METHOD:REQUEST,
    SEQUENCE 0 (rules I1-I5, T2). Permission (a chair of ``group``) is the
    caller's to check.

    Raises ValidationError keyed by field (``start``, ``end``, ``teams_url``,
    ``title``...) with messages for the chair (among them: ``start`` in the
    past or more than 2 years ahead); a ValidationError without a
    field if ``group`` is not a SIG (task-and-finish groups have no members
    to invite until volunteering for them opens).
    """
    if not group.is_sig:
        raise ValidationError(
            "Meetings can only be scheduled for a SIG. Task-and-finish groups have no "
            "members to invite yet.", code="not_a_sig")
    now = timezone.now()
    meeting = Meeting(
        group=group, created_by=scheduled_by, created_at=now, updated_at=now, sequence=0,
        title=_normalise("title", title), start=start, end=end,
        teams_url=_normalise("teams_url", teams_url), venue=_normalise("venue", venue),
        dial_in=_normalise("dial_in", dial_in),
        description=_normalise("description", description),
    )
    _validate(meeting, now=now, check_start=True)
    meeting.save()
    invitations = Invitation.objects.bulk_create(
        [Invitation(meeting=meeting, person=person) for person in _active_people(group)]
    )
    invitations.sort(key=lambda i: (i.person.full_name, i.person.email))
    count = _queue_invitation_emails(
        meeting, method=METHOD_REQUEST, kind="new", recipients=invitations,
        attendees=invitations, now=now,
    )
    logger.info("Meeting %s scheduled by %s; %d invitations", meeting.uid, scheduled_by, count)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, updated_by: Person | None, **changes) -> Meeting:
    """Change what attendees see of a meeting and send everyone invited an update.

    ``changes`` are any of :data:`EDITABLE_FIELDS` (datetimes aware). Only if
    something actually differs: SEQUENCE rises by one, ``updated_at`` becomes
    now, and every current invitee gets a METHOD:REQUEST with the same UID,
    the higher SEQUENCE, a later DTSTAMP and the full attendee list (rules
    U1-U3). If the time changed, earlier answers are reset to "not yet
    answered". If nothing differs, nothing is saved or sent.

    Returns the (reloaded) meeting.

    Raises:
        TypeError: for a field that is not editable.
        ValidationError: the meeting is cancelled or over; a new time that
            starts in the past or more than 2 years ahead; anything
            :meth:`Meeting.clean` refuses.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))} of a meeting.")
    now = timezone.now()
    meeting = Meeting.objects.select_for_update().select_related("group").get(pk=meeting.pk)
    if meeting.is_cancelled:
        raise ValidationError("This meeting has been cancelled, so it cannot be changed.")
    if meeting.end <= now:
        raise ValidationError("This meeting has already taken place, so it cannot be changed.")

    changed = [field for field, value in changes.items()
               if getattr(meeting, field) != _normalise(field, value)]
    if not changed:
        return meeting
    for field in changed:
        setattr(meeting, field, _normalise(field, changes[field]))
    time_changed = any(field in TIME_FIELDS for field in changed)
    _validate(meeting, now=now, check_start=time_changed)

    meeting.sequence += 1
    meeting.updated_at = now
    meeting.save()
    if time_changed:
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True).update(
            response=Invitation.Response.NEEDS_ACTION, responded_at=None
        )
    invitations = _current_invitations(meeting)
    labels = list(dict.fromkeys(CHANGE_LABELS[field] for field in EDITABLE_FIELDS
                                if field in changed))
    _queue_invitation_emails(
        meeting, method=METHOD_REQUEST, kind="update", recipients=invitations,
        attendees=invitations, now=now, changes=labels,
    )
    logger.info("Meeting %s updated by %s (%s); SEQUENCE %d",
                meeting.uid, updated_by, ", ".join(changed), meeting.sequence)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, cancelled_by: Person | None) -> Meeting:
    """Cancel a meeting and tell everyone invited.

    STATUS becomes CANCELLED, SEQUENCE rises, ``cancelled_at`` and
    ``updated_at`` become now, and every current invitee gets a METHOD:CANCEL
    (same UID, higher SEQUENCE, STATUS:CANCELLED, ORGANIZER, the attendees,
    new DTSTAMP: rule C1). Feeds keep it, struck through, for 30 days (F6).

    Raises ValidationError if it is already cancelled or has already ended.
    """
    now = timezone.now()
    meeting = Meeting.objects.select_for_update().select_related("group").get(pk=meeting.pk)
    if meeting.is_cancelled:
        raise ValidationError("This meeting has already been cancelled.")
    if meeting.end <= now:
        raise ValidationError("This meeting has already taken place, so it cannot be cancelled.")
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_at = now
    meeting.updated_at = now
    meeting.sequence += 1
    meeting.full_clean()
    meeting.save()
    invitations = _current_invitations(meeting)
    _queue_invitation_emails(
        meeting, method=METHOD_CANCEL, kind="cancel", recipients=invitations,
        attendees=invitations, now=now,
    )
    logger.info("Meeting %s cancelled by %s", meeting.uid, cancelled_by)
    return meeting


@transaction.atomic
def invitation_respond(*, invitation: Invitation, response: str, note: str = "",
                       via: str = Invitation.Source.SITE) -> Invitation:
    """Record a person's answer to their invitation, with a note.

    Args:
        response: any ``Invitation.Response`` except ``NEEDS_ACTION``.
        note: optional, up to 500 characters (e.g. "joining late").
        via: where the answer came from (``Invitation.Source``), kept in
            ``answered_via``: the site, a calendar reply, or the chair.

    Raises ValidationError for another response, a withdrawn invitation, or
    a meeting that is cancelled or over.
    """
    if (response not in Invitation.Response.values
            or response == Invitation.Response.NEEDS_ACTION):
        raise ValidationError({"response": "Choose attending or apologies."})
    invitation = (Invitation.objects.select_for_update()
                  .select_related("meeting", "person").get(pk=invitation.pk))
    meeting = invitation.meeting
    if invitation.removed_at is not None:
        raise ValidationError("You are no longer invited to this meeting.")
    if meeting.is_cancelled:
        raise ValidationError("This meeting has been cancelled.")
    if meeting.end <= timezone.now():
        raise ValidationError("This meeting has already taken place.")
    invitation.response = response
    invitation.note = _normalise("note", note)
    invitation.responded_at = timezone.now()
    invitation.answered_via = via
    invitation.full_clean()
    invitation.save(update_fields=["response", "note", "responded_at", "answered_via"])
    return invitation


def _raise_sequence_above(meeting: Meeting, sent_sequence: int | None, *, now: datetime) -> None:
    # U2/C1: what we send this person must carry a SEQUENCE higher than the
    # last one they got (e.g. the CANCEL when they left, if they rejoin).
    if sent_sequence is not None and sent_sequence >= meeting.sequence:
        meeting.sequence = sent_sequence + 1
        meeting.updated_at = now
        meeting.save(update_fields=["sequence", "updated_at"])


@transaction.atomic
def invitations_add_member(*, membership: Membership) -> int:
    """Invite a newly active member to the group's future scheduled meetings.

    For each meeting that has not started, the person gets an Invitation (a
    withdrawn one is restored, answer reset) and a METHOD:REQUEST at the
    meeting's current SEQUENCE, listing every current attendee; the SEQUENCE
    is raised first only if this person was already sent that one (a rejoiner
    who was sent a CANCEL). Meetings they already hold an up-to-date
    invitation to are skipped. Returns the number of messages queued.
    """
    person = membership.person
    if membership.status != Membership.Status.ACTIVE or not person.is_active:
        return 0
    now = timezone.now()
    meetings = (Meeting.objects.select_for_update().select_related("group")
                .filter(group_id=membership.group_id, status=Meeting.Status.SCHEDULED,
                        start__gt=now).order_by("start"))
    sent = 0
    for meeting in meetings:
        invitation, created = Invitation.objects.get_or_create(meeting=meeting, person=person)
        if (not created and invitation.removed_at is None
                and invitation.sent_sequence == meeting.sequence):
            continue
        if invitation.removed_at is not None:
            invitation.removed_at = None
            invitation.response = Invitation.Response.NEEDS_ACTION
            invitation.responded_at = None
            invitation.note = ""
            invitation.save(update_fields=["removed_at", "response", "responded_at", "note"])
        _raise_sequence_above(meeting, invitation.sent_sequence, now=now)
        invitation.person = person
        sent += _queue_invitation_emails(
            meeting, method=METHOD_REQUEST, kind="new", recipients=[invitation],
            attendees=_current_invitations(meeting), now=now,
        )
    return sent


@transaction.atomic
def invitations_withdraw_member(*, membership: Membership) -> int:
    """Take a person who left a group off its future meetings: a CANCEL to them only.

    For each scheduled meeting of the group that has not started and that
    they are invited to: SEQUENCE rises (C1: a cancellation carries a higher
    SEQUENCE), the invitation gets ``removed_at``, and the person alone gets
    a METHOD:CANCEL listing only them as ATTENDEE (RFC 5546 3.2.5). The
    other attendees are not mailed. Returns the number of messages queued.
    """
    now = timezone.now()
    invitations = list(
        Invitation.objects.select_for_update()
        .filter(person_id=membership.person_id, meeting__group_id=membership.group_id,
                meeting__status=Meeting.Status.SCHEDULED, meeting__start__gt=now,
                removed_at__isnull=True)
        .select_related("person", "meeting", "meeting__group")
        .order_by("meeting__start")
    )
    sent = 0
    for invitation in invitations:
        meeting = Meeting.objects.select_for_update().select_related("group").get(
            pk=invitation.meeting_id)
        meeting.sequence += 1
        meeting.updated_at = now
        meeting.save(update_fields=["sequence", "updated_at"])
        invitation.removed_at = now
        invitation.save(update_fields=["removed_at"])
        sent += _queue_invitation_emails(
            meeting, method=METHOD_CANCEL, kind="removed", recipients=[invitation],
            attendees=[invitation], now=now,
        )
    return sent
