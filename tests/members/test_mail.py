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


@pytest.mark.django_db
def test_allauths_sign_in_code_goes_through_the_outbox_first_in_line(
        client, django_capture_on_commit_callbacks, settings):
    """The account adapter queues allauth's emails as sign_in rows with the highest priority,
    and the code lasts longer than the queue can hold it (LOGIN_CODE_TIMEOUT_SECONDS)."""
    from allauth.account.models import EmailAddress
    from django.core.cache import cache
    from django.urls import reverse

    from members.mail.models import OutboxMessage
    from members.mail.outbox import SIGN_IN_RETRY_SECONDS
    from tests.factories import PersonFactory

    cache.clear()
    person = PersonFactory(email="jo.bloggs@nhs.net")
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_request_login_code"), {"email": "jo.bloggs@nhs.net"})
    cache.clear()

    row = OutboxMessage.objects.get()
    assert row.kind == OutboxMessage.Kind.SIGN_IN
    assert row.priority == OutboxMessage.PRIORITY_SIGN_IN
    assert row.priority == max(OutboxMessage.PRIORITY_SIGN_IN, OutboxMessage.PRIORITY_NORMAL,
                               OutboxMessage.PRIORITY_BULK)
    assert row.status == OutboxMessage.Status.SENT
    assert [m.subject for m in mail.outbox] == ["[SIG Hub] Your sign-in code"]
    # Every retry fits inside the code's lifetime, with a minute's rate-limit wait to spare.
    assert sum(SIGN_IN_RETRY_SECONDS) + 60 < settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT
