"""Inbound mail: the one entry point (members.mail.inbound) and Postmark's inbound webhook.

``ingest_message`` knows nothing of meetings: it finds calendar parts anywhere
in the MIME tree (rule R3) and hands each to ``calendar_reply_received``. The
webhook test posts Postmark's inbound JSON (with "Include raw email content
in JSON payload" on, so ``RawEmail`` carries the message) to anymail's real
URL with the basic-auth WEBHOOK_SECRET, and the answer is recorded.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from events.models import Invitation
from members.mail import inbound, webhooks
from members.mail.inbound import CalendarPart, InboundKind, InboundResult, ingest_message
from members.signals import calendar_reply_received
from tests.events.replies import (
    MEETING_UID,
    corpus_bytes,
    invitation_state,
    make_reply_meeting,
)

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET = "postmark:7d1e-inbound-test-secret"
CALENDAR = (
    "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:abc@sighub\r\nDTSTAMP:20270111T101502Z\r\n"
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:jo.smith@nhs.net\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def received(monkeypatch):
    """Only a recording receiver on calendar_reply_received: members tested on its own."""
    parts: list[CalendarPart] = []

    def record(sender, part, **kwargs):
        parts.append(part)
        return f"handled {part.content_type}"

    monkeypatch.setattr(calendar_reply_received, "receivers", [])
    monkeypatch.setattr(calendar_reply_received, "sender_receivers_cache", {})
    calendar_reply_received.connect(record, weak=False, dispatch_uid="test.record")
    return parts


def email_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


def reply_with(*parts: tuple[str, str, dict], top_level: bool = False) -> bytes:
    """A reply email; each part is (maintype/subtype, text, extra params)."""
    message = EmailMessage()
    message["From"] = "Jo Smith <Jo.Smith@NHS.net>"
    message["To"] = "dgft.wmimagingnetwork@nhs.net"
    message["Subject"] = "Accepted: Test"
    message["Message-ID"] = "<reply-1@nhs.net>"
    if top_level:
        content_type, text, params = parts[0]
        message.set_content(text.encode(), *content_type.split("/"), params=params, cte="base64")
        return email_bytes(message)
    message.set_content("Accepted")
    for content_type, text, params in parts:
        maintype, subtype = content_type.split("/")
        filename = params.pop("filename", None)
        message.add_attachment(text.encode(), maintype, subtype, params=params,
                               filename=filename, disposition="attachment" if filename else
                               "inline")
    return email_bytes(message)


# --- ingest_message on its own --------------------------------------------------------

def test_a_calendar_part_is_handed_on_with_what_the_handler_needs(received):
    result = ingest_message(reply_with(("text/calendar", CALENDAR, {"method": "REPLY"})))

    assert result.kind == InboundKind.CALENDAR
    assert result.outcomes == ("handled text/calendar",)
    assert result.message_id == "<reply-1@nhs.net>"
    [part] = received
    assert part.text.replace("\r\n", "\n") == CALENDAR.replace("\r\n", "\n")
    assert (part.method, part.sender, part.subject) == ("REPLY", "jo.smith@nhs.net",
                                                        "Accepted: Test")


def test_a_top_level_calendar_message_is_found(received):
    raw = reply_with(("text/calendar", CALENDAR, {"method": "reply"}), top_level=True)
    assert ingest_message(raw).kind == InboundKind.CALENDAR
    assert received[0].method == "REPLY"


def test_an_ics_attachment_is_found_and_the_same_object_twice_is_handed_on_once(received):
    raw = reply_with(("text/calendar", CALENDAR, {"method": "REPLY"}),
                     ("application/ics", CALENDAR, {"filename": "invite.ics"}))
    result = ingest_message(raw)
    assert len(received) == 1
    assert result.outcomes == ("handled text/calendar",)


def test_an_octet_stream_ics_attachment_is_a_calendar_part(received):
    raw = reply_with(("application/octet-stream", CALENDAR, {"filename": "reply.ics"}))
    ingest_message(raw)
    assert [p.filename for p in received] == ["reply.ics"]


def test_two_different_calendar_parts_are_both_handed_on(received):
    other = CALENDAR.replace("abc@sighub", "def@sighub")
    ingest_message(reply_with(("text/calendar", CALENDAR, {}), ("text/calendar", other, {})))
    assert len(received) == 2


def test_calendar_parts_are_capped(received):
    parts = [("text/calendar", CALENDAR.replace("abc", f"m{i}"), {}) for i in range(15)]
    ingest_message(reply_with(*parts))
    assert len(received) == inbound.MAX_CALENDAR_PARTS


@pytest.mark.django_db
def test_a_calendar_inside_an_attached_message_is_not_this_messages_reply(received):
    result = ingest_message(corpus_bytes("delivery-report.eml"))
    assert result.kind == InboundKind.DELIVERY_REPORT
    assert received == []


@pytest.mark.parametrize("raw, kind", [
    (b"", InboundKind.UNREADABLE),
    (b"   \r\n", InboundKind.UNREADABLE),
    (b"\x00\xff\xfe garbage with no headers at all", InboundKind.OTHER),
    (b"Subject: hello\r\n\r\nJust text.\r\n", InboundKind.OTHER),
])
def test_bad_or_plain_input_never_raises(received, raw, kind):
    result = ingest_message(raw)
    assert result.kind == kind
    assert received == []


def test_an_unknown_charset_and_broken_base64_do_not_raise(received):
    raw = (b"From: x@nhs.net\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/calendar; charset=x-no-such-charset; method=REPLY\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n")
    result = ingest_message(raw)
    assert result.kind == InboundKind.CALENDAR
    assert len(received) == 1


def test_with_nothing_connected_the_result_says_so(monkeypatch, caplog):
    monkeypatch.setattr(calendar_reply_received, "receivers", [])
    monkeypatch.setattr(calendar_reply_received, "sender_receivers_cache", {})
    result = ingest_message(reply_with(("text/calendar", CALENDAR, {})))
    assert result.outcomes == ("no handler for calendar replies",)
    assert "nothing handles calendar replies" in caplog.text


def test_result_text():
    assert str(InboundResult(InboundKind.OTHER)) == "not a calendar reply"
    assert str(InboundResult(InboundKind.UNREADABLE, detail="empty message")) == (
        "unreadable: empty message")
    assert str(InboundResult(InboundKind.CALENDAR, ("a", "b"))) == "a; b"


# --- Postmark's inbound webhook through anymail ------------------------------------------

@pytest.fixture
def webhook(settings, monkeypatch):
    """The URL, with the secret configured and the clock before the meeting."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    return reverse("anymail:postmark_inbound_webhook")


def auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def postmark_payload(raw: bytes, *, include_raw: bool = True) -> dict:
    """Postmark's inbound webhook JSON for ``raw`` (fields as Postmark documents them)."""
    message = inbound.parse_message(raw)
    sender = message["From"].addresses[0]
    body = message.get_body(("plain",))
    payload = {
        "FromName": sender.display_name,
        "MessageStream": "inbound",
        "From": sender.addr_spec,
        "FromFull": {"Email": sender.addr_spec, "Name": sender.display_name,
                     "MailboxHash": ""},
        "To": "\"WM Imaging Network\" <dgft.wmimagingnetwork@nhs.net>",
        "ToFull": [{"Email": "dgft.wmimagingnetwork@nhs.net", "Name": "WM Imaging Network",
                    "MailboxHash": ""}],
        "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [],
        "OriginalRecipient": "dgft.wmimagingnetwork@nhs.net",
        "Subject": str(message["Subject"]),
        "MessageID": "a8c1040e-db1c-4e18-ac79-bc5f64c7ce2c",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": str(message["Date"]),
        "TextBody": body.get_content() if body is not None else "",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{sender.addr_spec}>"},
            {"Name": "Received", "Value": "by p-pm-inboundg02a-aws-euwest1a.inbound.postmarkapp"
                                          ".com (Postfix, from userid 996) id 4XJ2mR3pz5z4x"},
            {"Name": "X-Spam-Checker-Version",
             "Value": "SpamAssassin 3.4.0 (2014-02-07) on p-pm-inboundg02a-aws-euwest1a"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
            {"Name": "X-Spam-Tests", "Value": "DKIM_SIGNED,DKIM_VALID,SPF_PASS"},
            {"Name": "Message-ID", "Value": str(message["Message-ID"])},
            {"Name": "MIME-Version", "Value": "1.0"},
        ],
        "Attachments": [],
    }
    if include_raw:
        payload["RawEmail"] = raw.decode("utf-8")
    return payload


def post(client, url, payload, **extra):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **extra)


