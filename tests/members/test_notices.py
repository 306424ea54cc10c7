"""Notice preferences (issue 6): as they happen, weekly digest, or not at all, per group.

Notices (agenda packs, minutes) go through ``members.mail.notices.queue_notice``
and carry RFC 8058 one-click unsubscribe headers; invitations, sign-in codes
and decisions never do, and are always sent. ``manage.py send_digests``
collects each person's held notices into one message, once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from io import StringIO

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from events import agenda, minutes, services
from events.models import Invitation
from members.mail import OutgoingEmail
from members.mail.models import DigestItem, NoticePreference, OutboxMessage
from members.mail.notices import notice_preference_set, queue_notice
from members.models import Membership, Person
from tests.factories import (
    AgendaItemFactory,
    InvitationFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://sighub.example.nhs.uk"


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """``with sent(): ...``: mail queued inside is sent when the block ends (as on commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sig():
    group = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    MembershipFactory(group=group, role=Membership.Role.CHAIR,
                      person=PersonFactory(full_name="Dr Chair", email="chair@nhs.net"))
    for name, address in [("Jo Smith", "jo@nhs.net"), ("Di Gest", "di@nhs.net"),
                          ("No Ne", "none@nhs.net")]:
        MembershipFactory(group=group, person=PersonFactory(full_name=name, email=address))
    return group


def who(address: str) -> Person:
    return Person.objects.get(email=address)


def raw_headers(message) -> dict:
    """The headers of the message as it leaves (parsed back from its bytes)."""
    return message_from_bytes(message.message().as_bytes(), policy=policy.default)


def notice(person, subject="Agenda: Spring meeting, Wednesday 3 March 2027") -> OutgoingEmail:
    return OutgoingEmail(to=person.email, subject=subject,
                         text=f"Dear {person.full_name},\n\nHere is the agenda for the next "
                              "meeting.\n\nMore text.\n",
                         html="<html><body><p>Here is the agenda.</p></body></html>")


# --- queue_notice and the three choices --------------------------------------------------


def test_as_they_happen_is_the_default_and_carries_one_click_unsubscribe(sig, sent):
    jo = who("jo@nhs.net")
    with sent():
        row = queue_notice(notice(jo), person=jo, group=sig, url=SITE + "/x/")
    assert isinstance(row, OutboxMessage) and row.kind == "notice" and row.group == sig
    [message] = mail.outbox
    assert message.to == ["jo@nhs.net"]
    headers = raw_headers(message)
    unsubscribe = headers["List-Unsubscribe"]
    match = re.fullmatch(r"<(https://[^>]+)>, <mailto:([^>]+)>", unsubscribe)
    assert match, unsubscribe
    assert match.group(1).startswith(SITE + "/mail/unsubscribe/")
    assert match.group(2) == "dgft.wmimagingnetwork@nhs.net?subject=unsubscribe"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Auto-Submitted"] == "auto-generated"
    # The footer says why and gives both links, in the text and HTML parts.
    assert "You get this because you are a member of Paediatric Imaging" in message.body
    assert match.group(1) in message.body
    assert SITE + reverse("members:notice_preferences") in message.body
    html = message.alternatives[0].content
    assert f'<a href="{match.group(1)}">Stop these emails</a>' in html
    assert html.index("Stop these emails") < html.index("</body>")


def test_digest_holds_the_notice_and_sends_nothing(sig, sent):
    di = who("di@nhs.net")
    notice_preference_set(person=di, group=sig, mode="digest")
    with sent():
        item = queue_notice(notice(di), person=di, group=sig, url=SITE + "/meetings/1/agenda/")
    assert mail.outbox == []
    assert isinstance(item, DigestItem)
    assert (item.subject, item.url) == ("Agenda: Spring meeting, Wednesday 3 March 2027",
                                        SITE + "/meetings/1/agenda/")
    assert item.text == "Here is the agenda for the next meeting."  # greeting left out
    assert not OutboxMessage.objects.exists()


def test_not_at_all_sends_and_holds_nothing(sig, sent):
    nobody = who("none@nhs.net")
    notice_preference_set(person=nobody, group=sig, mode="none")
    with sent():
        assert queue_notice(notice(nobody), person=nobody, group=sig) is None
    assert mail.outbox == []
    assert not DigestItem.objects.exists() and not OutboxMessage.objects.exists()


def test_a_preference_is_per_group(sig, sent):
    other = SIGFactory(name="Breast Imaging")
    jo = who("jo@nhs.net")
    MembershipFactory(group=other, person=jo)
    notice_preference_set(person=jo, group=sig, mode="none")
    with sent():
        queue_notice(notice(jo), person=jo, group=sig)
        queue_notice(notice(jo, "Minutes published"), person=jo, group=other)
    assert [m.subject for m in mail.outbox] == ["Minutes published"]


def test_choosing_not_at_all_drops_notices_held_for_the_digest(sig):
    di = who("di@nhs.net")
    notice_preference_set(person=di, group=sig, mode="digest")
    queue_notice(notice(di), person=di, group=sig)
    notice_preference_set(person=di, group=sig, mode="none")
    assert not DigestItem.objects.exists()


def test_an_unknown_mode_is_refused():
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        notice_preference_set(person=PersonFactory(), group=SIGFactory(), mode="hourly")
    assert not NoticePreference.objects.exists()


# --- The call sites: agenda packs and minutes ----------------------------------------------


def test_the_agenda_pack_follows_each_persons_choice(sig, sent):
    chair = who("chair@nhs.net")
    notice_preference_set(person=who("di@nhs.net"), group=sig, mode="digest")
    notice_preference_set(person=who("none@nhs.net"), group=sig, mode="none")
    start = timezone.now() + timedelta(days=20)
    meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title="Spring meeting",
                                        start=start, end=start + timedelta(hours=2),
                                        teams_url="https://teams.microsoft.com/l/x")
    with sent():
        pass
    mail.outbox = []

    with sent():
        publication = agenda.agenda_publish(meeting=meeting, by=chair)

    assert publication.recipient_count == 4  # everyone invited, whatever they chose
    assert sorted(m.to[0] for m in mail.outbox) == ["chair@nhs.net", "jo@nhs.net"]
    for message in mail.outbox:
        assert raw_headers(message)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    held = DigestItem.objects.get()
    assert held.person.email == "di@nhs.net" and held.group == sig
    assert held.subject.startswith("Agenda: Spring meeting")
    assert held.url == SITE + reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})


