"""Findings from the newcomer's test of issue 6 (dependable mail), each fixed and held here.

* "Send again" of an out-of-date calendar message is refused, naming the newer one;
  "send all failed again" skips those, suppressed addresses and expired codes.
* A complaint or bounce does not stop what the README promises always arrives
  (sign-in codes; invitations and decisions after a complaint).
* The chair's page lists members whose mail failed in the last 30 days, in plain words.
* The outbox page: an error cleared once sent, "earlier attempt failed", "next try
  HH:MM (UK time)", connection errors naming the server and port.
"""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from members.mail import OutgoingEmail, queue_email
from members.mail import outbox as outbox_module
from members.mail.bounces import outbox_failed_send_again, outbox_message_send_again
from members.mail.models import OutboxMessage, Suppression
from members.mail.outbox import deliver, superseded_by
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

from .mail_helpers import FakeClock, ScriptedBackend, free_port

pytestmark = pytest.mark.django_db

S = OutboxMessage.Status
URL = reverse("members:outbox")
UID = "0f6e2a3c-8d1b-4c4e-9a57-2b1d3e5f7a90@sighub"


@pytest.fixture
def scripted(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.members.mail_helpers.ScriptedBackend"}}
    ScriptedBackend.SCRIPT = []
    yield ScriptedBackend
    ScriptedBackend.SCRIPT = []


@pytest.fixture
def office(client):
    client.force_login(PersonFactory(is_staff=True))
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def itip(to: str, kind: str, sequence: int, *, status="failed", subject=None,
         minutes_ago=0, error="421 4.4.2 Connection dropped") -> OutboxMessage:
    """An outbox row as events.services queues an iTIP message (key and all)."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    subject = subject or f"{kind.title()}: Spring meeting (sequence {sequence})"
    return OutboxMessage.objects.create(
        kind="invitation", to=to, subject=subject, status=status, attempts=1,
        key=f"itip:{kind}:{UID}:{sequence}:{to.lower()}",
        last_error=error if status == "failed" else "",
        message=OutgoingEmail(to=to, subject=subject, text="t").as_json(),
        message_id=make_msgid(domain="nhs.net"), created_at=at, updated_at=at,
        sent_at=at if status == "sent" else None)


def plain(to: str, *, kind="notice", status="failed", minutes_ago=0,
          error="Gave up after 6 attempts: 421 4.4.2 Connection dropped") -> OutboxMessage:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return OutboxMessage.objects.create(
        kind=kind, to=to, subject=f"A {kind}", status=status, attempts=1, last_error=error,
        message=OutgoingEmail(to=to, subject=f"A {kind}", text="t").as_json(),
        message_id=make_msgid(domain="nhs.net"), created_at=at, updated_at=at,
        sent_at=at if status == "sent" else None)


# --- 2. Out-of-date invitations are not sent again --------------------------------------


def test_an_invitation_a_newer_sequence_replaced_is_not_sent_again(office):
    """Sending the failed original after the meeting moved would put the old time back
    in the person's calendar: refused, with the newer message named, row unchanged."""
    old = itip("jo@nhs.net", "new", 0, minutes_ago=60)
    newer = itip("jo@nhs.net", "update", 1, status="sent", minutes_ago=5,
                 subject="Updated: Spring meeting, now Thursday 4 March 2027")
    itip("ann@nhs.net", "update", 2, status="sent")  # someone else's: irrelevant
    assert superseded_by(old) == newer
    assert superseded_by(newer) is None

    page = text_of(office.get(URL))
    assert ("Not sent again: out of date, replaced by &ldquo;Updated: Spring meeting, now "
            "Thursday 4 March 2027&rdquo;") in page
    response = office.post(reverse("members:outbox_send_again", kwargs={"pk": old.pk}),
                           follow=True)
    text = text_of(response)
    assert "This calendar message to jo@nhs.net is out of date" in text
    assert "Updated: Spring meeting, now Thursday 4 March 2027" in text
    assert "earlier or cancelled version of the meeting back in their calendar" in text
    old.refresh_from_db()
    assert old.status == S.FAILED and old.attempts == 1
    assert mail.outbox == []


def test_a_cancel_at_the_same_sequence_replaces_the_request():
    """Removed from a meeting: a CANCEL at the current SEQUENCE, queued after the
    REQUEST; re-sending the REQUEST would put them back in a meeting they left."""
    request = itip("jo@nhs.net", "update", 3, minutes_ago=30)
    cancel = itip("jo@nhs.net", "removed", 3, status="sent", minutes_ago=2,
                  subject="Cancelled: Spring meeting")
    with pytest.raises(ValidationError) as refused:
        outbox_message_send_again(pk=request.pk)
    assert refused.value.code == "superseded"
    assert "Cancelled: Spring meeting" in refused.value.messages[0]
    # The cancellation itself is the newest and may be sent again if it failed.
    assert superseded_by(cancel) is None


def test_the_newest_failed_invitation_is_still_sent_again(django_capture_on_commit_callbacks):
    itip("jo@nhs.net", "new", 0, status="sent", minutes_ago=60)
    newest = itip("Jo@NHS.net", "update", 1, minutes_ago=5)  # same person, other case
    with django_capture_on_commit_callbacks(execute=True):
        outbox_message_send_again(pk=newest.pk)
    newest.refresh_from_db()
    assert newest.status == S.SENT
    assert [m.to for m in mail.outbox] == [["Jo@NHS.net"]]


def test_send_all_failed_again_skips_replaced_suppressed_and_expired(
        office, django_capture_on_commit_callbacks, settings):
    notice = plain("jo@nhs.net", minutes_ago=10)
    replaced = itip("jo@nhs.net", "new", 0, minutes_ago=60)
    newest = itip("jo@nhs.net", "cancel", 1, minutes_ago=1, subject="Cancelled: Spring meeting")
    bounced = plain("gone@nhs.net")
    Suppression.objects.create(address="gone@nhs.net", reason="bounced")
    expired = plain("new@nhs.net", kind="sign_in",
                    minutes_ago=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT // 60 + 1)
    sent = plain("fine@nhs.net", status="sent", error="")

    confirm = office.get(reverse("members:outbox_send_failed_again"))
    assert confirm.status_code == 200
    assert "5 messages failed" in text_of(confirm)
    assert OutboxMessage.objects.filter(status=S.FAILED).count() == 5  # GET changes nothing
    assert 'href="/network-office/mail/send-failed-again/"' in office.get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(reverse("members:outbox_send_failed_again"), follow=True)
    text = text_of(response)
    assert ("2 failed messages are queued to be sent again; 1 out-of-date calendar message "
            "was left alone (a newer one replaced it); 1 message to a suppressed address was "
            "left alone (lift the suppression first); 1 expired sign-in code was left "
            "alone.") in text
    assert sorted(m.to[0] for m in mail.outbox) == ["jo@nhs.net", "jo@nhs.net"]
    assert sorted(m.subject for m in mail.outbox) == ["A notice", "Cancelled: Spring meeting"]
    statuses = {row.pk: row.status for row in OutboxMessage.objects.all()}
    assert statuses == {notice.pk: S.SENT, newest.pk: S.SENT, replaced.pk: S.FAILED,
                        bounced.pk: S.FAILED, expired.pk: S.FAILED, sent.pk: S.SENT}


def test_send_all_failed_again_is_the_offices_and_post_only(client):
    plain("jo@nhs.net")
    url = reverse("members:outbox_send_failed_again")
    client.force_login(PersonFactory())
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert OutboxMessage.objects.get().status == S.FAILED


def test_send_all_failed_again_makes_a_few_queries_at_any_size(django_assert_max_num_queries):
    for n in range(30):
        plain(f"p{n}@nhs.net")
        itip(f"p{n}@nhs.net", "new", 0)
    with transaction.atomic(), django_assert_max_num_queries(8):
        report = outbox_failed_send_again()
    assert report.queued == 60


# --- 3. Suppression by kind: what always arrives -------------------------------------------


def queue(to: str, kind: str) -> OutboxMessage:
    with transaction.atomic():
        row = queue_email(OutgoingEmail(to=to, subject=f"A {kind}", text="Hi\n"), kind=kind)
    row.refresh_from_db()
    return row


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reason, sent, suppressed", [
    ("complained", {"sign_in", "invitation", "decision"},
     {"notice", "digest", "reminder", "action", "volunteering", "other"}),
    ("bounced", {"sign_in"},
     {"invitation", "decision", "notice", "digest", "reminder", "other"}),
    ("manual", {"sign_in"}, {"invitation", "decision", "notice"}),
])
def test_a_suppression_stops_only_what_it_should(scripted, reason, sent, suppressed):
    """A spam complaint stopped sign-in codes and invitations (the README promises they
    always arrive): a complaint now stops only notices, digests, reminders and the
    like; a bounce stops everything but sign-in codes, which are always attempted."""
    Suppression.objects.create(address="jo@nhs.net", reason=reason)
    outcome = {kind: queue("Jo@nhs.net", kind).status for kind in sent | suppressed}
    assert {k for k, status in outcome.items() if status == S.SENT} == sent
    assert {k for k, status in outcome.items() if status == S.SUPPRESSED} == suppressed
    assert sorted(m.subject for m in mail.outbox) == sorted(f"A {kind}" for kind in sent)


