"""Minutes of a meeting: writing them per agenda item, and their way to publication.

Status (``Minutes.Status``)::

    draft --circulate--> circulated --approve (at a later meeting, or by the chair
    with a reason)--> approved --publish--> published

- Minutes are written per agenda item (``selectors.agenda_rows``) in Markdown
  (rendered through ``events.markup``, which sanitises it). Every save is a new
  :class:`~events.models.MinutesVersion`; none is ever changed or deleted.
- Minutes can be written from the meeting's day (Europe/London), as notes are
  often taken during the meeting; they are circulated only once it has started.
- Approved and published minutes are **locked**: a change needs a reason and
  makes a new version, the status staying as it is.
- Circulation emails the draft, for comment, to everyone recorded present and
  to those who sent apologies (they were expected, and often have corrections
  about their own items); replies go to the chairs (Reply-To). Attendance is
  frozen when the minutes are circulated (``attendance_take``).
- Approval is only from **circulated**: minutes must have been out for comment
  before anyone approves them, whether at the next meeting or by the chair.
- Publication emails every active member of the group. Published minutes may
  be opened to every signed-in member of network staff (``open_to_network``).

Every write locks its row (``select_for_update``) and refuses a wrong state
with a ValidationError whose message a chair can act on. Permission (a chair
of the meeting's group) is the caller's to check. Mail is queued in the
transaction and sent after commit, as each person chose for the group's notices
(``members.mail.notices.queue_notice``: as they happen, weekly digest, or not).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members.mail import render_email
from members.mail.notices import queue_notice
from members.models import Membership, Person
from members.selectors import group_chairs

from . import selectors
from .attendance import attendance_is_open, attendance_rows, attendance_take
from .ical import group_label
from .models import Attendance, Meeting, Minutes, MinutesVersion
from .timeutil import format_date

logger = logging.getLogger(__name__)

# The longest Markdown one agenda item's minutes may hold.
MAX_ENTRY_LENGTH = 20_000
MAX_REASON_LENGTH = 500
GENERAL_TITLE = "Minutes"
NO_CHANGES = "No changes to save"
REASON_REQUIRED = "Give the reason for changing approved minutes"


def entry_key(item_id: int | None) -> str:
    """The key of one agenda item's minutes in forms and errors: ``"entry-12"``, or
    ``"entry-general"`` for minutes not tied to an item (a meeting without an agenda)."""
    return f"entry-{item_id}" if item_id else "entry-general"


@dataclass(frozen=True)
class MinutesSlot:
    """One place to write minutes: an agenda item (``item_id``), or a general entry.

    ``key`` is :func:`entry_key`; ``number`` the item's number on the agenda
    (None for an entry kept from an earlier version whose item has since been
    removed, or for the general entry); ``title`` the item's title; ``text``
    the Markdown saved last (``""`` if none).
    """

    key: str
    item_id: int | None
    number: int | None
    title: str
    text: str


def latest_version(minutes: Minutes | None) -> MinutesVersion | None:
    """The newest version of ``minutes`` with its author, or None (one query)."""
    if minutes is None or minutes.pk is None:
        return None
    return (MinutesVersion.objects.filter(minutes=minutes).select_related("created_by")
            .order_by("-number").first())


def minutes_for(meeting: Meeting) -> Minutes | None:
    """The meeting's minutes or None (one query)."""
    return Minutes.objects.filter(meeting=meeting).first()


def minutes_slots(*, meeting: Meeting, version: MinutesVersion | None) -> list[MinutesSlot]:
    """The places to write minutes: one per agenda item, in agenda order, filled from
    ``version``; then entries of ``version`` whose item is no longer on the agenda (so
    nothing written is lost); a single general entry if there is nothing else.

    Two queries (``selectors.agenda_rows``).
    """
    saved = {entry.get("item"): entry for entry in (version.entries if version else [])}
    slots: list[MinutesSlot] = []
    for row in selectors.agenda_rows(meeting=meeting):
        entry = saved.pop(row.item.pk, None)
        slots.append(MinutesSlot(key=entry_key(row.item.pk), item_id=row.item.pk,
                                 number=row.number, title=row.item.title,
                                 text=entry["text"] if entry else ""))
    for item_id, entry in saved.items():
        slots.append(MinutesSlot(key=entry_key(item_id), item_id=item_id, number=None,
                                 title=entry.get("title") or GENERAL_TITLE,
                                 text=entry.get("text", "")))
    if not slots:
        slots.append(MinutesSlot(key=entry_key(None), item_id=None, number=None,
                                 title=GENERAL_TITLE, text=""))
    return slots


def _clean_text(text) -> str:
    return str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _comparable(entries: Iterable[dict]) -> list[tuple]:
    return [(entry.get("item"), entry.get("text", "")) for entry in entries
            if entry.get("text", "").strip()]


def _lock_minutes(minutes: Minutes) -> Minutes:
    # The meeting first, then the minutes: the order minutes_save and attendance use.
    Meeting.objects.select_for_update().filter(pk=minutes.meeting_id).first()
    return (Minutes.objects.select_for_update().select_related("meeting", "meeting__group")
            .get(pk=minutes.pk))


def _check_meeting_for_minutes(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise ValidationError("This meeting was cancelled, so it has no minutes.",
                              code="cancelled")
    if not attendance_is_open(meeting):
        raise ValidationError(
            f"Minutes can be written from the day of the meeting ({format_date(meeting.start)}).",
            code="too_early")


@transaction.atomic
def minutes_save(*, meeting: Meeting, entries: Iterable[dict], by: Person | None,
                 reason: str = "") -> MinutesVersion:
    """Save the minutes of ``meeting`` as a new version.

    Args:
        entries: one dict per agenda item, ``{"item": <AgendaItem pk or None>,
            "text": <Markdown>}``; ``None`` is the general entry of a meeting
            without an agenda. Items left out keep no text. An item must be on
            the meeting's agenda or in the last version.
        by: the chair saving them (recorded as the version's author).
        reason: why; required (500 characters at most) once the minutes are
            approved or published, optional before.

    Creates the :class:`~events.models.Minutes` (draft) on the first save, then
    always a new :class:`~events.models.MinutesVersion` numbered one above the
    last, with ``status_when_saved`` the status at the time. The status never
    changes here. Entries are stored in agenda order with their item's title.

    Returns the new version. Raises ValidationError (nothing saved): keyed by
    ``reason`` when it is missing for locked minutes or too long; keyed by
    :func:`entry_key` for an entry over 20,000 characters or not on the agenda;
    without a field for "No changes to save" (the text is the same as the last
    version's, or empty on a first save), a cancelled meeting, or a meeting
    whose day has not come.
    """
    meeting = Meeting.objects.select_for_update().select_related("group").get(pk=meeting.pk)
    _check_meeting_for_minutes(meeting)
    minutes, _created = Minutes.objects.get_or_create(meeting=meeting)
    minutes = _lock_minutes(minutes)
    previous = latest_version(minutes)
    slots = {slot.item_id: slot for slot in minutes_slots(meeting=meeting, version=previous)}

    errors: dict[str, list[str]] = {}
    texts: dict[int | None, str] = {}
    for entry in entries:
        raw_item = entry.get("item")
        try:
            item_id = int(raw_item) if raw_item not in (None, "") else None
        except (TypeError, ValueError):
            item_id = -1
        text = _clean_text(entry.get("text"))
        key = entry_key(item_id)
        if item_id not in slots:
            if text:
                errors.setdefault(key, []).append(
                    "This item is not on the meeting's agenda any more. Copy its minutes "
                    "into another item.")
            continue
        if len(text) > MAX_ENTRY_LENGTH:
            slot = slots[item_id]
            name = f"{slot.number}. {slot.title}" if slot.number else slot.title
            errors.setdefault(key, []).append(
                f"Minutes of item {name} must be {MAX_ENTRY_LENGTH:,} characters or fewer")
        texts[item_id] = text
    reason = " ".join((reason or "").split())
    if minutes.is_locked and not reason:
        errors.setdefault("reason", []).append(REASON_REQUIRED)
    if len(reason) > MAX_REASON_LENGTH:
        errors.setdefault("reason", []).append(
            f"Reason must be {MAX_REASON_LENGTH} characters or fewer")
    if errors:
        raise ValidationError(errors)

    stored = [{"item": slot.item_id, "title": slot.title, "text": texts.get(item_id, "")}
              for item_id, slot in slots.items()]
    before = _comparable(previous.entries) if previous else []
    if _comparable(stored) == before:
        raise ValidationError(NO_CHANGES, code="unchanged")
    version = MinutesVersion.objects.create(
        minutes=minutes, number=(previous.number if previous else 0) + 1, entries=stored,
        created_by=by, created_at=timezone.now(), reason=reason,
        status_when_saved=minutes.status,
    )
    logger.info("Minutes of meeting %s: version %d saved by %s", meeting.pk, version.number, by)
    return version


def minutes_url(meeting: Meeting) -> str:
    """The absolute URL of the meeting's minutes page (for emails)."""
    return settings.SITE_URL + reverse("events:meeting_minutes", kwargs={"pk": meeting.pk})


def _chair_addresses(meeting: Meeting) -> list[str]:
    return [m.person.email for m in group_chairs(group=meeting.group) if m.person.is_active]


def _email_context(meeting: Meeting, minutes: Minutes) -> dict:
    return {
        "meeting": meeting, "minutes": minutes, "group_label": group_label(meeting.group),
        "date": format_date(meeting.start), "minutes_url": minutes_url(meeting),
        "chairs": [m.person.get_full_name() for m in group_chairs(group=meeting.group)],
    }


def circulation_recipients(*, meeting: Meeting) -> list[Person]:
    """Who the draft minutes are emailed to: everyone recorded (or derived) present, and
    those who sent apologies; active people only, each once, by name. Three queries."""
    wanted = (*Attendance.PRESENT, Attendance.Status.APOLOGIES)
    people: dict[int, Person] = {}
    for row in attendance_rows(meeting=meeting):
        if row.person is not None and row.person.is_active and row.status in wanted:
            people.setdefault(row.person.pk, row.person)
    return sorted(people.values(), key=lambda p: (p.get_full_name().lower(), p.email))


@transaction.atomic
def minutes_circulate(*, minutes: Minutes, by: Person | None) -> int:
    """Circulate draft minutes for comment: draft -> circulated, and email them.

    Attendance is first frozen (:func:`~events.attendance.attendance_take`), then
    each person of :func:`circulation_recipients` gets "Draft minutes for
    comment: <meeting>, <date>" with a link to the minutes page; Reply-To is the
    group's chairs, so comments reach them. Returns the number of emails queued.

    Raises ValidationError if the minutes are not a draft, have no saved
    version, or the meeting has not started yet (or was cancelled).
    """
    minutes = _lock_minutes(minutes)
    meeting = minutes.meeting
    if minutes.status != Minutes.Status.DRAFT:
        raise ValidationError(
            f"These minutes are already {minutes.get_status_display().lower()}: only draft "
            "minutes are circulated.", code="not_draft")
    if not minutes.versions.exists():
        raise ValidationError("Write the minutes before circulating them.", code="empty")
    if meeting.is_cancelled:
        raise ValidationError("This meeting was cancelled, so it has no minutes.",
                              code="cancelled")
    now = timezone.now()
    if meeting.start > now:
        raise ValidationError("Minutes can be circulated once the meeting has started.",
                              code="too_early")
    attendance_take(meeting=meeting, by=by)
    minutes.status = Minutes.Status.CIRCULATED
    minutes.circulated_at, minutes.circulated_by = now, by
    minutes.save(update_fields=["status", "circulated_at", "circulated_by"])
    context = _email_context(meeting, minutes)
    reply_to = _chair_addresses(meeting)
    recipients = circulation_recipients(meeting=meeting)
    for person in recipients:
        queue_notice(render_email("minutes_circulated", {**context, "person": person},
                                  to=person.email, reply_to=reply_to),
                     person=person, group=meeting.group, url=context["minutes_url"])
    logger.info("Minutes of meeting %s circulated by %s to %d", meeting.pk, by, len(recipients))
    return len(recipients)


def _check_can_approve(minutes: Minutes) -> None:
    if minutes.status == Minutes.Status.DRAFT:
        raise ValidationError(
            "Circulate the draft minutes for comment before they are approved.",
            code="not_circulated")
    if minutes.status != Minutes.Status.CIRCULATED:
        raise ValidationError(
            f"These minutes are already {minutes.get_status_display().lower()}.",
            code="already_approved")


@transaction.atomic
def minutes_approve_at_meeting(*, minutes: Minutes, at_meeting: Meeting,
                               by: Person | None) -> Minutes:
    """Record that circulated minutes were approved at ``at_meeting``: -> approved.

    ``at_meeting`` must be a later meeting of the same group, not cancelled,
    whose day (Europe/London) has come: usually the next meeting, under its
    "Minutes of the last meeting" item. Returns the minutes.

    Raises ValidationError if the minutes are not circulated or ``at_meeting``
    does not qualify.
    """
    minutes = _lock_minutes(minutes)
    _check_can_approve(minutes)
    meeting = minutes.meeting
    if at_meeting.group_id != meeting.group_id or at_meeting.pk == meeting.pk \
            or at_meeting.start <= meeting.start:
        raise ValidationError("Minutes are approved at a later meeting of the same group.",
                              code="wrong_meeting")
    if at_meeting.is_cancelled:
        raise ValidationError("That meeting was cancelled.", code="cancelled")
    if not attendance_is_open(at_meeting):
        raise ValidationError(
            "Minutes can be recorded as approved at a meeting on or after its day "
            f"({format_date(at_meeting.start)}).", code="too_early")
    minutes.status = Minutes.Status.APPROVED
    minutes.approval = Minutes.Approval.AT_MEETING
    minutes.approved_at_meeting = at_meeting
    minutes.approved_at, minutes.approved_by = timezone.now(), by
    minutes.approval_reason = ""
    minutes.full_clean()
    minutes.save()
    return minutes


@transaction.atomic
def minutes_approve_by_chair(*, minutes: Minutes, by: Person | None, reason: str) -> Minutes:
    """The chair approves circulated minutes without a meeting: -> approved, with a reason.

    ``reason`` (required, 500 characters at most) says why, e.g. "No comments
    received in 14 days; no meeting until June". Returns the minutes.

    Raises ValidationError keyed by ``reason`` when it is empty or too long, or
    without a field when the minutes are not circulated.
    """
    minutes = _lock_minutes(minutes)
    _check_can_approve(minutes)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": ["Give the reason for approving the minutes "
                                          "without a meeting"]})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": [
            f"Reason must be {MAX_REASON_LENGTH} characters or fewer"]})
    minutes.status = Minutes.Status.APPROVED
    minutes.approval = Minutes.Approval.BY_CHAIR
    minutes.approval_reason = reason
    minutes.approved_at_meeting = None
    minutes.approved_at, minutes.approved_by = timezone.now(), by
    minutes.full_clean()
    minutes.save()
    return minutes


