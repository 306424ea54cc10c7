"""Transports chosen by configuration: Microsoft Graph (HTTP mocked), django-anymail's test
backend with simulated ESP errors, file output, the settings that pick them, and which errors
are transient."""

import base64
import email
import json
import os
import smtplib
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail
from django.db import transaction

from members.mail import OutgoingEmail, graph, queue_email
from members.mail.models import OutboxMessage
from members.mail.transports import classify

pytestmark = pytest.mark.django_db(transaction=True)

S = OutboxMessage.Status
ROOT = Path(__file__).resolve().parents[2]
MAILBOX = "dgft.wmimagingnetwork@nhs.net"
CALENDAR = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SIG Hub//EN\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VEVENT\r\nUID:uid-1@sighub\r\nSEQUENCE:0\r\nDTSTAMP:20270301T090000Z\r\n"
            "DTSTART:20270328T130000Z\r\nSUMMARY:Spring meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
CALENDAR_HEADER = 'Content-Type: text/calendar; charset="utf-8"; method=REQUEST'


def invitation(to="jo.smith@nhs.net") -> OutgoingEmail:
    return OutgoingEmail(to=to, subject="Invitation: Spring meeting", text="Come\n",
                         html="<p>Come</p>", calendar=CALENDAR, calendar_method="REQUEST")


def send(email_: OutgoingEmail, **kwargs) -> OutboxMessage:
    with transaction.atomic():
        row = queue_email(email_, **kwargs)
    row.refresh_from_db()
    return row


# --- Microsoft Graph ------------------------------------------------------------------


class FakeResponse:
    def __init__(self, status_code: int, body: dict | None = None):
        self.status_code = status_code
        self.text = json.dumps(body) if body else ""
        self.reason = {202: "Accepted", 400: "Bad Request", 429: "Too Many Requests",
                       503: "Service Unavailable"}.get(status_code, "")

    def json(self):
        return json.loads(self.text)


@pytest.fixture
def graph_api(settings, monkeypatch):
    """Graph with every HTTP call mocked: msal's token request and the sendMail POST."""
    import msal
    import requests

    settings.MAILERS = {"default": {"BACKEND": "members.mail.graph.GraphEmailBackend", "OPTIONS": {
        "tenant_id": "tenant-guid", "client_id": "client-guid", "client_secret": "secret",
        "mailbox": MAILBOX}}}
    settings.MAIL_TRANSPORT = "graph"
    settings.MAIL_RATE_PER_MINUTE = 0
    api = {"posts": [], "responses": [], "token": {"access_token": "token-1",
                                                  "token_type": "Bearer", "expires_in": 3599},
           "apps": []}

    class FakeApp:
        def __init__(self, client_id, client_credential=None, authority=None, **kwargs):
            api["apps"].append((client_id, client_credential, authority))

        def acquire_token_for_client(self, scopes):
            assert scopes == ["https://graph.microsoft.com/.default"]
            return api["token"]

    def post(self, url, data=None, headers=None, timeout=None, **kwargs):
        api["posts"].append({"url": url, "data": data, "headers": headers, "timeout": timeout})
        return api["responses"].pop(0) if api["responses"] else FakeResponse(202)

    def no_network(self, *args, **kwargs):
        raise AssertionError("no real HTTP in tests")

    monkeypatch.setattr(msal, "ConfidentialClientApplication", FakeApp)
    monkeypatch.setattr(requests.Session, "post", post)
    monkeypatch.setattr(requests.Session, "send", no_network)
    monkeypatch.setattr(graph, "_apps", {})
    return api


def test_graph_posts_the_whole_mime_base64_as_text_plain_keeping_the_calendar_part(graph_api):
    row = send(invitation(), kind="invitation")

    assert row.status == S.SENT and row.transport == "graph"
    [post] = graph_api["posts"]
    assert post["url"] == f"https://graph.microsoft.com/v1.0/users/{MAILBOX}/sendMail"
    assert post["headers"] == {"Authorization": "Bearer token-1", "Content-Type": "text/plain"}
    assert post["timeout"] == 30
    mime = base64.b64decode(post["data"], validate=True)
    assert f"\r\n{CALENDAR_HEADER}\r\n".encode() in mime
    msg = email.message_from_bytes(mime, policy=policy.default)
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_payload(decode=True) == CALENDAR.encode()
    assert msg["Message-ID"] == row.message_id == row.transport_message_id
    assert MAILBOX in msg["From"] and msg["To"] == "jo.smith@nhs.net"
    assert graph_api["apps"] == [
        ("client-guid", "secret", "https://login.microsoftonline.com/tenant-guid")]


