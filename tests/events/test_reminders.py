"""Reminders before a meeting: who gets one (attending or not yet answered), once per
meeting start, the joining details in the email, the command and the task."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from events import services
from events.models import Invitation, Meeting
from events.reminders import reminders_send_due, send_reminders_task
from members.models import Membership
from tests.events.conftest import messages_to, parsed
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_remind%40thread.v2/0"
# Thursday 14 January 2027, 2pm to 3:30pm in London (GMT): three days after the
# tests' clock (Monday 11 January 2027, 9am).
START = datetime(2027, 1, 14, 14, 0, tzinfo=UTC)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a function and send the mail it queued, as a committed transaction would."""

    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return _run


@pytest.fixture
def meeting(sig, chair, run):
    made = run(services.meeting_schedule, group=sig, scheduled_by=chair, title="Winter meeting",
               start=START, end=START + timedelta(minutes=90), teams_url=TEAMS,
               venue="Room 1, Russells Hall Hospital", dial_in="+44 20 3321 5200, ID 123#",
               description="Agenda:\n1. Welcome")
    mail.outbox = []
    return made


def answer(meeting: Meeting, email: str, response: str, **fields) -> None:
    Invitation.objects.filter(meeting=meeting, person__email=email).update(
        response=response, **fields)


def reminded(outbox) -> list[str]:
    return sorted(m.to[0] for m in outbox)


def test_due_meeting_reminds_attending_and_not_yet_answered(sig, meeting, run):
    answer(meeting, "chair@nhs.net", Invitation.Response.ONLINE)
    answer(meeting, "jo.smith@nhs.net", Invitation.Response.APOLOGIES)
    answer(meeting, "ben.ode@uhb.nhs.uk", Invitation.Response.TENTATIVE)
    # amira.khan3@nhs.net has not answered.
    for email, response in [("in.person@nhs.net", Invitation.Response.IN_PERSON),
                            ("attending@nhs.net", Invitation.Response.ATTENDING),
                            ("waiting@nhs.net", Invitation.Response.IN_PERSON)]:
        person = PersonFactory(email=email)
        Invitation.objects.create(meeting=meeting, person=person, response=response)
    answer(meeting, "waiting@nhs.net", Invitation.Response.IN_PERSON,
           waitlisted_at=datetime(2027, 1, 10, tzinfo=UTC))
    left = PersonFactory(email="left@nhs.net")
    Invitation.objects.create(meeting=meeting, person=left,
                              removed_at=datetime(2027, 1, 10, tzinfo=UTC))

    assert run(reminders_send_due) == 4
    assert reminded(mail.outbox) == ["amira.khan3@nhs.net", "attending@nhs.net",
                                     "chair@nhs.net", "in.person@nhs.net"]
    marked = Invitation.objects.filter(meeting=meeting, reminded_for_start=START)
    assert sorted(marked.values_list("person__email", flat=True)) == reminded(mail.outbox)


def test_the_email_has_the_time_and_joining_details(meeting, run):
    answer(meeting, "chair@nhs.net", Invitation.Response.ONLINE)
    run(reminders_send_due)
    message = messages_to(mail.outbox, "amira.khan3@nhs.net")[0]
    assert message.subject == "Reminder: Winter meeting on Thursday 14 January 2027"
    text = message.body
    assert "Dear Amira Khan," in text
    assert "meeting of the Paediatric Imaging SIG" in text
    assert "When: Thursday 14 January 2027, 2pm to 3:30pm (UK time)" in text
    assert f"Join on Microsoft Teams: {TEAMS}" in text
    assert "Venue: Room 1, Russells Hall Hospital" in text
    assert "Dial-in: +44 20 3321 5200, ID 123#" in text
    assert "Agenda:\n1. Welcome" in text
    assert "You have not said yet whether you can come" in text
    assert f"https://sighub.example.nhs.uk/meetings/{meeting.pk}/" in text
    html = message.alternatives[0][0]
    assert f'<a href="{TEAMS}">{TEAMS}</a>' in html
    assert "Room 1, Russells Hall Hospital" in html and "+44 20 3321 5200, ID 123#" in html
    assert f'href="https://sighub.example.nhs.uk/meetings/{meeting.pk}/"' in html
    # A reminder is not a calendar message: nothing in it can change a calendar.
    types = [part.get_content_type() for part in parsed(message).walk()]
    assert "text/calendar" not in types and "application/ics" not in types
    assert parsed(message)["Auto-Submitted"] == "auto-generated"
    # Someone attending is told their answer instead.
    chair_text = messages_to(mail.outbox, "chair@nhs.net")[0].body
    assert "Your answer: Attending online." in chair_text


def test_text_email_is_not_html_escaped(sig, chair, run):
    made = run(services.meeting_schedule, group=sig, scheduled_by=chair,
               title="Children's & young people's imaging", start=START,
               end=START + timedelta(hours=1), venue="O'Brien Room")
    mail.outbox = []
    run(reminders_send_due)
    message = messages_to(mail.outbox, "amira.khan3@nhs.net")[0]
    assert message.subject == ("Reminder: Children's & young people's imaging on "
                               "Thursday 14 January 2027")
    assert "Venue: O'Brien Room" in message.body and "&#x27;" not in message.body
    assert made.pk