@pytest.mark.django_db
def test_postmark_inbound_reply_is_recorded(client, webhook):
    meeting = make_reply_meeting()
    payload = postmark_payload(corpus_bytes("outlook-exchange-accepted.eml"))

    response = post(client, webhook, payload, **auth())

    assert response.status_code == 200
    jo = Invitation.objects.get(meeting=meeting, person__email="jo.smith@nhs.net")
    assert (jo.response, jo.answered_via) == (Invitation.Response.ATTENDING,
                                              Invitation.Source.CALENDAR)
    assert jo.reply_sequence == 1
    assert meeting.uid == MEETING_UID


@pytest.mark.django_db
def test_postmark_retry_of_the_same_reply_is_harmless(client, webhook):
    meeting = make_reply_meeting()
    payload = postmark_payload(corpus_bytes("gmail-accepted.eml"))
    assert post(client, webhook, payload, **auth()).status_code == 200
    first = invitation_state(meeting)
    assert post(client, webhook, payload, **auth()).status_code == 200
    assert invitation_state(meeting) == first


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", [None, "postmark:wrong", "someone:" + SECRET])
def test_postmark_webhook_refuses_without_the_secret(client, webhook, credentials):
    meeting = make_reply_meeting()
    before = invitation_state(meeting)
    extra = auth(credentials) if credentials else {}

    response = post(client, webhook, postmark_payload(
        corpus_bytes("outlook-exchange-accepted.eml")), **extra)

    assert 400 <= response.status_code < 500
    assert invitation_state(meeting) == before


@cache
def webhook_secret_from_settings(secret: str | None = None) -> str:
    """``ANYMAIL["WEBHOOK_SECRET"]`` as config/settings.py builds it, with
    ``ANYMAIL_WEBHOOK_SECRET`` set to ``secret`` or unset (a fresh interpreter)."""
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    if secret is not None:
        env["ANYMAIL_WEBHOOK_SECRET"] = secret
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(settings.ANYMAIL['WEBHOOK_SECRET'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout.strip()


def test_webhook_secret_comes_from_the_environment_and_is_unguessable_without_it():
    assert webhook_secret_from_settings(SECRET) == SECRET
    unset = webhook_secret_from_settings()
    assert unset.startswith("disabled:") and len(unset) > 40


@pytest.mark.django_db
def test_webhook_refuses_everything_when_no_secret_is_configured(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": webhook_secret_from_settings()}
    response = post(client, reverse("anymail:postmark_inbound_webhook"),
                    postmark_payload(corpus_bytes("not-calendar.eml")), **auth())
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["not-calendar.eml", "broken-calendar-part.eml",
                                  "outlook-unknown-uid.eml"])
def test_postmark_messages_that_change_nothing_are_still_accepted(client, webhook, name):
    meeting = make_reply_meeting()
    before = invitation_state(meeting)
    assert post(client, webhook, postmark_payload(corpus_bytes(name)), **auth()).status_code == (
        200)
    assert invitation_state(meeting) == before


@pytest.mark.django_db
def test_without_raw_email_postmark_drops_the_calendar_part_so_nothing_is_recorded(
        client, webhook):
    """Why "Include raw email content in JSON payload" must be on (README)."""
    meeting = make_reply_meeting()
    before = invitation_state(meeting)
    payload = postmark_payload(corpus_bytes("outlook-exchange-accepted.eml"), include_raw=False)
    assert post(client, webhook, payload, **auth()).status_code == 200
    assert invitation_state(meeting) == before


@pytest.mark.django_db
def test_a_fault_handling_one_message_is_logged_and_the_message_accepted(
        client, webhook, monkeypatch, caplog):
    def broken(raw):
        raise RuntimeError("bug")

    monkeypatch.setattr(webhooks, "ingest_message", broken)
    with caplog.at_level(logging.ERROR, logger="members.mail.webhooks"):
        response = post(client, webhook, postmark_payload(corpus_bytes("not-calendar.eml")),
                        **auth())
    assert response.status_code == 200
    assert "could not be handled" in caplog.text


@pytest.mark.django_db
def test_a_database_outage_makes_postmark_retry(client, webhook, monkeypatch):
    def down(raw):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(webhooks, "ingest_message", down)
    client.raise_request_exception = False
    response = post(client, webhook, postmark_payload(corpus_bytes("not-calendar.eml")),
                    **auth())
    assert response.status_code == 500
