"""The network mailbox: message shape, From address, and sending only after commit."""

import email
from email import policy

import pytest
from django.core import mail
from django.db import transaction

from members.mail import OutgoingEmail, build_message, queue_email

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def test_calendar_part_header_is_written_as_rule_i1_shows_it():
    raw = build_message(OutgoingEmail(
        to="a@nhs.net", subject="Invitation", text="Plain", html="<p>HTML</p>",
        calendar=CALENDAR, calendar_method="request",
    )).message().as_bytes().decode()
    assert 'Content-Type: text/calendar; charset="utf-8"; method=REQUEST\n' in raw


def test_mime_tree_is_mixed_alternative_then_ics_attachment(settings):
    msg = parsed(build_message(OutgoingEmail(
        to="a@nhs.net", subject="Invitation", text="Plain", html="<p>HTML</p>",
        calendar=CALENDAR, calendar_method="REQUEST",
    )))
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain", "text/html", "text/calendar"]
    calendar = alternative.get_payload()[2]
    assert calendar.get_content_disposition() is None  # inline (rule I2)
    assert calendar.get_param("method") == "REQUEST"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert msg["From"] == settings.DEFAULT_FROM_EMAIL
    assert settings.NETWORK_MAILBOX in msg["From"]
    assert msg["Auto-Submitted"] == "auto-generated"


def test_a_calendar_part_without_a_method_is_refused():
    with pytest.raises(ValueError, match="METHOD"):
        build_message(OutgoingEmail(to="a@nhs.net", subject="s", text="t", calendar=CALENDAR))


@pytest.mark.django_db(transaction=True)
def test_queued_mail_is_sent_after_commit_and_never_after_rollback():
    with transaction.atomic():
        queue_email(OutgoingEmail(to="kept@nhs.net", subject="Kept", text="t"))
        assert mail.outbox == []  # not before the transaction commits
    assert [m.to for m in mail.outbox] == [["kept@nhs.net"]]

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        queue_email(OutgoingEmail(to="lost@nhs.net", subject="Lost", text="t"))
        raise Boom
    assert [m.to for m in mail.outbox] == [["kept@nhs.net"]]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_mail_waits_for_db_worker(settings):
    """Production path: the message is a django-tasks-db row until `db_worker` sends it."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with transaction.atomic():
        queue_email(OutgoingEmail(to="queued@nhs.net", subject="Queued", text="t"))
    assert mail.outbox == []
    assert DBTaskResult.objects.count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert [m.to for m in mail.outbox] == [["queued@nhs.net"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