def test_the_chair_is_told_who_gets_the_agenda_now_in_a_digest_or_not_at_all(
        client, sig, sent):
    """ "Agenda sent to 4 people" counted everyone invited, even those who get it in a
    digest, turned notices off, or cannot be reached: the message now says which."""
    from members.mail.models import Suppression

    chair = who("chair@nhs.net")
    notice_preference_set(person=who("di@nhs.net"), group=sig, mode="digest")
    notice_preference_set(person=who("none@nhs.net"), group=sig, mode="none")
    bounced = MembershipFactory(group=sig, person=PersonFactory(email="gone@nhs.net")).person
    Suppression.objects.create(address=bounced.email, reason="bounced")
    start = timezone.now() + timedelta(days=20)
    meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title="Spring meeting",
                                        start=start, end=start + timedelta(hours=2),
                                        teams_url="https://teams.microsoft.com/l/x")
    AgendaItemFactory(meeting=meeting, position=0, title="MRI protocols")
    client.force_login(chair)
    with sent():
        response = client.post(reverse("events:agenda_publish", kwargs={"pk": meeting.pk}),
                               follow=True)
    text = " ".join(response.content.decode().split())
    assert ("Agenda sent to 2 people; 1 will get it in their weekly digest; 1 has turned "
            "these notices off; 1 cannot be reached by email (their address bounced or "
            "marked our email as spam).") in text


def test_minutes_circulated_and_published_follow_each_persons_choice(sig, sent):
    chair = who("chair@nhs.net")
    notice_preference_set(person=who("di@nhs.net"), group=sig, mode="digest")
    notice_preference_set(person=who("none@nhs.net"), group=sig, mode="none")
    start = timezone.now() - timedelta(hours=3)
    meeting = MeetingFactory(group=sig, title="Winter meeting", start=start,
                             end=start + timedelta(hours=1))
    for membership in sig.memberships.all():
        InvitationFactory(meeting=meeting, person=membership.person,
                          response=Invitation.Response.ONLINE)
    item = AgendaItemFactory(meeting=meeting, position=0, title="MRI protocols")
    minutes.minutes_save(meeting=meeting, entries=[{"item": item.pk, "text": "Agreed."}],
                         by=chair)
    record = minutes.minutes_for(meeting)

    with sent():
        minutes.minutes_circulate(minutes=record, by=chair)
    assert sorted(m.to[0] for m in mail.outbox) == ["chair@nhs.net", "jo@nhs.net"]
    assert all(raw_headers(m)["List-Unsubscribe"] for m in mail.outbox)
    mail.outbox = []

    record.refresh_from_db()
    minutes.minutes_approve_by_chair(minutes=record, by=chair, reason="No comments")
    record.refresh_from_db()
    with sent():
        minutes.minutes_publish(minutes=record, by=chair, open_to_network=False)
    assert sorted(m.to[0] for m in mail.outbox) == ["chair@nhs.net", "jo@nhs.net"]
    subjects = [s.split(":")[0] for s in DigestItem.objects.values_list("subject", flat=True)]
    assert subjects == ["Draft minutes for comment", "Minutes published"]
    assert set(DigestItem.objects.values_list("person__email", flat=True)) == {"di@nhs.net"}


