"""The outbox worker's rules, with a scripted mail backend and a clock moved by hand."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from members.mail import OutgoingEmail, queue_email
from members.mail import outbox as outbox_module
from members.mail.models import OutboxMessage, Suppression
from members.mail.outbox import (
    deliver,
    max_attempts,
    outbox_recover_stale,
    outbox_send_again,
    outbox_send_due,
    retry_delay,
    send_outbox_message,
)

from .mail_helpers import FakeClock, ScriptedBackend

pytestmark = pytest.mark.django_db(transaction=True)

S = OutboxMessage.Status
SCRIPTED = {"default": {"BACKEND": "tests.members.mail_helpers.ScriptedBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(timezone.now())
    monkeypatch.setattr(outbox_module, "clock", fake)
    return fake


@pytest.fixture
def scripted(settings):
    settings.MAILERS = SCRIPTED
    ScriptedBackend.SCRIPT = []
    ScriptedBackend.OPENS = 0
    yield ScriptedBackend
    ScriptedBackend.SCRIPT = []


def queue(to="jo.smith@nhs.net", **kwargs) -> OutboxMessage:
    with transaction.atomic():
        return queue_email(OutgoingEmail(to=to, subject="Hello", text="Hi\n"), **kwargs)


def refresh(row: OutboxMessage) -> OutboxMessage:
    row.refresh_from_db()
    return row


def test_a_sent_row_records_its_time_attempt_transport_and_message_id(scripted, clock):
    row = refresh(queue(kind="decision"))
    assert row.status == S.SENT and row.attempts == 1
    assert row.sent_at == clock.now
    assert row.transport_message_id == row.message_id
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id


def test_rows_not_pending_are_skipped(scripted):
    row = refresh(queue())
    assert send_outbox_message.call(row.pk) == S.SENT
    for status in (S.SENDING, S.FAILED, S.SUPPRESSED):
        OutboxMessage.objects.filter(pk=row.pk).update(status=status)
        assert send_outbox_message.call(row.pk) == status
    assert len(mail.outbox) == 1
    assert send_outbox_message.call(10**9) == "missing"


def test_a_key_already_in_the_outbox_queues_nothing(scripted):
    first = queue(key="itip:new:uid-1:0:jo.smith@nhs.net", kind="invitation")
    again = queue(key="itip:new:uid-1:0:jo.smith@nhs.net", kind="invitation")
    assert again.pk == first.pk
    assert OutboxMessage.objects.count() == 1 and len(mail.outbox) == 1


def test_transient_errors_retry_with_growing_delays_then_fail(scripted, clock, settings):
    scripted.SCRIPT = [smtplib.SMTPResponseException(451, b"4.3.0 Try again later")] * 6
    row = refresh(queue())
    waits = []
    while row.status == S.RETRYING:
        waits.append(row.next_attempt_at - clock.now)
        clock.set(row.next_attempt_at)
        outbox_send_due()
        row = refresh(row)
    assert [w / timedelta(minutes=1) for w in waits] == [1, 5, 15, 60, 240]
    assert row.status == S.FAILED
    assert row.attempts == max_attempts("notice") == 6
    assert row.last_error == "Gave up after 6 attempts: 451 4.3.0 Try again later"
    assert mail.outbox == []


def test_a_transient_error_then_success(scripted, clock):
    scripted.SCRIPT = [ConnectionRefusedError(111, "Connection refused")]
    row = refresh(queue())
    assert row.status == S.RETRYING and "Connection refused" in row.last_error
    clock.advance(minutes=1)
    assert outbox_send_due().sent == 1
    row = refresh(row)
    assert row.status == S.SENT and row.attempts == 2
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("error", [
    smtplib.SMTPAuthenticationError(535, b"5.7.3 Authentication unsuccessful"),
    smtplib.SMTPRecipientsRefused({"jo.smith@nhs.net": (550, b"5.1.1 User unknown")}),
    smtplib.SMTPDataError(554, b"5.6.0 Message rejected"),
    ValueError("Invalid address 'jo.smith@'"),
])
def test_permanent_errors_fail_at_once_with_the_servers_reply(scripted, clock, error):
    scripted.SCRIPT = [error]
    row = refresh(queue())
    assert row.status == S.FAILED and row.attempts == 1
    reply = {smtplib.SMTPAuthenticationError: "535 5.7.3 Authentication unsuccessful",
             smtplib.SMTPRecipientsRefused: "550 5.1.1 User unknown",
             smtplib.SMTPDataError: "554 5.6.0 Message rejected",
             ValueError: "Invalid address"}[type(error)]
    assert reply in row.last_error
    clock.advance(days=1)
    assert outbox_send_due().sent == 0
    assert refresh(row).status == S.FAILED


def test_a_suppressed_address_is_not_sent(scripted):
    Suppression.objects.create(address="Bounced@nhs.net", reason=Suppression.Reason.BOUNCED)
    row = refresh(queue(to="bounced@nhs.net"))
    assert row.status == S.SUPPRESSED and row.attempts == 0
    assert "suppressed" in row.last_error
    assert mail.outbox == []


def test_a_row_left_sending_by_a_dead_worker_is_sent_again_by_the_sweeper(scripted, clock,
                                                                          settings):
    settings.TASKS = DUMMY_TASKS
    row = queue()
    OutboxMessage.objects.filter(pk=row.pk).update(status=S.SENDING, attempts=1,
                                                   updated_at=clock.now)
    clock.advance(minutes=settings.MAIL_SENDING_STALE_MINUTES - 1)
    assert outbox_send_due().recovered == 0  # it may still be sending
    clock.advance(minutes=2)
    report = outbox_send_due()
    assert (report.recovered, report.sent) == (1, 1)
    row = refresh(row)
    assert row.status == S.SENT and row.attempts == 2
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_a_row_always_dying_while_sending_is_failed_in_the_end(clock, settings):
    settings.TASKS = DUMMY_TASKS
    row = queue()
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=S.SENDING, attempts=max_attempts("other"), updated_at=clock.now)
    clock.advance(hours=1)
    assert outbox_recover_stale() == 1
    row = refresh(row)
    assert row.status == S.FAILED and row.last_error.startswith("Gave up after 6 attempts")


def test_the_sweeper_sends_most_urgent_first_over_one_connection(scripted, clock, settings):
    settings.TASKS = DUMMY_TASKS
    for i in range(5):
        queue(to=f"notice{i}@nhs.net", kind="notice")
    queue(to="digest@nhs.net", kind="digest")
    queue(to="code@nhs.net", kind="sign_in")
    report = outbox_send_due()
    assert report.sent == 7
    assert scripted.OPENS == 1
    order = [m.to[0] for m in mail.outbox]
    assert order[0] == "code@nhs.net" and order[-1] == "digest@nhs.net"


def test_a_refused_connection_counts_one_attempt_for_the_whole_batch(scripted, clock, settings):
    settings.TASKS = DUMMY_TASKS
    rows = [queue(to=f"m{i}@nhs.net") for i in range(4)]
    scripted.SCRIPT = [ConnectionRefusedError(111, "Connection refused")]
    report = outbox_send_due()
    assert report.retrying == 4
    assert [refresh(r).attempts for r in rows] == [1, 1, 1, 1]
    assert all(refresh(r).status == S.RETRYING for r in rows)
    clock.advance(minutes=1)
    assert outbox_send_due().sent == 4


def test_sign_in_codes_retry_within_their_lifetime_and_are_never_sent_dead(scripted, clock,
                                                                           settings):
    settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 900
    scripted.SCRIPT = [ConnectionRefusedError(111, "refused")] * 10
    row = refresh(queue(to="code@nhs.net", kind="sign_in"))
    assert row.priority == OutboxMessage.PRIORITY_SIGN_IN
    assert row.next_attempt_at - clock.now == timedelta(seconds=30)
    while row.status == S.RETRYING:
        clock.set(row.next_attempt_at)
        outbox_send_due()
        row = refresh(row)
    assert row.status == S.FAILED
    assert clock.now - row.created_at < timedelta(seconds=900)
    assert mail.outbox == []

    # A code still queued when it expires (e.g. the worker was down) is failed, not sent.
    settings.TASKS = DUMMY_TASKS
    late = queue(to="late@nhs.net", kind="sign_in")
    clock.advance(seconds=900)
    outbox_send_due()
    late = refresh(late)
    assert late.status == S.FAILED and "expired" in late.last_error
    assert mail.outbox == []


def test_retry_delays_by_kind(settings):
    row = OutboxMessage(kind="invitation", attempts=1)
    assert retry_delay(row) == timedelta(minutes=1)
    row.attempts = 6
    assert retry_delay(row) is None
    row = OutboxMessage(kind="sign_in", attempts=1)
    assert retry_delay(row) == timedelta(seconds=30)
    settings.MAIL_RETRY_MINUTES = [2, 10]
    assert max_attempts("notice") == 3


def test_a_retry_is_enqueued_for_its_time_when_the_task_backend_can_defer(scripted, clock,
                                                                          settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    scripted.SCRIPT = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    row = queue()
    assert DBTaskResult.objects.count() == 1
    result = send_outbox_message.call(row.pk)
    assert result == S.RETRYING
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == 2
    assert retry.run_after == refresh(row).next_attempt_at == clock.now + timedelta(minutes=1)


def test_send_again_requeues_a_failed_message_with_the_same_message_id(scripted, clock):
    scripted.SCRIPT = [smtplib.SMTPRecipientsRefused({"jo@nhs.net": (550, b"no such user")})]
    row = refresh(queue(to="jo@nhs.net"))
    assert row.status == S.FAILED
    with pytest.raises(ValueError, match="Only a failed message"):
        outbox_send_again(message=OutboxMessage.objects.create(
            to="x@nhs.net", subject="s", message={}, message_id="<x@nhs.net>", status=S.SENT,
            sent_at=clock.now))
    with transaction.atomic():
        outbox_send_again(message=row)
    row = refresh(row)
    assert row.status == S.SENT and row.attempts == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_deliver_on_a_row_that_is_not_due_does_nothing(scripted, clock, settings):
    settings.TASKS = DUMMY_TASKS
    row = queue()
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=clock.now + timedelta(hours=1))
    result = deliver(row.pk)
    assert result.status == "not_due" and not result.attempted
    assert mail.outbox == []