def test_graph_reuses_its_token_app_and_one_session_for_a_batch(graph_api, settings):
    from members.mail.outbox import outbox_send_due

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    for i in range(3):
        send(invitation(to=f"m{i}@nhs.net"))
    assert outbox_send_due().sent == 3
    assert len(graph_api["posts"]) == 3 and len(graph_api["apps"]) == 1


@pytest.mark.parametrize(("status", "expected"), [(429, S.RETRYING), (503, S.RETRYING),
                                                  (400, S.FAILED)])
def test_graph_errors_retry_or_fail(graph_api, status, expected):
    body = {"error": {"code": "ErrorMimeContentInvalid" if status == 400 else "Throttled",
                      "message": "Graph said no"}}
    graph_api["responses"] = [FakeResponse(status, body)]
    row = send(invitation())
    assert row.status == expected
    assert f"Graph sendMail returned {status}" in row.last_error
    assert "Graph said no" in row.last_error


def test_a_refused_app_registration_fails_without_retrying(graph_api):
    graph_api["token"] = {"error": "invalid_client",
                          "error_description": "AADSTS7000215: Invalid client secret provided."}
    row = send(invitation())
    assert row.status == S.FAILED
    assert "invalid_client" in row.last_error and "AADSTS7000215" in row.last_error
    assert graph_api["posts"] == []


# --- django-anymail (an ESP from the deployment's own domain) -----------------------------


@pytest.fixture
def esp(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.MAIL_TRANSPORT = "anymail"
    settings.MAIL_RATE_PER_MINUTE = 0
    settings.DEFAULT_FROM_EMAIL = "West Midlands Imaging Network <sighub@imaging.example.org>"
    settings.MAIL_REPLY_TO = f"West Midlands Imaging Network <{MAILBOX}>"
    responses = []

    def simulate(sender, message, esp_name, **kwargs):
        if responses:
            message.anymail_test_response = responses.pop(0)

    pre_send.connect(simulate, weak=False, dispatch_uid="test-esp-response")
    yield responses
    pre_send.disconnect(dispatch_uid="test-esp-response")


def test_anymail_keeps_the_calendar_method_and_sends_from_our_domain_replying_to_the_mailbox(
        esp):
    row = send(invitation(), kind="invitation")

    assert row.status == S.SENT
    [message] = mail.outbox
    params = message.anymail_test_params
    assert str(params["from"]) == "West Midlands Imaging Network <sighub@imaging.example.org>"
    assert [str(a) for a in params["reply_to"]] == [f"West Midlands Imaging Network <{MAILBOX}>"]
    [(content, mimetype)] = [a for a in params["alternatives"] if "calendar" in a[1]]
    assert content == CALENDAR and "method=REQUEST" in mimetype
    # What a raw-MIME ESP (Amazon SES) transmits: the header as rule I1 writes it.
    raw = message.message().as_bytes()
    assert f"\n{CALENDAR_HEADER}\n".encode() in raw.replace(b"\r\n", b"\n")
    assert row.transport_message_id == str(message.anymail_status.message_id)


@pytest.mark.parametrize(("status", "expected"), [(503, S.RETRYING), (429, S.RETRYING),
                                                  (422, S.FAILED)])
def test_a_simulated_esp_error_retries_or_fails(esp, status, expected):
    esp.append(AnymailAPIError("ESP refused the send", status_code=status,
                               response=FakeResponse(status, {"Message": "ESP said no"})))
    row = send(invitation())
    assert row.status == expected and row.attempts == 1
    assert "ESP refused the send" in row.last_error


def test_an_esp_error_without_a_response_is_still_recorded(esp):
    esp.append(AnymailAPIError("Connection reset by the ESP", status_code=502))
    row = send(invitation())
    assert row.status == S.RETRYING
    assert "Connection reset by the ESP" in row.last_error


def test_an_esp_rejecting_every_recipient_fails_the_message(esp):
    esp.append({"recipient_status": {
        "jo.smith@nhs.net": AnymailRecipientStatus(message_id=None, status="rejected")}})
    row = send(invitation())
    assert row.status == S.FAILED and row.attempts == 1
    assert "AnymailRecipientsRefused" in row.last_error


def test_after_a_simulated_esp_outage_the_retry_sends_once(esp, monkeypatch):

    from django.utils import timezone

    from members.mail import outbox as outbox_module
    from members.mail.outbox import outbox_send_due

    from .mail_helpers import FakeClock

    clock = FakeClock(timezone.now())
    monkeypatch.setattr(outbox_module, "clock", clock)
    esp.append(AnymailAPIError("Service unavailable", status_code=503,
                               response=FakeResponse(503, {"Message": "down"})))
    row = send(invitation())
    assert row.status == S.RETRYING
    clock.advance(minutes=1)
    assert outbox_send_due().sent == 1
    row.refresh_from_db()
    assert row.status == S.SENT and row.attempts == 2
    assert len(mail.outbox) == 2  # the failed try reached the test ESP too
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {row.message_id}
    assert outbox_send_due().sent == 0
    clock.advance(hours=1)
    assert outbox_send_due().sent == 0


# --- file output (development) ------------------------------------------------------------


def test_the_file_transport_writes_the_message_with_its_calendar_part(settings, tmp_path):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                                    "OPTIONS": {"file_path": str(tmp_path / "mail")}}}
    row = send(invitation())
    assert row.status == S.SENT
    [written] = (tmp_path / "mail").iterdir()
    text = written.read_text()
    assert CALENDAR_HEADER in text and row.message_id in text