def test_a_second_run_sends_nothing_more(meeting, run, clock):
    assert run(reminders_send_due) == 4
    mail.outbox = []
    assert run(reminders_send_due) == 0
    clock.advance(hours=1)
    assert run(reminders_send_due) == 0
    assert mail.outbox == []


def test_moving_the_meeting_makes_a_new_reminder_due(meeting, chair, run):
    run(reminders_send_due)
    mail.outbox = []
    new_start = START + timedelta(days=1)
    run(services.meeting_update, meeting=meeting, updated_by=chair, start=new_start,
        end=new_start + timedelta(hours=1))
    mail.outbox = []
    assert run(reminders_send_due) == 4
    assert {m.subject for m in mail.outbox} == {
        "Reminder: Winter meeting on Friday 15 January 2027"}
    assert Invitation.objects.filter(reminded_for_start=new_start).count() == 4
    mail.outbox = []
    assert run(reminders_send_due) == 0


def test_a_change_that_is_not_the_time_sends_no_new_reminder(meeting, chair, run):
    run(reminders_send_due)
    run(services.meeting_update, meeting=meeting, updated_by=chair, venue="Room 2")
    mail.outbox = []
    assert run(reminders_send_due) == 0


def test_meetings_further_out_are_reminded_only_once_in_the_window(sig, chair, run, clock):
    later = START + timedelta(days=10)  # 24 January, 13 days away
    far = run(services.meeting_schedule, group=sig, scheduled_by=chair, title="Later meeting",
              start=later, end=later + timedelta(hours=1), teams_url=TEAMS)
    mail.outbox = []
    assert run(reminders_send_due) == 0
    clock.now = later - timedelta(days=7, minutes=1)
    assert run(reminders_send_due) == 0
    clock.now = later - timedelta(days=7)
    assert run(reminders_send_due) == 4
    assert Invitation.objects.filter(meeting=far, reminded_for_start=later).count() == 4


def test_past_started_and_cancelled_meetings_get_none(meeting, sig, chair, run, clock):
    other = run(services.meeting_schedule, group=sig, scheduled_by=chair, title="Called off",
                start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1),
                teams_url=TEAMS)
    run(services.meeting_cancel, meeting=other, cancelled_by=chair)
    mail.outbox = []
    clock.now = START  # the meeting starts now: too late for a reminder
    assert run(reminders_send_due) == 0
    clock.now = START + timedelta(days=2)
    assert run(reminders_send_due) == 0
    assert mail.outbox == []
    assert not Invitation.objects.filter(reminded_for_start__isnull=False).exists()


def test_a_member_who_joins_later_is_reminded_on_the_next_run(sig, meeting, run):
    run(reminders_send_due)
    membership = MembershipFactory(group=sig, person=PersonFactory(email="new@nhs.net"),
                                   status=Membership.Status.ACTIVE)
    run(services.invitations_add_member, membership=membership)
    mail.outbox = []
    assert run(reminders_send_due) == 1
    assert reminded(mail.outbox) == ["new@nhs.net"]


def test_the_number_of_days_is_a_setting(meeting, run, settings):
    settings.MEETING_REMINDER_DAYS = 2  # the meeting is 3 days and 5 hours away
    assert run(reminders_send_due) == 0
    settings.MEETING_REMINDER_DAYS = 0
    assert run(reminders_send_due) == 0
    settings.MEETING_REMINDER_DAYS = 4
    assert run(reminders_send_due) == 4


def test_the_command_and_the_task(meeting, django_capture_on_commit_callbacks, settings):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Queued 4 reminders for meetings in the next 7 days."
    assert len(mail.outbox) == 4
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Queued 0 reminders for meetings in the next 7 days."
    Invitation.objects.update(reminded_for_start=None)
    with django_capture_on_commit_callbacks(execute=True):
        result = send_reminders_task.enqueue()
    assert result.return_value == 4
    # Even with the marks lost, the outbox keys (reminder:<UID>:<start>:<recipient>)
    # send nobody the same reminder twice.
    assert len(mail.outbox) == 4
    settings.MEETING_REMINDER_DAYS = 0
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "turned off" in out.getvalue()


@pytest.mark.parametrize(("value", "expected"), [(None, "7"), ("3", "3"), ("0", "0")])
def test_the_setting_is_read_from_the_environment(value, expected):
    result = _settings_with(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(("value", "message"), [
    ("-1", "MEETING_REMINDER_DAYS must be 0 or more, not -1."),
    ("a week", "MEETING_REMINDER_DAYS must be a whole number, not 'a week'."),
])
def test_a_bad_setting_stops_start_up_with_a_clear_message(value, message):
    result = _settings_with(value)
    assert result.returncode != 0
    assert message in result.stderr


def _settings_with(value: str | None):
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    if value is not None:
        env["MEETING_REMINDER_DAYS"] = value
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
                               "settings; print(settings.MEETING_REMINDER_DAYS)"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )
