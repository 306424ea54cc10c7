"""Email reminders before a meeting, with the joining details.

:func:`reminders_send_due` is run hourly (``manage.py send_reminders`` from
cron, or :func:`send_reminders_task` enqueued by a scheduler). A meeting is
due once its start is within ``settings.MEETING_REMINDER_DAYS`` days (default
7; 0 turns reminders off) and it has not started. Each current invitee who
is attending or has not answered yet gets one reminder per meeting start:
``Invitation.reminded_for_start`` records the start a reminder was queued
for, so running twice sends nothing more, and a meeting moved to a new time
gets a new reminder.

Who is reminded follows the issue exactly ("those attending or not yet
answered"): answers in person (with a place), online, or attending, and not
yet answered. Not reminded: apologies; tentative (they have answered, and
not "attending"); anyone on the in-person waiting list (not attending yet:
once given a place, the next run reminds them); anyone taken off the
meeting. :data:`REMINDED_RESPONSES` is the one place to change this.

A reminder is a plain email (text and HTML), not a calendar message: it
carries no iCalendar part, so it cannot change anything in a calendar.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from members.mail import queue_email, render_email

from .ical import group_label, joining_details, meeting_url
from .models import Invitation, Meeting
from .timeutil import format_date, format_when

logger = logging.getLogger(__name__)

# Answers whose holders are reminded (the issue: "attending or not yet answered").
REMINDED_RESPONSES = (*Invitation.ATTENDING_RESPONSES, Invitation.Response.NEEDS_ACTION)


def reminder_window(now: datetime) -> tuple[datetime, datetime]:
    """``(after, up_to)``: a meeting is due if ``after < start <= up_to`` (aware UTC)."""
    return now, now + timedelta(days=settings.MEETING_REMINDER_DAYS)


def due_meetings(*, now: datetime):
    """Scheduled meetings that start within the reminder window, soonest first."""
    after, up_to = reminder_window(now)
    return (Meeting.objects.filter(status=Meeting.Status.SCHEDULED, start__gt=after,
                                   start__lte=up_to)
            .select_related("group").order_by("start", "pk"))


def _unreminded(meeting: Meeting):
    """Current invitations to ``meeting`` that should be, and have not been, reminded of
    its present start."""
    return (Invitation.objects
            .filter(meeting=meeting, removed_at__isnull=True, response__in=REMINDED_RESPONSES,
                    waitlisted_at__isnull=True)
            .exclude(reminded_for_start=meeting.start)
            .select_related("person")
            .order_by("person__full_name", "person__email"))


@transaction.atomic
def _remind(meeting_pk: int, *, now: datetime) -> int:
    """Queue the reminders due for one meeting; mark each invitation. Returns how many."""
    # Locking the meeting serialises two runs at once: the second sees the marks.
    meeting = (Meeting.objects.select_for_update().select_related("group")
               .filter(pk=meeting_pk, status=Meeting.Status.SCHEDULED, start__gt=now).first())
    if meeting is None:
        return 0
    invitations = list(_unreminded(meeting))
    if not invitations:
        return 0
    context = {
        "meeting": meeting,
        "group": meeting.group,
        "group_label": group_label(meeting.group),
        "when": format_when(meeting.start, meeting.end),
        "date": format_date(meeting.start),
        "details": joining_details(meeting),
        "meeting_url": meeting_url(meeting),
        "network_name": settings.NETWORK_MAILBOX_NAME,
    }
    for invitation in invitations:
        person = invitation.person
        queue_email(render_email(
            "events/reminder",
            {**context, "person": person, "invitation": invitation,
             "answered": invitation.response != Invitation.Response.NEEDS_ACTION},
            to=person.email,
        ), kind="reminder", group=meeting.group,
            key=f"reminder:{meeting.uid}:{meeting.start.isoformat()}:{person.email.lower()}")
    Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
        reminded_for_start=meeting.start)
    return len(invitations)


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Queue every reminder that is due; return how many were queued.

    Args:
        now: the current instant (aware; default ``timezone.now()``).

    For each scheduled meeting starting in ``(now, now + MEETING_REMINDER_DAYS
    days]``, every current invitee attending (in person with a place, online,
    or attending) or not yet answered, whose ``reminded_for_start`` is not the
    meeting's start, is sent "Reminder: <title> on <date>" with the time in UK
    time, the joining details and the meeting page; ``reminded_for_start``
    is set to the start in the same transaction (one per meeting), so the
    mail goes only if the marks are saved. Idempotent.
    """
    now = now or timezone.now()
    if settings.MEETING_REMINDER_DAYS <= 0:
        return 0
    sent = 0
    for pk in list(due_meetings(now=now).values_list("pk", flat=True)):
        count = _remind(pk, now=now)
        if count:
            logger.info("Queued %d reminder(s) for meeting %s", count, pk)
        sent += count
    return sent


@task()
def send_reminders_task() -> int:
    """Task wrapper of :func:`reminders_send_due`, to enqueue from a scheduler
    (``send_reminders_task.enqueue()``). Returns the number queued."""
    return reminders_send_due()