# --- which errors are transient ----------------------------------------------------------


@pytest.mark.parametrize(("error", "transient", "whole_batch"), [
    (ConnectionRefusedError(111, "Connection refused"), True, True),
    (TimeoutError("timed out"), True, True),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, True),
    (smtplib.SMTPConnectError(421, b"4.3.2 Service not available"), True, True),
    (smtplib.SMTPResponseException(421, b"4.7.0 Too many connections"), True, True),
    (smtplib.SMTPResponseException(451, b"4.4.1 Try later"), True, False),
    (smtplib.SMTPAuthenticationError(535, b"5.7.3 Authentication unsuccessful"), False, True),
    (smtplib.SMTPAuthenticationError(454, b"4.7.0 Temporary authentication failure"),
     True, True),
    (smtplib.SMTPRecipientsRefused({"a@nhs.net": (550, b"5.1.1 unknown")}), False, False),
    (smtplib.SMTPRecipientsRefused({"a@nhs.net": (452, b"4.2.2 full")}), True, False),
    (smtplib.SMTPSenderRefused(550, b"5.7.60 SendAsDenied", "x@nhs.net"), False, False),
    (smtplib.SMTPDataError(554, b"5.6.0 rejected"), False, False),
    (AnymailAPIError("down", status_code=500), True, False),
    (AnymailAPIError("slow down", status_code=429), True, False),
    (AnymailAPIError("bad", status_code=400), False, False),
    (AnymailRecipientsRefused(), False, False),
    (graph.GraphSendError(429, "throttled"), True, False),
    (graph.GraphSendError(403, "ErrorAccessDenied"), False, False),
    (graph.GraphAuthError("invalid_client"), False, True),
    (ValueError("Invalid address 'x@'"), False, False),
    (RuntimeError("something we did not foresee"), True, False),
])
def test_classify(error, transient, whole_batch):
    failure = classify(error)
    assert (failure.transient, failure.connection) == (transient, whole_batch)
    assert failure.detail


# --- the settings that pick a transport -----------------------------------------------------

PRINT = ("import django, json; django.setup(); from django.conf import settings as s; "
         "m = s.MAILERS['default']; print(json.dumps({'transport': s.MAIL_TRANSPORT, "
         "'backend': m['BACKEND'], 'options': sorted(m.get('OPTIONS', {})), "
         "'rate': s.MAIL_RATE_PER_MINUTE, 'from': s.DEFAULT_FROM_EMAIL, "
         "'reply_to': s.MAIL_REPLY_TO, 'anymail': sorted(s.ANYMAIL)}))")
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 50}