def publication_recipients(*, meeting: Meeting) -> list[Person]:
    """Active members (any role) of the meeting's group who are active people, by name.

    One query.
    """
    return list(
        Person.objects.filter(memberships__group_id=meeting.group_id,
                              memberships__status=Membership.Status.ACTIVE, is_active=True)
        .distinct().order_by("full_name", "email")
    )


@transaction.atomic
def minutes_publish(*, minutes: Minutes, by: Person | None, open_to_network: bool) -> int:
    """Publish approved minutes: -> published, and tell every active member of the group.

    ``open_to_network`` lets every signed-in member of network staff read
    them (see ``permissions.can_view_minutes``). Each member gets "Minutes
    published: <meeting>, <date>" with a link to the minutes page. Returns the
    number of emails queued.

    Raises ValidationError unless the minutes are approved.
    """
    minutes = _lock_minutes(minutes)
    if minutes.status != Minutes.Status.APPROVED:
        if minutes.status == Minutes.Status.PUBLISHED:
            message = "These minutes are already published."
        else:
            message = "Minutes are published once they have been approved."
        raise ValidationError(message, code="not_approved")
    minutes.status = Minutes.Status.PUBLISHED
    minutes.published_at, minutes.published_by = timezone.now(), by
    minutes.open_to_network = bool(open_to_network)
    minutes.save(update_fields=["status", "published_at", "published_by", "open_to_network"])
    meeting = minutes.meeting
    context = _email_context(meeting, minutes)
    recipients = publication_recipients(meeting=meeting)
    for person in recipients:
        queue_notice(render_email("minutes_published", {**context, "person": person},
                                  to=person.email),
                     person=person, group=meeting.group, url=context["minutes_url"])
    logger.info("Minutes of meeting %s published by %s to %d", meeting.pk, by, len(recipients))
    return len(recipients)


@transaction.atomic
def minutes_set_visibility(*, minutes: Minutes, open_to_network: bool,
                           by: Person | None) -> Minutes:
    """Open published minutes to all network staff, or back to the group only.

    Returns the minutes. Raises ValidationError unless they are published.
    """
    minutes = _lock_minutes(minutes)
    if minutes.status != Minutes.Status.PUBLISHED:
        raise ValidationError(
            "Minutes can be opened to all network staff once they are published.",
            code="not_published")
    minutes.open_to_network = bool(open_to_network)
    minutes.save(update_fields=["open_to_network"])
    return minutes
