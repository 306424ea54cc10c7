"""Scheduling, changing or cancelling a meeting returns at once: the message to each
invitee is made by a task (send_meeting_messages) enqueued in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from events import services
from events.models import Invitation, Meeting
from members.mail.models import OutboxMessage
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_fanout%40thread.v2/0"
START = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def sig_with_members(n: int):
    sig = SIGFactory()
    chair = PersonFactory(email="chair@nhs.net")
    MembershipFactory(group=sig, person=chair, role=Membership.Role.CHAIR)
    for i in range(n):
        MembershipFactory(group=sig, person=PersonFactory(email=f"m{i:02d}@nhs.net"))
    return sig, chair


@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_the_request_only_writes_the_task(settings):
    """The chair's request writes the meeting, its invitations and ONE task row; the
    worker then writes and sends the 13 messages."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sig, chair = sig_with_members(12)
    meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title="Summer meeting",
                                        start=START, end=START + timedelta(hours=1),
                                        teams_url=TEAMS)
    assert Invitation.objects.filter(meeting=meeting).count() == 13
    assert OutboxMessage.objects.count() == 0 and mail.outbox == []
    assert DBTaskResult.objects.count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert OutboxMessage.objects.filter(kind="invitation").count() == 13
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["chair@nhs.net"] + [f"m{i:02d}@nhs.net" for i in range(12)])
    assert set(Invitation.objects.values_list("sent_sequence", flat=True)) == {0}


@pytest.mark.django_db(transaction=True)
def test_a_task_for_a_superseded_sequence_sends_nothing_and_runs_twice_harmlessly(settings):
    """A change made before the fan-out of the one before it ran: only the latest state
    goes out (RFC 5546 2.1.4), and a task run twice queues each message once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sig, chair = sig_with_members(3)
    with transaction.atomic():
        meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title="Summer",
                                            start=START, end=START + timedelta(hours=1),
                                            teams_url=TEAMS)
    with transaction.atomic():
        services.meeting_update(meeting=meeting, updated_by=chair,
                                title="Summer meeting (moved room)")
    meeting.refresh_from_db()
    assert meeting.sequence == 1
    now = datetime.now(UTC).isoformat()
    assert services.send_meeting_messages.call(meeting.pk, "new", 0, now, []) == 0
    assert services.send_meeting_messages.call(meeting.pk, "update", 1, now, ["Title"]) == 4
    assert services.send_meeting_messages.call(meeting.pk, "update", 1, now, ["Title"]) == 4
    assert OutboxMessage.objects.filter(kind="invitation").count() == 4
    assert Meeting.objects.get().pk == meeting.pk


@pytest.mark.django_db(transaction=True)
def test_a_lost_fan_out_is_sent_by_the_hourly_job(settings, capsys):
    """The task row was lost (a crash, a failed task): send_reminders finds the meeting
    whose invitees were never sent its SEQUENCE and sends them, once."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sig, chair = sig_with_members(2)
    meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title="Summer",
                                        start=START, end=START + timedelta(hours=1),
                                        teams_url=TEAMS)
    DBTaskResult.objects.all().delete()  # the worker never sees it
    Meeting.objects.filter(pk=meeting.pk).update(
        updated_at=datetime.now(UTC) - timedelta(minutes=30))
    call_command("send_reminders")
    assert "Sent again the invitations of 1 meeting" in capsys.readouterr().out
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert sorted(m.to[0] for m in mail.outbox) == ["chair@nhs.net", "m00@nhs.net",
                                                    "m01@nhs.net"]
    call_command("send_reminders")  # everyone has SEQUENCE 0 now: nothing more
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert len(mail.outbox) == 3
