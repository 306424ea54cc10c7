"""Sending through a real SMTP server (aiosmtpd in this process) with STARTTLS and AUTH.

The server requires STARTTLS (a throwaway CA from trustme, trusted through the
SMTP backend's ``ssl_cafile``) and then AUTH with a fixed user and password,
as the NHSmail relay does on port 587, and records the raw bytes it accepts.
"""

import email
import smtplib
import time
from email import policy

import pytest
from django.core.management import call_command
from django.db import transaction

from members.mail import OutgoingEmail, queue_email
from members.mail import outbox as outbox_module
from members.mail.models import OutboxMessage
from members.mail.outbox import outbox_send_due

from .mail_helpers import PASSWORD, USER, SMTPTestServer

pytestmark = pytest.mark.django_db(transaction=True)

S = OutboxMessage.Status

# A real invitation's shape: CRLF lines, a folded 75-octet line, non-ASCII text.
CALENDAR = (
    "BEGIN:VCALENDAR\r\nPRODID:-//West Midlands Imaging Network//SIG Hub//EN\r\n"
    "VERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:8d6c0a52-1f7e-4c1b-9d3e-2f1a@sighub.example.nhs.uk\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20270301T090000Z\r\nDTSTART:20270328T130000Z\r\nDTEND:20270328T150000Z\r\n"
    "SUMMARY:Paediatric Imaging SIG – spring meeting (Café room\\, Birmingham Women's an\r\n"
    " d Children's)\r\n"
    "ORGANIZER;CN=West Midlands Imaging Network:mailto:dgft.wmimagingnetwork@nhs.net\r\n"
    "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:jo.smith@nhs.net\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def smtp_server(tmp_path, settings):
    server = SMTPTestServer(tmp_path)
    server.start()
    settings.MAILERS = {"default": server.mailer()}
    settings.MAIL_TRANSPORT = "smtp"
    settings.MAIL_RATE_PER_MINUTE = 0
    yield server
    server.stop()


@pytest.fixture
def sent_bytes(monkeypatch):
    """The exact bytes our SMTP client handed to the server, per message."""
    recorded: list[bytes] = []
    original = smtplib.SMTP.sendmail

    def sendmail(self, from_addr, to_addrs, msg, *args, **kwargs):
        recorded.append(msg)
        return original(self, from_addr, to_addrs, msg, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", sendmail)
    return recorded


def invitation(to="jo.smith@nhs.net", **extra) -> OutgoingEmail:
    return OutgoingEmail(
        to=to, subject="Invitation: Spring meeting, Sunday 28 March 2027",
        text="You are invited.\n", html="<p>You are invited.</p>\n",
        calendar=CALENDAR, calendar_method="REQUEST", **extra,
    )


def test_an_invitation_arrives_byte_for_byte_with_its_calendar_part_intact(
        smtp_server, sent_bytes, settings):
    with transaction.atomic():
        row = queue_email(invitation(), kind="invitation", key="itip:new:uid-1:0:jo.smith@nhs.net")

    [received] = smtp_server.received
    [sent] = sent_bytes
    assert received.data == sent  # not a byte changed between our client and the server
    assert received.tls and received.authenticated  # STARTTLS, then AUTH
    assert received.mail_from == settings.NETWORK_MAILBOX
    assert received.rcpt_tos == ["jo.smith@nhs.net"]

    # The calendar part: its header exactly as rule I1 writes it, its bytes the calendar's.
    assert b'\r\nContent-Type: text/calendar; charset="utf-8"; method=REQUEST\r\n' in received.data
    msg = received.parsed()
    calendars = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_payload(decode=True) == CALENDAR.encode("utf-8")
    assert calendars[0].get_param("method") == "REQUEST"
    [ics] = [p for p in msg.walk() if p.get_filename() == "invite.ics"]
    assert ics.get_payload(decode=True) == CALENDAR.encode("utf-8")
    assert msg["From"] == settings.DEFAULT_FROM_EMAIL
    assert settings.NETWORK_MAILBOX in msg["From"]

    row.refresh_from_db()
    assert row.status == S.SENT and row.attempts == 1 and row.sent_at is not None
    assert msg["Message-ID"] == row.message_id == row.transport_message_id
    assert row.transport == "smtp"


def test_wrong_credentials_fail_every_message_with_the_servers_reply_and_retry_none(
        smtp_server, settings, django_capture_on_commit_callbacks):
    settings.MAILERS = {"default": smtp_server.mailer(password="not-the-password")}
    with transaction.atomic():
        rows = [queue_email(invitation(to=f"member{i}@nhs.net")) for i in range(3)]

    for row in rows:
        row.refresh_from_db()
        assert row.status == S.FAILED
        assert row.attempts == 1
        assert row.last_error.startswith("535 ")
        assert "Authentication credentials invalid" in row.last_error
    assert smtp_server.received == []
    logins = smtp_server.logins
    assert logins == 3  # one refused login per message, no retries

    # Later sweeps find nothing due: failed is final (the office may "send again").
    for _ in range(3):
        report = outbox_send_due(clock=lambda: rows[0].created_at.replace(year=2099))
        assert report.sent == report.failed == report.retrying == 0
    assert smtp_server.logins == logins
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {S.FAILED}


def test_a_refused_login_in_a_batch_fails_the_batch_with_one_login(smtp_server, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.MAILERS = {"default": smtp_server.mailer(password="expired-password")}
    with transaction.atomic():
        for i in range(5):
            queue_email(invitation(to=f"member{i}@nhs.net"))

    report = outbox_send_due()

    assert report.failed == 5 and report.sent == 0
    assert smtp_server.logins == 1  # the rest were not tried against the same refusal
    assert list(OutboxMessage.objects.values_list("attempts", flat=True)) == [1] * 5
    assert all("535" in e for e in OutboxMessage.objects.values_list("last_error", flat=True))


def test_a_refused_recipient_fails_and_a_deferred_one_retries(smtp_server):
    smtp_server.rcpt_replies = {
        "gone@nhs.net": "550 5.1.1 <gone@nhs.net>: Recipient address rejected: User unknown",
        "full@nhs.net": "452 4.2.2 <full@nhs.net>: Mailbox full, try again later",
    }
    with transaction.atomic():
        gone = queue_email(invitation(to="gone@nhs.net"))
        full = queue_email(invitation(to="full@nhs.net"))
        fine = queue_email(invitation(to="fine@nhs.net"))

    for row in (gone, full, fine):
        row.refresh_from_db()
    assert gone.status == S.FAILED
    assert "550 5.1.1 <gone@nhs.net>: Recipient address rejected" in gone.last_error
    assert full.status == S.RETRYING
    assert "452 4.2.2" in full.last_error
    assert (full.next_attempt_at - full.updated_at).total_seconds() == 60  # first retry: 1 min
    assert fine.status == S.SENT
    assert [r.rcpt_tos for r in smtp_server.received] == [["fine@nhs.net"]]


def test_a_batch_uses_one_connection(smtp_server, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with transaction.atomic():
        for i in range(20):
            queue_email(invitation(to=f"member{i}@nhs.net"))
    before = smtp_server.connections

    report = outbox_send_due()

    assert report.sent == 20
    assert smtp_server.connections - before == 1
    assert smtp_server.logins == 1
    assert len(set(smtp_server.message_ids())) == 20


def test_the_send_outbox_command(smtp_server, settings, capsys):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with transaction.atomic():
        for i in range(3):
            queue_email(invitation(to=f"member{i}@nhs.net"))

    call_command("send_outbox")
    assert "3 sent" in capsys.readouterr().out
    call_command("send_outbox")
    assert "0 sent" in capsys.readouterr().out
    assert len(smtp_server.received) == 3


def test_throughput_to_the_local_server(smtp_server, settings, record_property):
    """Measured, not asserted tightly: messages a second through one connection, no limit."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    count = 200
    with transaction.atomic():
        for i in range(count):
            queue_email(invitation(to=f"member{i}@nhs.net"), kind="invitation",
                        key=f"itip:new:uid-t:0:member{i}@nhs.net")
    started = time.perf_counter()
    report = outbox_send_due(batch_size=count)
    elapsed = time.perf_counter() - started

    assert report.sent == count
    assert len(smtp_server.received) == count
    rate = count / elapsed
    record_property("smtp_messages_per_second_unlimited", round(rate, 1))
    print(f"\nthroughput, limit off: {count} messages in {elapsed:.2f} s = {rate:.0f}/s")
    assert rate > 30 / 60  # far above NHSmail's 30 a minute, which is what the limit is for
    assert outbox_module.rate_per_minute() == 0


def test_the_received_message_parses_as_the_mime_tree_we_built(smtp_server):
    with transaction.atomic():
        queue_email(invitation())
    msg = email.message_from_bytes(smtp_server.received[0].data, policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain", "text/html", "text/calendar"]
    assert attachment.get_content_type() == "application/ics"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert USER and PASSWORD  # the server's fixed account (mail_helpers)
