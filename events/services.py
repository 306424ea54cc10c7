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
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from members.mail import queue_email, render_email
from members.models import Group, Membership, Person

from .ical import (
    METHOD_CANCEL,
    METHOD_REQUEST,
    attendee_from_invitation,
    invitation_calendars,
    joining_details,
    meeting_url,
)
from .models import Invitation, Meeting
from .timeutil import format_date, format_when

logger = logging.getLogger(__name__)

# Fields a chair may change. Each but the in-person places is something an
# attendee sees, so changing any of those sends an update (RFC 5546 2.1.4,
# rule U2); the places are not in anyone's calendar (see UNSEEN_FIELDS).
EDITABLE_FIELDS = ("title", "start", "end", "teams_url", "venue", "dial_in", "description",
                   "in_person_places")
# Editable fields no calendar shows: changing only these sends nothing and
# leaves SEQUENCE and LAST-MODIFIED alone.
UNSEEN_FIELDS = ("in_person_places",)
# Changes that make earlier answers meaningless: answers are asked for again
# (RFC 5546 3.2.2.2: the organizer may reset PARTSTAT to NEEDS-ACTION).
TIME_FIELDS = ("start", "end")
CHANGE_LABELS = {
    "title": "title", "start": "time", "end": "time", "teams_url": "Microsoft Teams link",
    "venue": "venue", "dial_in": "dial-in details", "description": "description",
}


# How far ahead a meeting may start (a typo'd year such as 9999 is refused).
MAX_YEARS_AHEAD = 2

# Messages about in-person places and the modes a meeting offers.
IN_PERSON_PLACES_TOO_FEW = "In-person places must be 1 or more"
IN_PERSON_PLACES_NEED_VENUE = ("In-person places need a venue: give the venue, or leave "
                               "in-person places blank")
ONLINE_ONLY = "This meeting is online only"
IN_PERSON_ONLY = "This meeting is in person only: it has no Microsoft Teams link"


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
    places = meeting.in_person_places
    if places is not None and "in_person_places" not in errors:
        if places < 1:
            errors["in_person_places"] = [IN_PERSON_PLACES_TOO_FEW]
        elif not meeting.venue.strip():
            errors["in_person_places"] = [IN_PERSON_PLACES_NEED_VENUE]
    if errors:
        raise ValidationError(errors)


def _current_invitations(meeting: Meeting) -> list[Invitation]:
    return list(
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        .select_related("person")
        .order_by("person__full_name", "person__email")
    )


def _invitation_key(meeting: Meeting, kind: str, recipient: str, dtstamp: datetime) -> str:
    """The outbox key of one iTIP message: ``itip:<kind>:<UID>:<SEQUENCE>:<recipient>``.

    Queueing the same message twice (a retried request) then queues it once.
    Every kind but ``promoted`` raises SEQUENCE or is sent once per SEQUENCE;
    a promotion re-sends the current SEQUENCE with a later DTSTAMP (RFC 5546
    3.2.2) and may recur (waiting, promoted, waiting again), so its key also
    carries the DTSTAMP.
    """
    key = f"itip:{kind}:{meeting.uid}:{meeting.sequence}:{recipient.lower()}"
    if kind == "promoted":
        key += f":{dtstamp.isoformat()}"
    return key


def _queue_invitation_emails(
    meeting: Meeting,
    *,
    method: str,
    kind: str,
    recipients: Iterable[Invitation],
    attendees: list[Invitation],
    now: datetime,
    changes: list[str] | None = None,
    template: str = "events/invitation",
) -> int:
    """Queue one message per recipient with its own calendar part; record ``sent_sequence``.

    ``kind`` picks the wording: ``new``, ``update``, ``cancel`` or ``removed``
    (``promoted`` with ``template="events/place_free"``).
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
    recipients = list(recipients)
    # Serialised once and spliced per recipient: linear in the number of attendees.
    calendars = invitation_calendars(
        meeting, method=method, attendees=attendee_lines,
        recipients=[invitation.person.email for invitation in recipients],
        dtstamp=now, removed=kind == "removed",
    )
    sent = []
    for invitation in recipients:
        person = invitation.person
        calendar = calendars[person.email]
        queue_email(render_email(
            template, {**context, "person": person, "invitation": invitation},
            to=person.email, calendar=calendar, calendar_method=method,
        ), kind="invitation", key=_invitation_key(meeting, kind, person.email, now),
            group=meeting.group)
        sent.append(invitation.pk)
    Invitation.objects.filter(pk__in=sent).update(sent_sequence=meeting.sequence)
    return len(sent)


@task(priority=10)
def send_meeting_messages(meeting_id: int, kind: str, sequence: int, dtstamp: str,
                          changes: list[str]) -> int:
    """Task: one message to each current invitee of a meeting just scheduled (``kind``
    ``new``), changed (``update``) or cancelled (``cancel``). Returns how many were queued.

    :func:`meeting_schedule`, :func:`meeting_update` and :func:`meeting_cancel`
    enqueue it inside their own transaction (with django-tasks-db the task is a
    row of that transaction, so it exists exactly when the change does), and
    return at once: rendering a message for each of 1,000 members takes seconds,
    which a chair should not wait for. Each message goes to the outbox with its
    key (``itip:<kind>:<UID>:<SEQUENCE>:<recipient>``), so running the task twice
    queues nothing twice.

    If the meeting has changed again since (its SEQUENCE is no longer
    ``sequence``), nothing is sent: the later change's own task tells everyone
    the meeting as it now is (RFC 5546 2.1.4: only the latest SEQUENCE counts).
    ``dtstamp`` is the change's time (ISO 8601, aware), written as DTSTAMP.
    """
    with transaction.atomic():
        meeting = Meeting.objects.select_related("group").get(pk=meeting_id)
        if meeting.sequence != sequence:
            logger.info("Meeting %s: SEQUENCE %d superseded by %d; %s messages not sent",
                        meeting.uid, sequence, meeting.sequence, kind)
            return 0
        invitations = _current_invitations(meeting)
        return _queue_invitation_emails(
            meeting, method=METHOD_CANCEL if kind == "cancel" else METHOD_REQUEST, kind=kind,
            recipients=invitations, attendees=invitations,
            now=datetime.fromisoformat(dtstamp), changes=changes,
        )


def _fan_out(meeting: Meeting, *, kind: str, now: datetime, changes: list[str] | None = None):
    """Enqueue :func:`send_meeting_messages` for ``meeting`` in the caller's transaction."""
    send_meeting_messages.enqueue(meeting.pk, kind, meeting.sequence, now.isoformat(),
                                  changes or [])


def meeting_messages_resend_missing(*, now: datetime | None = None,
                                    grace: timedelta = timedelta(minutes=10)) -> int:
    """Enqueue :func:`send_meeting_messages` again for meetings whose fan-out never ran.

    A meeting still to end (or cancelled within the last day), changed more than
    ``grace`` ago, with a current invitation whose ``sent_sequence`` is not the
    meeting's SEQUENCE, lost its task (a worker crash, a failed task): it is
    enqueued again, as ``cancel``, ``new`` (nobody was sent anything) or
    ``update``. The outbox keys make a repeat harmless. Run hourly by
    ``manage.py send_reminders``. Returns the number of meetings re-enqueued.
    """
    from django.db.models import F, Q

    now = now or timezone.now()
    stale = (Meeting.objects
             .filter(Q(status=Meeting.Status.SCHEDULED, end__gt=now)
                     | Q(status=Meeting.Status.CANCELLED, cancelled_at__gt=now - timedelta(days=1)))
             .filter(updated_at__lt=now - grace)
             .filter(Q(invitations__removed_at__isnull=True)
                     & (Q(invitations__sent_sequence__isnull=True)
                        | ~Q(invitations__sent_sequence=F("sequence"))))
             .distinct())
    count = 0
    for meeting in stale:
        if meeting.is_cancelled:
            kind = "cancel"
        elif not meeting.invitations.filter(sent_sequence__isnull=False).exists():
            kind = "new"
        else:
            kind = "update"
        logger.warning("Meeting %s: SEQUENCE %d was not sent to everyone; sending (%s) again",
                       meeting.uid, meeting.sequence, kind)
        _fan_out(meeting, kind=kind, now=now)
        count += 1
    return count


def _active_people(group: Group):
    return Person.objects.filter(
        memberships__group=group, memberships__status=Membership.Status.ACTIVE, is_active=True
    ).distinct()


# Task-and-finish groups that have ended hold no more meetings (their upcoming ones
# are cancelled by events.receivers when they finish).
FINISHED_STATUSES = (Group.Status.COMPLETED, Group.Status.CLOSED_EARLY)


