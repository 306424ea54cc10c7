"""Bounces and complaints (issue 6): an ESP's tracking webhook and NHSmail's NDRs.

The webhook tests post Postmark's tracking JSON (fields as Postmark documents
its Bounce and Spam Complaint webhooks) to anymail's real URL,
``/anymail/postmark/tracking/``, with the basic-auth WEBHOOK_SECRET. The NDR
tests feed reports to ``manage.py ingest_mail``, the same entry point as
calendar replies: the RFC 3464 report in the reply corpus, a delayed
(4.x.x) one, and Exchange's plain-text form.
"""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from email.utils import make_msgid
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members.mail import OutgoingEmail, queue_email
from members.mail.bounces import (
    is_suppressed,
    outbox_message_send_again,
    unreachable_members,
)
from members.mail.inbound import InboundKind, ingest_message
from members.mail.models import DeliveryEvent, OutboxMessage, Suppression
from members.models import Membership
from tests.events.replies import CORPUS
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

SECRET = "postmark:5b2e-tracking-test-secret"
ESP_MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


@pytest.fixture
def tracking(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    return reverse("anymail:postmark_tracking_webhook")


def auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post(client, url, payload, **extra):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **extra)


def bounce(email: str, *, event_id: int = 4323372036854775807, kind: str = "HardBounce",
           message_id: str = ESP_MESSAGE_ID) -> dict:
    """Postmark's Bounce webhook JSON."""
    return {
        "RecordType": "Bounce", "MessageStream": "outbound", "ID": event_id, "Type": kind,
        "TypeCode": {"HardBounce": 1, "SoftBounce": 4096, "Transient": 2}[kind],
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "", "MessageID": message_id, "Metadata": {}, "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
                       "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email, "From": "sighub@example.org", "BouncedAt": "2027-01-11T16:33:54Z",
        "DumpAvailable": False, "Inactive": kind == "HardBounce", "CanActivate": True,
        "Subject": "Agenda: Paediatric MSK ultrasound update", "Content": "",
    }


def complaint(email: str, *, event_id: int = 5323372036854775807) -> dict:
    """Postmark's Spam Complaint webhook JSON."""
    return {
        "RecordType": "SpamComplaint", "MessageStream": "outbound", "ID": event_id,
        "Type": "SpamComplaint", "TypeCode": 512, "Name": "Spam complaint", "Tag": "",
        "MessageID": ESP_MESSAGE_ID, "Metadata": {}, "ServerID": 23,
        "Description": "", "Details": "Test spam complaint details",
        "Email": email, "From": "sighub@example.org", "BouncedAt": "2027-01-11T16:33:54Z",
        "DumpAvailable": False, "Inactive": True, "CanActivate": False,
        "Subject": "Minutes published", "Content": "",
    }


def sent_row(to: str, *, transport_message_id: str = ESP_MESSAGE_ID,
             message_id: str | None = None) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.NOTICE, to=to, subject="Agenda",
        message=OutgoingEmail(to=to, subject="Agenda", text="t").as_json(),
        message_id=message_id or make_msgid(domain="nhs.net"), status=OutboxMessage.Status.SENT,
        sent_at=now, transport="anymail", transport_message_id=transport_message_id)


# --- The ESP's tracking webhook -------------------------------------------------------


def test_a_hard_bounce_suppresses_the_address_and_marks_its_message(client, tracking):
    row = sent_row("gone@nhs.net")
    response = post(client, tracking, bounce("Gone@NHS.net"), **auth())
    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == ("gone@nhs.net", "bounced")
    assert suppression.source == "Postmark webhook"
    assert "5.1.1" in suppression.detail
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.FAILED
    assert row.last_error.startswith("Hard bounce: The server was unable to deliver")
    assert is_suppressed("GONE@nhs.net")


def test_a_spam_complaint_suppresses_and_keeps_the_message_sent(client, tracking):
    row = sent_row("annoyed@nhs.net")
    assert post(client, tracking, complaint("annoyed@nhs.net"), **auth()).status_code == 200
    assert Suppression.objects.get().reason == Suppression.Reason.COMPLAINED
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT
    assert row.last_error.startswith("Spam complaint")