RAW_LIST_UNSUBSCRIBE = re.compile(
    rb"\r\nList-Unsubscribe: <(https://[!-~]+?)>,\r\n <mailto:([!-~]+?)>\r\n"
    rb"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")


def assert_plain_list_unsubscribe(message) -> bytes:
    """The message's raw bytes, as the SMTP backend and Graph send them, carry
    ``List-Unsubscribe: <https...>,`` folded only before ``<mailto:...>``, never as
    RFC 2047 encoded words; returns the https URL."""
    raw = message.message(policy=policy.SMTP).as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    assert b"=?" not in headers, headers
    match = RAW_LIST_UNSUBSCRIBE.search(headers)
    assert match, headers
    assert match.group(2) == b"dgft.wmimagingnetwork@nhs.net?subject=unsubscribe"
    # Django's default policy (console and file backends) writes the same, with LF.
    default = message.message().as_bytes().split(b"\n\n", 1)[0]
    assert b"List-Unsubscribe: <" + match.group(1) + b">,\n <mailto:" in default
    return match.group(1)


def test_list_unsubscribe_leaves_as_plain_uris_not_encoded_words(sig, sent):
    """A one-click URL longer than a 78-character line used to be folded by Python's
    email policy into ``=?utf-8?q?=3Chttps...`` encoded words, which Outlook and Gmail
    cannot use: it must go out as written, folded only at the comma."""
    jo = who("jo@nhs.net")
    with sent():
        queue_notice(notice(jo), person=jo, group=sig)
    [message] = mail.outbox
    url = assert_plain_list_unsubscribe(message).decode()
    assert len(url) > 78 and url.startswith(SITE + "/mail/unsubscribe/")


def test_a_digests_list_unsubscribe_leaves_as_plain_uris(sig, sent):
    others = [SIGFactory(name=f"Imaging group {n}") for n in range(4)]
    di = who("di@nhs.net")
    for group in others:
        MembershipFactory(group=group, person=di)
    for group in (sig, *others):
        notice_preference_set(person=di, group=group, mode="digest")
        queue_notice(notice(di), person=di, group=group)
    with sent():
        digest()
    [message] = mail.outbox
    assert_plain_list_unsubscribe(message)


# --- Always sent, never with List-Unsubscribe -----------------------------------------------


def test_invitations_ignore_preferences_and_carry_no_unsubscribe(sig, sent):
    for address in ("di@nhs.net", "none@nhs.net"):
        notice_preference_set(person=who(address), group=sig,
                              mode="digest" if address.startswith("di") else "none")
    start = timezone.now() + timedelta(days=20)
    with sent():
        services.meeting_schedule(group=sig, scheduled_by=who("chair@nhs.net"),
                                  title="Spring meeting", start=start,
                                  end=start + timedelta(hours=2),
                                  teams_url="https://teams.microsoft.com/l/x")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "chair@nhs.net", "di@nhs.net", "jo@nhs.net", "none@nhs.net"]
    for message in mail.outbox:
        headers = raw_headers(message)
        assert headers["List-Unsubscribe"] is None
        assert headers["List-Unsubscribe-Post"] is None
        assert headers["Auto-Submitted"] == "auto-generated"
    assert not DigestItem.objects.exists()


def test_a_sign_in_code_carries_no_unsubscribe(client, django_capture_on_commit_callbacks):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {"full_name": "Dr New", "email": "new@nhs.net"})
    [message] = mail.outbox
    headers = raw_headers(message)
    assert headers["List-Unsubscribe"] is None
    assert headers["Auto-Submitted"] == "auto-generated"
    cache.clear()


def test_a_decision_on_an_application_is_sent_whatever_the_preference(sig, sent):
    from members import services as member_services

    applicant = PersonFactory(email="applicant@nhs.net")
    membership = MembershipFactory(group=sig, person=applicant,
                                   status=Membership.Status.APPLIED)
    notice_preference_set(person=applicant, group=sig, mode="none")
    with sent():
        member_services.membership_approve(membership=membership,
                                           decided_by=who("chair@nhs.net"))
    [message] = mail.outbox
    assert message.to == ["applicant@nhs.net"]
    assert raw_headers(message)["List-Unsubscribe"] is None


# --- The weekly digest ---------------------------------------------------------------------


def digest(out=None) -> str:
    out = out or StringIO()
    call_command("send_digests", stdout=out)
    return out.getvalue()