def group_check_can_meet(group: Group) -> None:
    """Refuse to schedule for a group that cannot meet.

    A SIG always can. A task-and-finish group can from its proposal until it
    is completed or closed early: its meetings invite its leads and
    participants (active memberships), exactly as a SIG's invite its members.
    Raises ValidationError (no field, code ``group_finished``) otherwise.
    """
    if not group.is_sig and group.status in FINISHED_STATUSES:
        raise ValidationError(
            f"{group.name} has {group.get_status_display().lower()}, so it has no more "
            "meetings.", code="group_finished")


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
    in_person_places: int | None = None,
) -> Meeting:
    """Schedule a meeting of ``group`` and invite every active member.

    Args:
        start, end: aware datetimes (stored in UTC); ``start`` in the future.
        teams_url: an https Microsoft Teams link; ``venue`` a place. At least one.
        in_person_places: how many can come in person (1 or more, and only
            with a venue); None for no limit. Not written to any calendar.

    Each active member gets an Invitation, and then (from
    :func:`send_meeting_messages`, enqueued in this transaction) an email with
    METHOD:REQUEST, SEQUENCE 0 (rules I1-I5, T2). Permission (a chair of ``group``) is the
    caller's to check.

    Raises ValidationError keyed by field (``start``, ``end``, ``teams_url``,
    ``title``, ``in_person_places``...) with messages for the chair (among
    them: ``start`` in the past or more than 2 years ahead; places below 1 or
    without a venue); a ValidationError without a
    field if ``group`` cannot meet (:func:`group_check_can_meet`).
    """
    group_check_can_meet(group)
    now = timezone.now()
    meeting = Meeting(
        group=group, created_by=scheduled_by, created_at=now, updated_at=now, sequence=0,
        title=_normalise("title", title), start=start, end=end,
        teams_url=_normalise("teams_url", teams_url), venue=_normalise("venue", venue),
        dial_in=_normalise("dial_in", dial_in),
        description=_normalise("description", description),
        in_person_places=in_person_places,
    )
    _validate(meeting, now=now, check_start=True)
    meeting.save()
    from .agenda import agenda_add_standing_items  # issue 4: the standing agenda items

    agenda_add_standing_items(meeting)
    invitations = Invitation.objects.bulk_create(
        [Invitation(meeting=meeting, person=person) for person in _active_people(group)]
    )
    _fan_out(meeting, kind="new", now=now)
    logger.info("Meeting %s scheduled by %s; %d invitations", meeting.uid, scheduled_by,
                len(invitations))
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, updated_by: Person | None, **changes) -> Meeting:
    """Change what attendees see of a meeting and send everyone invited an update.

    ``changes`` are any of :data:`EDITABLE_FIELDS` (datetimes aware). Only if
    something attendees see actually differs: SEQUENCE rises by one,
    ``updated_at`` becomes now, and every current invitee gets a
    METHOD:REQUEST with the same UID, the higher SEQUENCE, a later DTSTAMP and
    the full attendee list (rules U1-U3). If the time changed, earlier answers
    (and the waiting list) are reset to "not yet answered". If nothing
    differs, nothing is saved or sent.

    ``in_person_places`` (an int of 1 or more, or None for no limit) is in
    no calendar: changing only it saves it and sends no update. Raised (or
    removed), it promotes people from the waiting list in order, each sent
    the "a place is free" email (:func:`_promote_waiting`). Lowered below the
    number already attending in person, everyone keeps their place and new
    in-person answers wait until numbers fall below the new limit.

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

    if all(field in UNSEEN_FIELDS for field in changed):
        meeting.save(update_fields=changed)
        promoted = _promote_waiting(meeting, now=now)
        logger.info("Meeting %s: in-person places now %s (by %s); %d promoted, no update sent",
                    meeting.uid, meeting.in_person_places, updated_by, len(promoted))
        return meeting
    meeting.sequence += 1
    meeting.updated_at = now
    meeting.save()
    if time_changed:
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True).update(
            response=Invitation.Response.NEEDS_ACTION, responded_at=None, waitlisted_at=None
        )
    # Before the update goes out, so everyone's copy shows who now has a place.
    _promote_waiting(meeting, now=now)
    labels = list(dict.fromkeys(CHANGE_LABELS[field] for field in EDITABLE_FIELDS
                                if field in changed and field not in UNSEEN_FIELDS))
    _fan_out(meeting, kind="update", now=now, changes=labels)
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
    _fan_out(meeting, kind="cancel", now=now)
    logger.info("Meeting %s cancelled by %s", meeting.uid, cancelled_by)
    return meeting


@transaction.atomic
def invitation_respond(*, invitation: Invitation, response: str, note: str = "",
                       via: str = Invitation.Source.SITE) -> Invitation:
    """Record a person's answer to their invitation, with a note; keep the in-person places.

    Args:
        response: any ``Invitation.Response`` except ``NEEDS_ACTION``:
            ``in_person``, ``online``, ``attending`` (mode not given, e.g.
            Accept pressed in Outlook), ``tentative`` or ``apologies``. In a
            calendar these are PARTSTAT ACCEPTED, ACCEPTED, ACCEPTED,
            TENTATIVE and DECLINED (RFC 5546 3.2.3; ``events.ical``).
        note: optional, up to 500 characters (e.g. "joining late").
        via: where the answer came from (``Invitation.Source``), kept in
            ``answered_via``: the site, a calendar reply, or the chair.

    In-person places (``Meeting.in_person_places``; None is no limit). The
    meeting row is locked (SELECT ... FOR UPDATE) for the whole transaction,
    so answers to one meeting are decided one at a time and concurrent
    answers cannot overfill it (PostgreSQL; SQLite serialises writes anyway):

    * ``in_person`` while every place is taken: the answer is recorded with
      ``waitlisted_at`` set (the person is on the first-come waiting list,
      ordered by ``waitlisted_at`` then id, and TENTATIVE in calendars).
      Someone already holding a place, or already waiting, who answers
      ``in_person`` again keeps their place, or their place in the queue.
    * Anything else clears ``waitlisted_at`` (a waiting person who answers
      ``online`` just leaves the list). If the person held an in-person
      place, it frees, and the first person waiting is promoted, once:
      ``waitlisted_at`` cleared and the "a place is free" email sent with
      an updated invitation (:func:`_promote_waiting`).
    * ``attending`` on a meeting with a venue and no Teams link can only
      mean in person, so it is recorded as ``in_person`` and takes a place
      (or waits) like one; on other meetings it takes no place.

    Returns the invitation as saved (``meeting`` and ``person`` loaded).

    Raises ValidationError for another response, ``in_person`` at a
    meeting with no venue ("This meeting is online only", keyed
    ``response``), ``online`` at one with no Teams link (keyed
    ``response``), a withdrawn invitation, or a meeting that is cancelled or
    over.
    """
    if (response not in Invitation.Response.values
            or response == Invitation.Response.NEEDS_ACTION):
        raise ValidationError(
            {"response": "Choose in person, online, attending, tentative or apologies."})
    now = timezone.now()
    meeting_id = Invitation.objects.values_list("meeting_id", flat=True).get(pk=invitation.pk)
    # The meeting first (as meeting_update and meeting_cancel lock it): every
    # answer to this meeting waits here for the one before it to commit.
    meeting = Meeting.objects.select_for_update().select_related("group").get(pk=meeting_id)
    invitation = (Invitation.objects.select_for_update()
                  .select_related("person").get(pk=invitation.pk))
    invitation.meeting = meeting
    if invitation.removed_at is not None:
        raise ValidationError("You are no longer invited to this meeting.")
    if meeting.is_cancelled:
        raise ValidationError("This meeting has been cancelled.")
    if meeting.end <= now:
        raise ValidationError("This meeting has already taken place.")
    if (response == Invitation.Response.ATTENDING and meeting.venue
            and not meeting.teams_url):
        response = Invitation.Response.IN_PERSON
    if response == Invitation.Response.IN_PERSON and not meeting.venue:
        raise ValidationError({"response": ONLINE_ONLY})
    if response == Invitation.Response.ONLINE and not meeting.teams_url:
        raise ValidationError({"response": IN_PERSON_ONLY})

    held_a_place = (invitation.response == Invitation.Response.IN_PERSON
                    and invitation.waitlisted_at is None)
    if response != Invitation.Response.IN_PERSON:
        invitation.waitlisted_at = None
    elif not held_a_place and invitation.waitlisted_at is None:
        if not _has_free_place(meeting):
            invitation.waitlisted_at = _next_waitlist_time(meeting, now=now)
    invitation.response = response
    invitation.note = _normalise("note", note)
    invitation.responded_at = now
    invitation.answered_via = via
    invitation.full_clean()
    invitation.save(update_fields=["response", "note", "responded_at", "answered_via",
                                   "waitlisted_at"])
    # Frees a place if they held one; otherwise nothing to do (no place is
    # ever free while someone waits).
    _promote_waiting(meeting, now=now)
    return invitation


def _in_person_holders(meeting: Meeting):
    """Current invitations holding an in-person place (answered in person, not waiting)."""
    return Invitation.objects.filter(
        meeting=meeting, removed_at__isnull=True, response=Invitation.Response.IN_PERSON,
        waitlisted_at__isnull=True)


def _waiting_list(meeting: Meeting):
    """Current invitations waiting for an in-person place, first come first."""
    return (Invitation.objects.filter(meeting=meeting, removed_at__isnull=True,
                                      waitlisted_at__isnull=False)
            .select_related("person").order_by("waitlisted_at", "pk"))


def _has_free_place(meeting: Meeting) -> bool:
    # Call with the meeting row locked, or the count may be out of date.
    places = meeting.in_person_places
    return places is None or _in_person_holders(meeting).count() < places


def _next_waitlist_time(meeting: Meeting, *, now: datetime) -> datetime:
    """``now``, or just after the last person waiting if the clock has not moved past them.

    Keeps the queue in the order answers arrived even when two carry the same
    clock reading (or a server's clock is behind another's).
    """
    last = (Invitation.objects.filter(meeting=meeting, waitlisted_at__isnull=False)
            .order_by("-waitlisted_at").values_list("waitlisted_at", flat=True).first())
    if last is not None and last >= now:
        return last + timedelta(microseconds=1)
    return now


def _promote_waiting(meeting: Meeting, *, now: datetime) -> list[Invitation]:
    """Give free in-person places to the people waiting, first come first; return them.

    Call inside the transaction that locked ``meeting`` (``group`` loaded).
    While a place is free (``in_person_places`` is None, or fewer hold a
    place) and someone waits, the first waiting (``waitlisted_at``, then
    id) gets ``waitlisted_at=None`` and one email, "A place is free: you are
    now attending <title> in person", carrying a METHOD:REQUEST at the
    meeting's current SEQUENCE with a new DTSTAMP (RFC 5546 3.2.2: an update
    to that attendee only; rule U2 allows the same SEQUENCE with a later
    DTSTAMP) and the full attendee list, where the others see them ACCEPTED.

    As in every REQUEST we send, the recipient's own ATTENDEE line is
    PARTSTAT=NEEDS-ACTION;RSVP=TRUE (rule I4: Outlook only offers its buttons
    to an attendee asked for an answer). The message is informational: their
    answer on SIG Hub is already in person, and an Accept from their
    calendar keeps it (``events.replies``).

    Each promotion clears ``waitlisted_at`` in the same transaction, so
    nobody is promoted (or mailed) twice.
    """
    promoted: list[Invitation] = []
    places = meeting.in_person_places
    free = None if places is None else places - _in_person_holders(meeting).count()
    if free is not None and free <= 0:
        return promoted
    waiting = _waiting_list(meeting)
    for invitation in waiting if free is None else waiting[:free]:
        invitation.waitlisted_at = None
        invitation.save(update_fields=["waitlisted_at"])
        promoted.append(invitation)
    if promoted:
        _queue_invitation_emails(
            meeting, method=METHOD_REQUEST, kind="promoted", recipients=promoted,
            attendees=_current_invitations(meeting), now=now, template="events/place_free",
        )
        logger.info("Meeting %s: %d promoted from the waiting list", meeting.uid, len(promoted))
    return promoted


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
            invitation.waitlisted_at = None
            invitation.save(update_fields=["removed_at", "response", "responded_at", "note",
                                           "waitlisted_at"])
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
    other attendees are not mailed, except that an in-person place they held
    goes to the first person on the waiting list (:func:`_promote_waiting`);
    if they were waiting, they leave the list. Returns the number of CANCEL
    messages queued.
    """
    now = timezone.now()
    current = Invitation.objects.filter(
        person_id=membership.person_id, meeting__group_id=membership.group_id,
        meeting__status=Meeting.Status.SCHEDULED, meeting__start__gt=now,
        removed_at__isnull=True,
    )
    # Lock the meetings before the invitations, the order answering uses, so
    # leaving and answering at the same moment cannot deadlock.
    meetings = {
        meeting.pk: meeting
        for meeting in Meeting.objects.select_for_update().select_related("group")
        .filter(pk__in=current.values("meeting_id")).order_by("pk")
    }
    invitations = list(
        current.select_for_update(of=("self",))
        .filter(meeting_id__in=meetings)
        .select_related("person")
        .order_by("meeting__start")
    )
    sent = 0
    for invitation in invitations:
        meeting = meetings[invitation.meeting_id]
        invitation.meeting = meeting
        meeting.sequence += 1
        meeting.updated_at = now
        meeting.save(update_fields=["sequence", "updated_at"])
        invitation.removed_at = now
        invitation.waitlisted_at = None
        invitation.save(update_fields=["removed_at", "waitlisted_at"])
        sent += _queue_invitation_emails(
            meeting, method=METHOD_CANCEL, kind="removed", recipients=[invitation],
            attendees=[invitation], now=now,
        )
        _promote_waiting(meeting, now=now)
    return sent