def test_the_same_event_twice_changes_nothing_more(client, tracking):
    """Postmark retries a webhook it thinks failed: the repeat is recorded once, and
    even a suppression lifted in between is not put back by the old event."""
    payload = bounce("gone@nhs.net")
    assert post(client, tracking, payload, **auth()).status_code == 200
    assert Suppression.objects.count() == 1
    Suppression.objects.get().delete()  # the office lifted it: the mailbox is back

    assert post(client, tracking, payload, **auth()).status_code == 200

    assert DeliveryEvent.objects.count() == 1
    assert Suppression.objects.count() == 0
    # A new bounce (a new event id) suppresses again.
    assert post(client, tracking, bounce("gone@nhs.net", event_id=7), **auth()).status_code == 200
    assert Suppression.objects.count() == 1


def test_a_second_event_for_an_address_already_suppressed_keeps_the_first_reason(
        client, tracking):
    post(client, tracking, bounce("x@nhs.net"), **auth())
    post(client, tracking, complaint("x@nhs.net"), **auth())
    assert list(Suppression.objects.values_list("address", "reason")) == [
        ("x@nhs.net", "bounced")]
    assert DeliveryEvent.objects.count() == 2


@pytest.mark.parametrize("kind", ["SoftBounce", "Transient"])
def test_soft_bounces_and_deferrals_do_not_suppress(client, tracking, kind):
    row = sent_row("full@nhs.net")
    assert post(client, tracking, bounce("full@nhs.net", kind=kind), **auth()).status_code == 200
    assert not Suppression.objects.exists()
    assert DeliveryEvent.objects.count() == 1
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT


def test_a_delivery_event_without_an_id_is_recorded_once(client, tracking):
    delivered = {"RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound",
                 "MessageID": ESP_MESSAGE_ID, "Recipient": "ok@nhs.net", "Tag": "",
                 "DeliveredAt": "2027-01-11T16:33:54Z", "Details": "Test delivery webhook",
                 "Metadata": {}}
    post(client, tracking, delivered, **auth())
    post(client, tracking, delivered, **auth())
    assert DeliveryEvent.objects.count() == 1
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("credentials", [None, "postmark:wrong", "someone:" + SECRET])
def test_the_tracking_webhook_refuses_without_the_secret(client, tracking, credentials):
    extra = auth(credentials) if credentials else {}
    response = post(client, tracking, bounce("gone@nhs.net"), **extra)
    assert 400 <= response.status_code < 500
    assert not Suppression.objects.exists()
    assert not DeliveryEvent.objects.exists()


def test_an_event_matching_by_message_id_header_marks_that_row(client, tracking):
    row = sent_row("gone@nhs.net", transport_message_id="", message_id="<abc.123@nhs.net>")
    other = sent_row("other@nhs.net", transport_message_id="")
    post(client, tracking, bounce("gone@nhs.net", message_id="abc.123@nhs.net"), **auth())
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.status == OutboxMessage.Status.FAILED
    assert other.status == OutboxMessage.Status.SENT


# --- Suppressed addresses are not sent to ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_suppressed_recipients_message_is_marked_suppressed_not_sent():
    Suppression.objects.create(address="gone@nhs.net", reason="bounced")
    with transaction.atomic():
        gone = queue_email(OutgoingEmail(to="gone@nhs.net", subject="Invitation", text="t"),
                           kind="invitation")
        kept = queue_email(OutgoingEmail(to="kept@nhs.net", subject="Invitation", text="t"),
                           kind="invitation")
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.status == OutboxMessage.Status.SUPPRESSED
    assert kept.status == OutboxMessage.Status.SENT
    assert [m.to for m in mail.outbox] == [["kept@nhs.net"]]


# --- NHSmail: non-delivery reports through ingest_mail -----------------------------------