def test_the_digest_collects_a_weeks_notices_into_one_message_per_person(sig, sent):
    other = SIGFactory(name="Breast Imaging")
    di, jo = who("di@nhs.net"), who("jo@nhs.net")
    MembershipFactory(group=other, person=di)
    for group in (sig, other):
        notice_preference_set(person=di, group=group, mode="digest")
    notice_preference_set(person=jo, group=sig, mode="digest")
    for day, (group, subject) in enumerate([
            (sig, "Agenda: Spring meeting, Wednesday 3 March 2027"),
            (other, "Minutes published: Breast screening update, 1 March 2027"),
            (sig, "Updated agenda: Spring meeting, Wednesday 3 March 2027")]):
        queue_notice(notice(di, subject), person=di, group=group,
                     url=f"{SITE}/meetings/{day}/")
    queue_notice(notice(jo), person=jo, group=sig)

    with sent():
        out = digest()

    assert out.strip() == "2 digests queued with 4 notices."
    assert sorted(m.to[0] for m in mail.outbox) == ["di@nhs.net", "jo@nhs.net"]
    message = next(m for m in mail.outbox if m.to == ["di@nhs.net"])
    assert message.subject == (
        "Your weekly digest: 3 notices from the West Midlands Imaging Network")
    body = message.body
    # Grouped by group (by name), oldest first within each.
    assert body.index("Breast Imaging") < body.index("Paediatric Imaging")
    assert body.index("- Agenda: Spring meeting") < body.index("- Updated agenda: Spring")
    assert f"{SITE}/meetings/1/" in body
    assert "Here is the agenda for the next meeting." in body
    headers = raw_headers(message)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert "member of Breast Imaging and Paediatric Imaging" in body
    row = OutboxMessage.objects.get(to="di@nhs.net")
    assert row.kind == "digest"
    assert set(DigestItem.objects.filter(person=di).values_list("sent_in", flat=True)) == {
        row.pk}

    mail.outbox = []
    with sent():
        assert digest().strip() == "0 digests queued with 0 notices."
    assert mail.outbox == []
    assert OutboxMessage.objects.filter(kind="digest").count() == 2


def test_notices_after_a_digest_go_in_the_next_one(sig, sent):
    di = who("di@nhs.net")
    notice_preference_set(person=di, group=sig, mode="digest")
    queue_notice(notice(di, "First"), person=di, group=sig)
    with sent():
        digest()
    queue_notice(notice(di, "Second"), person=di, group=sig)
    with sent():
        digest()
    assert len(mail.outbox) == 2
    assert "- First" in mail.outbox[0].body and "- Second" not in mail.outbox[0].body
    assert "- Second" in mail.outbox[1].body and "- First" not in mail.outbox[1].body


def test_the_digest_unsubscribe_link_stops_every_group_in_it(client, sig, sent):
    other = SIGFactory(name="Breast Imaging")
    di = who("di@nhs.net")
    MembershipFactory(group=other, person=di)
    for group in (sig, other):
        notice_preference_set(person=di, group=group, mode="digest")
        queue_notice(notice(di), person=di, group=group)
    with sent():
        digest()
    link = re.search(r"<(https://[^>]+)>", raw_headers(mail.outbox[0])["List-Unsubscribe"])
    response = client.post(link.group(1).removeprefix(SITE),
                           {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert set(NoticePreference.objects.filter(person=di).values_list("mode", flat=True)) == {
        "none"}


# --- The preferences page --------------------------------------------------------------------


def test_the_preferences_page_lists_each_group_and_saves_choices(client, sig):
    jo = who("jo@nhs.net")
    other = SIGFactory(name="Breast Imaging")
    MembershipFactory(group=other, person=jo)
    MembershipFactory(group=SIGFactory(name="Left Group"), person=jo,
                      status=Membership.Status.LEFT)
    client.force_login(jo)
    url = reverse("members:notice_preferences")
    page = client.get(url).content.decode()
    assert "Breast Imaging" in page and "Paediatric Imaging" in page
    assert "Left Group" not in page
    assert page.count('value="immediate" checked') == 2  # the default

    response = client.post(url, {f"group_{sig.pk}": "digest", f"group_{other.pk}": "none"},
                           follow=True)
    assert "Your choices are saved." in response.content.decode()
    assert dict(NoticePreference.objects.filter(person=jo).values_list("group__name", "mode")) == {
        "Paediatric Imaging": "digest", "Breast Imaging": "none"}


def test_a_bad_choice_shows_an_error_and_saves_nothing(client, sig):
    jo = who("jo@nhs.net")
    client.force_login(jo)
    response = client.post(reverse("members:notice_preferences"), {f"group_{sig.pk}": "hourly"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "There is a problem" in text
    assert "Choose how you want notices from Paediatric Imaging" in text
    assert not NoticePreference.objects.exists()


def test_the_preferences_page_needs_sign_in(client):
    response = client.get(reverse("members:notice_preferences"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_my_groups_links_the_preferences_page(client, sig):
    client.force_login(who("jo@nhs.net"))
    page = client.get(reverse("members:my_memberships")).content.decode()
    assert f'href="{reverse("members:notice_preferences")}"' in page
