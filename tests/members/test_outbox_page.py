"""The network office's outbox page: filters, errors, send again, permissions, query count."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import make_msgid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.mail import OutgoingEmail
from members.mail.models import OutboxMessage, Suppression
from tests.factories import PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

URL = reverse("members:outbox")


def row(to: str, *, status="sent", kind="notice", group=None, subject="Agenda",
        error="", minutes_ago=0) -> OutboxMessage:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return OutboxMessage.objects.create(
        kind=kind, to=to, subject=subject, group=group, status=status, last_error=error,
        message=OutgoingEmail(to=to, subject=subject, text="Hello").as_json(),
        message_id=make_msgid(domain="nhs.net"), created_at=at, updated_at=at,
        sent_at=at if status == "sent" else None, attempts=1)


@pytest.fixture
def office(client):
    client.force_login(PersonFactory(is_staff=True))
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def recipients(response) -> list[str]:
    return re.findall(r'<span class="sighub-address">([^<]+)</span>',
                      response.content.decode())


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (URL, reverse("members:suppressions")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_people_who_are_not_the_network_office_get_403(client):
    failed = row("x@nhs.net", status="failed")
    client.force_login(PersonFactory())
    assert client.get(URL).status_code == 403
    assert client.post(reverse("members:outbox_send_again", kwargs={"pk": failed.pk})
                       ).status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_the_page_lists_messages_newest_first_with_each_failures_error(office):
    sig = SIGFactory(name="Paediatric Imaging")
    row("old@nhs.net", minutes_ago=30)
    row("failed@nhs.net", status="failed", kind="invitation", group=sig,
        error="550 5.1.1 <failed@nhs.net>: Recipient address rejected", minutes_ago=10)
    row("new@nhs.net", status="queued", minutes_ago=1)
    response = office.get(URL)
    assert response.status_code == 200
    assert recipients(response) == ["new@nhs.net", "failed@nhs.net", "old@nhs.net"]
    text = text_of(response)
    assert "Error: 550 5.1.1 &lt;failed@nhs.net&gt;: Recipient address rejected" in text
    assert "Meeting invitation, update or cancellation" in text and "Paediatric Imaging" in text
    assert text.count("Send again") == 1  # only the failed one


@pytest.mark.parametrize("query, expected", [
    ({"status": "failed"}, ["b@trust.nhs.uk"]),
    ({"kind": "invitation"}, ["b@trust.nhs.uk", "a@nhs.net"]),
    ({"to": "TRUST.nhs"}, ["b@trust.nhs.uk"]),
    ({"status": "sent", "kind": "invitation"}, ["a@nhs.net"]),
    ({"status": "suppressed"}, []),
])
def test_filters(office, query, expected):
    row("a@nhs.net", kind="invitation", minutes_ago=3)
    row("b@trust.nhs.uk", kind="invitation", status="failed", error="boom", minutes_ago=2)
    row("c@nhs.net", kind="notice", minutes_ago=1)
    response = office.get(URL, query)
    assert recipients(response) == expected
    if not expected:
        assert "No messages match the filters." in text_of(response)


def test_the_group_filter(office):
    sig, other = SIGFactory(name="Paediatric Imaging"), SIGFactory(name="Breast Imaging")
    row("a@nhs.net", group=sig)
    row("b@nhs.net", group=other)
    assert recipients(office.get(URL, {"group": sig.pk})) == ["a@nhs.net"]


@pytest.mark.parametrize("query, message", [
    ({"status": "exploded"}, "Choose a status from the list"),
    ({"kind": "spam"}, "Choose a kind from the list"),
    ({"group": "999999"}, "Choose a group from the list"),
    ({"group": "not-a-number"}, "Choose a group from the list"),
])
def test_a_bad_filter_shows_an_error_not_a_500(office, query, message):
    row("a@nhs.net")
    response = office.get(URL, query)
    assert response.status_code == 200
    text = text_of(response)
    assert "There is a problem" in text and message in text
    assert recipients(response) == ["a@nhs.net"]  # no other filter given
    assert "matching the filters" not in text  # nothing was filtered


@pytest.mark.parametrize("bad, message", [
    ({"status": "exploded"}, "Choose a status from the list"),
    ({"group": "999999"}, "Choose a group from the list"),
    ({"to": "jo\x00"}, "Recipient must not contain a null character"),
])
def test_a_bad_filter_keeps_the_other_filters(office, bad, message):
    """The newcomer saw a bad value silently drop every filter, under a caption still
    saying "matching the filters": the bad one is shown as its error and not
    applied, the others still are."""
    row("a@nhs.net", kind="invitation", minutes_ago=3)
    row("b@nhs.net", kind="notice", minutes_ago=2)
    row("c@nhs.net", kind="invitation", minutes_ago=1)
    response = office.get(URL, {"kind": "invitation", **bad})
    text = text_of(response)
    assert message in text
    assert f'<a href="#id_{next(iter(bad))}">{message}</a>' in text  # names its field
    assert recipients(response) == ["c@nhs.net", "a@nhs.net"]
    assert "2 messages matching the filters (a filter with an error is not applied)" in text


def test_pages_of_fifty(office):
    for n in range(55):
        row(f"p{n:02d}@nhs.net", minutes_ago=n)
    first = office.get(URL, {"kind": "notice"})
    assert len(recipients(first)) == 50
    assert "kind=notice&amp;page=2" in first.content.decode()
    second = office.get(URL, {"kind": "notice", "page": 2})
    assert recipients(second) == ["p50@nhs.net", "p51@nhs.net", "p52@nhs.net", "p53@nhs.net",
                                  "p54@nhs.net"]
    assert office.get(URL, {"page": "lots"}).status_code == 200


def test_send_again_queues_a_failed_message_and_it_is_sent(
        office, django_capture_on_commit_callbacks):
    failed = row("back@nhs.net", status="failed", error="421 try later", subject="Invitation")
    url = reverse("members:outbox_send_again", kwargs={"pk": failed.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(url, {"return_query": "status=failed&page=1"})
    assert response.status_code == 302
    assert response.url == URL + "?status=failed&page=1"
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m.to for m in mail.outbox] == [["back@nhs.net"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == failed.message_id  # the same message

    page = office.get(response.url)
    assert "queued to be sent again" in text_of(page)


def test_send_again_after_a_suppression_is_lifted(office, django_capture_on_commit_callbacks):
    suppressed = row("mistake@nhs.net", status="suppressed",
                     error="Not sent: mistake@nhs.net is suppressed (hard bounce).")
    suppression = Suppression.objects.create(address="mistake@nhs.net", reason="bounced")
    url = reverse("members:outbox_send_again", kwargs={"pk": suppressed.pk})

    page = text_of(office.get(URL))
    assert "Lift the suppression first" in page and "Send again" not in page
    response = office.post(url, follow=True)
    assert "lift the suppression before sending to it again" in text_of(response)
    suppressed.refresh_from_db()
    assert suppressed.status == "suppressed"

    office.post(reverse("members:suppression_lift", kwargs={"pk": suppression.pk}))
    with django_capture_on_commit_callbacks(execute=True):
        office.post(url)
    suppressed.refresh_from_db()
    assert suppressed.status == "sent"
    assert [m.to for m in mail.outbox] == [["mistake@nhs.net"]]


@pytest.mark.parametrize("status", ["sent", "queued", "retrying"])
def test_only_failed_or_suppressed_messages_can_be_sent_again(office, status):
    message = row("x@nhs.net", status=status)
    response = office.post(reverse("members:outbox_send_again", kwargs={"pk": message.pk}),
                           follow=True)
    assert "Only failed or suppressed messages can be sent again" in text_of(response)
    message.refresh_from_db()
    assert message.status == status
    assert mail.outbox == []


def test_send_again_of_a_missing_message_or_by_get(office):
    url = reverse("members:outbox_send_again", kwargs={"pk": 987654})
    assert "no longer in the outbox" in text_of(office.post(url, follow=True))
    assert office.get(url).status_code == 405


def test_the_return_query_cannot_redirect_elsewhere(office):
    message = row("x@nhs.net", status="sent")
    response = office.post(reverse("members:outbox_send_again", kwargs={"pk": message.pk}),
                           {"return_query": "//evil.example.com/?a=b"})
    assert response.url.startswith(URL + "?")
    assert "//" not in response.url


def test_the_office_page_links_the_outbox(office):
    page = office.get(reverse("members:network_office")).content.decode()
    assert f'href="{URL}"' in page


def _queries(client, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        assert client.get(URL, {"kind": "notice"}).status_code == 200


def test_the_page_makes_the_same_number_of_queries_at_any_size(
        office, django_assert_num_queries):
    """Session, user, group choices, count, one page of rows (with groups and
    suppressions) and the count of failed messages: six queries at any size."""
    groups = [SIGFactory() for _ in range(3)]
    for n in range(3):
        row(f"s{n}@nhs.net", group=groups[n % 3], status="failed", error="x")
    _queries(office, django_assert_num_queries, 6)
    for n in range(40):
        row(f"l{n}@nhs.net", group=groups[n % 3], status="failed", error="x")
        Suppression.objects.create(address=f"l{n}@nhs.net", reason="bounced")
    _queries(office, django_assert_num_queries, 6)