def ingest(*paths) -> str:
    out = StringIO()
    call_command("ingest_mail", *[str(p) for p in paths], stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_rfc_3464_report_read_by_ingest_mail_suppresses_the_final_recipient():
    row = sent_row("left.trust@nhs.net", transport_message_id="",
                   message_id="<invitation-3f0c9a52-left@sighub.example.nhs.uk>")
    out = ingest(CORPUS / "delivery-report.eml")
    assert "left.trust@nhs.net suppressed (hard bounce)" in out
    assert out.splitlines()[-1] == "1 message: 1 delivery report"
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == (
        "left.trust@nhs.net", "bounced", "NDR")
    assert suppression.detail.startswith("5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound")
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.FAILED
    assert "RecipientNotFound" in row.last_error


def test_the_same_report_twice_changes_nothing_more():
    ingest(CORPUS / "delivery-report.eml")
    Suppression.objects.all().delete()  # lifted by the office
    out = ingest(CORPUS / "delivery-report.eml")
    assert "already handled" in out
    assert not Suppression.objects.exists()
    assert DeliveryEvent.objects.count() == 1


def dsn(recipient: str, status: str, *, action: str = "failed", message_id: str | None = None,
        original_id: str = "<orig-1@nhs.net>") -> bytes:
    """A multipart/report delivery status notification (RFC 3464) as Gmail sends one."""
    boundary = "00000000000054b5e6061d5a0e7d"
    return (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        "To: dgft.wmimagingnetwork@nhs.net\r\n"
        f"Message-ID: {message_id or make_msgid(domain='mx.google.com')}\r\n"
        "Subject: Delivery Status Notification (Failure)\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; boundary="{boundary}"; '
        "report-type=delivery-status\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        f"Address not found\r\n\r\nYour message wasn't delivered to {recipient}.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; googlemail.com\r\n"
        "Arrival-Date: Mon, 11 Jan 2027 09:00:05 -0800 (PST)\r\n\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Final-Recipient: rfc822;{recipient.upper()}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550-{status} The account does not exist.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers; charset=UTF-8\r\n\r\n"
        "From: West Midlands Imaging Network <dgft.wmimagingnetwork@nhs.net>\r\n"
        f"To: {recipient}\r\nReply-To: chair.person@nhs.net\r\n"
        f"Message-ID: {original_id}\r\nSubject: Agenda\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def test_a_permanent_gmail_report_suppresses_only_the_failed_recipient():
    result = ingest_message(dsn("Someone@Gmail.com", "5.1.1"))
    assert result.kind == InboundKind.DELIVERY_REPORT
    assert list(Suppression.objects.values_list("address", flat=True)) == ["someone@gmail.com"]


@pytest.mark.parametrize("status, action", [("4.4.7", "delayed"), ("4.2.2", "failed"),
                                            ("5.1.1", "delayed")])
def test_a_transient_report_does_not_suppress(status, action):
    result = ingest_message(dsn("slow@nhs.net", status, action=action))
    assert result.kind == InboundKind.DELIVERY_REPORT
    assert not Suppression.objects.exists()
    assert DeliveryEvent.objects.get().recipient == "slow@nhs.net"


EXCHANGE_TEXT_NDR = (
    "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@nhs.net>\r\n"
    "To: dgft.wmimagingnetwork@nhs.net\r\n"
    "Subject: Undeliverable: Minutes published: December meeting\r\n"
    "Message-ID: <ndr-text-1@LO2P123MB5912.GBRP123.PROD.OUTLOOK.COM>\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "Delivery has failed to these recipients or groups:\r\n\r\n"
    "moved.away@nhs.net\r\n"
    "The email address you entered couldn't be found. Please check the recipient's email "
    "address and try to resend the message.\r\n\r\n"
    "Diagnostic information for administrators:\r\n\r\n"
    "Generating server: LO2P123MB5912.GBRP123.PROD.OUTLOOK.COM\r\n\r\n"
    "moved.away@nhs.net\r\n"
    "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found "
    "by SMTP address lookup'\r\n\r\n"
    "Original message headers:\r\n\r\n"
    "From: West Midlands Imaging Network <dgft.wmimagingnetwork@nhs.net>\r\n"
    "To: moved.away@nhs.net\r\n"
    "Reply-To: cora.chair@nhs.net\r\n"
    "Message-ID: <minutes-42@nhs.net>\r\n"
    "Subject: Minutes published: December meeting\r\n"
)


def test_exchanges_text_report_suppresses_the_recipient_not_the_quoted_headers(tmp_path):
    path = tmp_path / "ndr.eml"
    path.write_bytes(EXCHANGE_TEXT_NDR.encode())
    out = ingest(path)
    assert "moved.away@nhs.net suppressed" in out
    assert list(Suppression.objects.values_list("address", flat=True)) == ["moved.away@nhs.net"]


def test_a_text_report_naming_an_outbox_message_trusts_that_messages_recipient():
    sent_row("moved.away@nhs.net", transport_message_id="", message_id="<minutes-42@nhs.net>")
    raw = EXCHANGE_TEXT_NDR.replace("Delivery has failed to these recipients or groups:",
                                    "Delivery has failed (ask helpdesk@nhs.net):")
    result = ingest_message(raw.encode())
    assert result.kind == InboundKind.DELIVERY_REPORT
    assert list(Suppression.objects.values_list("address", flat=True)) == ["moved.away@nhs.net"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED


def test_an_out_of_office_reply_is_not_a_delivery_report():
    message = EmailMessage()
    message["From"] = "Jo Smith <jo.smith@nhs.net>"
    message["To"] = "dgft.wmimagingnetwork@nhs.net"
    message["Subject"] = "Automatic reply: Agenda"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am out of the office until 5.1.2027. Contact other@nhs.net.")
    result = ingest_message(bytes(message))
    assert result.kind == InboundKind.OTHER
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("raw", [
    b"From: postmaster@nhs.net\r\nSubject: Undeliverable: x\r\n\r\nNo addresses here.\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
    b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
    b"Final-Recipient: garbage\r\nStatus: nonsense\r\n--x--\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary",
])
def test_broken_reports_never_raise_and_suppress_nothing(raw):
    result = ingest_message(raw)
    assert result.kind in (InboundKind.DELIVERY_REPORT, InboundKind.UNREADABLE)
    assert not Suppression.objects.exists()


# --- Chairs see unreachable members; the office lifts a suppression ---------------------


def test_the_chairs_page_lists_members_email_cannot_reach(client):
    sig = SIGFactory(name="Paediatric Imaging")
    chair = MembershipFactory(group=sig, role=Membership.Role.CHAIR).person
    gone = MembershipFactory(group=sig, person=PersonFactory(full_name="Gone Person",
                                                             email="gone@nhs.net")).person
    MembershipFactory(group=sig, person=PersonFactory(email="fine@nhs.net"))
    MembershipFactory(person=PersonFactory(email="elsewhere@nhs.net"))  # another SIG
    for address in ("gone@nhs.net", "elsewhere@nhs.net"):
        Suppression.objects.create(address=address, reason="bounced")

    assert [m.person for m in unreachable_members(sig)] == [gone]
    client.force_login(chair)
    page = client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug}))
    text = page.content.decode()
    assert "Members email cannot reach" in text
    assert "gone@nhs.net" in text and "The address bounced" in text
    assert "elsewhere@nhs.net" not in text and "fine@nhs.net" not in text