def mail_settings(**env) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings",
             **env}
    return subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60, check=False)


def configured(**env) -> dict:
    result = mail_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_prints_mail_with_no_limit():
    assert configured() | {"options": None, "anymail": None} == {
        "transport": "console", "backend": "django.core.mail.backends.console.EmailBackend",
        "options": None, "rate": 0, "from": f"West Midlands Imaging Network <{MAILBOX}>",
        "reply_to": "", "anymail": None}


def test_todays_email_variables_still_choose_nhsmail_smtp_at_30_a_minute():
    got = configured(**PRODUCTION, EMAIL_HOST="send.nhs.net", EMAIL_HOST_USER=MAILBOX,
                     EMAIL_HOST_PASSWORD="pw")
    assert got["transport"] == "smtp"
    assert got["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert got["options"] == ["host", "password", "port", "timeout", "use_tls", "username"]
    assert got["rate"] == 30 and MAILBOX in got["from"]
    got = configured(**PRODUCTION, EMAIL_HOST="send.nhs.net",
                     EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert got["transport"] == "smtp" and "host" in got["options"]


def test_a_private_ca_for_the_relay():
    got = configured(**PRODUCTION, MAIL_TRANSPORT="smtp", EMAIL_HOST="relay.trust.nhs.uk",
                     EMAIL_SSL_CAFILE="/etc/ssl/trust-ca.pem", MAIL_RATE_PER_MINUTE="12")
    assert got["backend"] == "members.mail.transports.SMTPBackend"
    assert "ssl_cafile" in got["options"] and got["rate"] == 12


def test_graph_needs_its_app_registration():
    result = mail_settings(**PRODUCTION, MAIL_TRANSPORT="graph")
    assert result.returncode != 0 and "GRAPH_TENANT_ID is not set" in result.stderr
    got = configured(**PRODUCTION, MAIL_TRANSPORT="graph", GRAPH_TENANT_ID="t",
                     GRAPH_CLIENT_ID="c", GRAPH_CLIENT_SECRET="s")
    assert got["backend"] == "members.mail.graph.GraphEmailBackend"
    assert got["options"] == ["client_id", "client_secret", "mailbox", "tenant_id", "timeout"]
    assert got["rate"] == 30


def test_anymail_sends_from_our_own_domain_with_replies_to_the_mailbox():
    result = mail_settings(**PRODUCTION, MAIL_TRANSPORT="anymail", ANYMAIL_ESP="postmark")
    assert result.returncode != 0 and "MAIL_FROM is not set" in result.stderr
    got = configured(**PRODUCTION, MAIL_TRANSPORT="anymail", ANYMAIL_ESP="postmark",
                     MAIL_FROM="West Midlands Imaging Network <sighub@imaging.example.org>",
                     ANYMAIL_POSTMARK_SERVER_TOKEN="token")
    assert got["backend"] == "anymail.backends.postmark.EmailBackend"
    assert got["from"] == "West Midlands Imaging Network <sighub@imaging.example.org>"
    assert got["reply_to"] == f"West Midlands Imaging Network <{MAILBOX}>"
    assert got["rate"] == 0
    assert got["anymail"] == ["POSTMARK_SERVER_TOKEN", "WEBHOOK_SECRET"]


def test_file_output_and_bad_values():
    got = configured(MAIL_TRANSPORT="file", EMAIL_FILE_PATH="/tmp/sighub-mail")
    assert got["backend"] == "django.core.mail.backends.filebased.EmailBackend"
    for env, message in [
        ({"MAIL_TRANSPORT": "pigeon"}, "MAIL_TRANSPORT must be one of smtp, graph"),
        ({"MAIL_RATE_PER_MINUTE": "-1"}, "MAIL_RATE_PER_MINUTE must be 0"),
        ({"LOGIN_CODE_TIMEOUT_SECONDS": "120"}, "LOGIN_CODE_TIMEOUT_SECONDS must be at least"),
        ({**PRODUCTION}, "No mail transport"),
    ]:
        result = mail_settings(**env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr)
