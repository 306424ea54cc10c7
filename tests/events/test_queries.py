"""The SIG page, the chair's page, the meeting page and the personal feed make the
same number of queries whatever the amount of data (no N+1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events import services
from events.models import Invitation
from members.models import Membership
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    TaskAndFinishFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_q%40thread.v2/0"


def grow(sig, chair, *, size: int) -> None:
    """Add ``size`` members (each in a new trust), applicants, meetings and groups."""
    for n in range(size):
        MembershipFactory(group=sig, person=PersonFactory(trust=TrustFactory()))
        MembershipFactory(group=sig, status=Membership.Status.APPLIED)
        start = datetime(2027, 2, 1, 10, tzinfo=UTC) + timedelta(days=n)
        meeting = services.meeting_schedule(group=sig, scheduled_by=chair, title=f"M{n}",
                                            start=start, end=start + timedelta(hours=1),
                                            teams_url=TEAMS, venue=f"Room {n}")
        if n % 2:
            services.meeting_cancel(meeting=meeting, cancelled_by=chair)
        TaskAndFinishFactory(parent=sig)


@pytest.mark.parametrize("viewer", ["anonymous", "member", "chair"])
def test_sig_page_query_count_does_not_grow(client, sig, chair, viewer,
                                            django_assert_num_queries):
    member = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person
    if viewer != "anonymous":
        client.force_login(chair if viewer == "chair" else member)
    url = reverse("events:group_detail", kwargs={"slug": sig.slug})
    grow(sig, chair, size=2)
    client.get(url)  # warm up (session, content types)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(sig, chair, size=8)
    assert len(small.captured_queries) <= 12, [q["sql"] for q in small.captured_queries]
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["upcoming"]) == 5  # the scheduled ones of 10


def test_personal_feed_query_count_does_not_grow(client, sig, chair,
                                                 django_assert_num_queries):
    member = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person
    url = reverse("events:personal_feed", kwargs={"token": member.calendar_token})
    grow(sig, chair, size=2)
    # The person by token; their groups and the meetings' count and latest change
    # (the ETag, events.feeds); the meetings with their group (not on a 304).
    with django_assert_num_queries(4):
        response = client.get(url)
    assert response.content.count(b"BEGIN:VEVENT") == 2
    grow(sig, chair, size=8)
    with django_assert_num_queries(4):
        response = client.get(url)
    assert response.content.count(b"BEGIN:VEVENT") == 10


def test_group_feed_query_count_does_not_grow(client, sig, chair, django_assert_num_queries):
    url = reverse("events:group_feed", kwargs={"slug": sig.slug})
    grow(sig, chair, size=2)
    with django_assert_num_queries(3):  # the group; the ETag's aggregate; the meetings
        client.get(url)
    grow(sig, chair, size=8)
    with django_assert_num_queries(3):
        client.get(url)


@pytest.mark.parametrize("page", ["chair", "meeting"])
def test_chair_and_meeting_pages_query_count_does_not_grow(client, sig, chair, page,
                                                           django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(chair)
    grow(sig, chair, size=2)
    meeting = sig.meetings.filter(status="scheduled").first()
    url = (reverse("events:chair_dashboard", kwargs={"slug": sig.slug}) if page == "chair"
           else meeting.get_absolute_url())
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(sig, chair, size=8)
    for membership in sig.memberships.filter(status="active"):  # more people to list
        Invitation.objects.get_or_create(meeting=meeting, person=membership.person)
    assert meeting.invitations.count() == 14
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