def test_no_panel_when_everyone_is_reachable(client):
    sig = SIGFactory()
    chair = MembershipFactory(group=sig, role=Membership.Role.CHAIR).person
    client.force_login(chair)
    page = client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug}))
    assert "Members email cannot reach" not in page.content.decode()


def test_the_office_lifts_a_suppression_and_others_cannot(client):
    suppression = Suppression.objects.create(address="back@nhs.net", reason="bounced")
    url = reverse("members:suppression_lift", kwargs={"pk": suppression.pk})
    client.force_login(PersonFactory())
    assert client.post(url).status_code == 403
    assert Suppression.objects.exists()

    client.force_login(PersonFactory(is_staff=True))
    assert client.get(reverse("members:suppressions")).status_code == 200
    response = client.post(url, follow=True)
    assert "back@nhs.net is no longer suppressed" in response.content.decode()
    assert not Suppression.objects.exists()
    again = client.post(url, follow=True)  # lifted already (a second click, another tab)
    assert again.status_code == 200
    assert "That suppression has already been lifted" in again.content.decode()


def test_send_again_refuses_a_message_to_a_suppressed_address():
    row = sent_row("gone@nhs.net")
    row.status = OutboxMessage.Status.SUPPRESSED
    row.save()
    Suppression.objects.create(address="gone@nhs.net", reason="bounced")
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError, match="lift the suppression"):
        outbox_message_send_again(pk=row.pk)
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SUPPRESSED


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00garbage", b"[1, 2]",
                                  b'"a string"'])
def test_a_malformed_webhook_body_with_valid_auth_is_a_400_not_a_500(client, tracking, body):
    """Anymail let json.loads' error escape as a 500 (the ESP then retries it forever):
    a body that cannot be read is the sender's fault, so 400 and nothing recorded."""
    response = client.post(tracking, data=body, content_type="application/json", **auth())
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists() and not Suppression.objects.exists()


def test_a_malformed_inbound_webhook_body_is_a_400(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    response = client.post(reverse("anymail:postmark_inbound_webhook"), data=b"{oops",
                           content_type="application/json", **auth())
    assert response.status_code == 400


def test_the_webhook_still_answers_500_when_the_database_fails(client, tracking, monkeypatch):
    """Not the body's fault: 500, so the ESP sends the event again later."""
    from django.db import OperationalError

    from members.mail import bounces

    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(bounces, "delivery_event_record", down)
    client.raise_request_exception = False
    response = post(client, tracking, bounce("gone@nhs.net"), **auth())
    assert response.status_code == 500