def test_send_again_of_an_invitation_to_an_address_that_only_complained(
        office, django_capture_on_commit_callbacks):
    Suppression.objects.create(address="jo@nhs.net", reason="complained")
    invitation = plain("jo@nhs.net", kind="invitation")
    notice = plain("jo@nhs.net", kind="notice")
    page = text_of(office.get(URL))
    hidden = '<span class="nhsuk-u-visually-hidden">'
    assert page.count(f"Send again{hidden} to jo@nhs.net") == 1  # the invitation
    assert f"Lift the suppression first{hidden} for jo@nhs.net" in page  # the notice
    with django_capture_on_commit_callbacks(execute=True):
        outbox_message_send_again(pk=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.status == S.SENT
    with pytest.raises(ValidationError, match="lift the suppression"):
        outbox_message_send_again(pk=notice.pk)


# --- 4. Chairs see failed mail -------------------------------------------------------------


def test_the_chairs_page_lists_members_whose_mail_failed_recently(client):
    sig = SIGFactory(name="Paediatric Imaging")
    chair = MembershipFactory(group=sig, role=Membership.Role.CHAIR).person
    for name, address in [("Fay Failed", "fay@nhs.net"), ("Old Failure", "old@nhs.net"),
                          ("Rita Resent", "rita@nhs.net"), ("Carl Complained", "carl@nhs.net")]:
        MembershipFactory(group=sig, person=PersonFactory(full_name=name, email=address))
    plain("fay@nhs.net", kind="invitation",
          error="Recipient refused: fay@nhs.net: 550 5.1.1 User unknown")
    plain("old@nhs.net", minutes_ago=31 * 24 * 60)
    plain("rita@nhs.net", status="sent", error="")
    Suppression.objects.create(address="carl@nhs.net", reason="complained")

    client.force_login(chair)
    text = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert "2 members email cannot reach" in text
    assert "fay@nhs.net" in text and "carl@nhs.net" in text
    assert "old@nhs.net" not in text and "rita@nhs.net" not in text
    assert ("A message could not be sent on" in text
            and "their mail server said the address does not exist." in text)
    assert "Missed: A invitation" in text
    assert "550 5.1.1" not in text  # plain words for the chair, not the server's reply
    assert "They marked our email as spam: they still get invitations" in text


# --- 5. The outbox page's errors and times ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_error_is_cleared_once_the_message_is_sent(scripted, monkeypatch):
    clock = FakeClock(timezone.now())
    monkeypatch.setattr(outbox_module, "clock", clock)
    scripted.SCRIPT = [smtplib.SMTPResponseException(451, b"4.3.0 Try again later")]
    row = queue("jo@nhs.net", "notice")
    assert row.status == S.RETRYING and row.last_error == "451 4.3.0 Try again later"
    clock.advance(minutes=1)
    deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.last_error) == (S.SENT, "")


def test_the_page_shows_earlier_errors_and_the_next_try_in_uk_time(office):
    retrying = plain("jo@nhs.net", status="retrying", error="451 4.3.0 Try again later")
    # 13:05 UTC on a summer date is 14:05 in London.
    retrying.next_attempt_at = datetime(2031, 7, 1, 13, 5, tzinfo=UTC)
    retrying.save()
    plain("ann@nhs.net", status="sent", error="Spam complaint: Test spam complaint details")
    text = text_of(office.get(URL))
    assert "Earlier attempt failed: 451 4.3.0 Try again later" in text
    assert "Error: 451" not in text
    assert re.search(r"next try 14:05 on 1 Jul 2031 \(UK time\)", text), text
    assert "Since sending: Spam complaint" in text


@pytest.mark.django_db(transaction=True)
def test_a_refused_connection_names_the_host_and_port(settings):
    port = free_port()  # nothing listens there
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 5}}}
    row = queue("jo@nhs.net", "notice")
    assert row.status == S.RETRYING
    assert row.last_error.endswith(f"(connecting to 127.0.0.1 port {port})"), row.last_error
