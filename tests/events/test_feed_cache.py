"""Feed ETags computed before rendering, 304 without rendering, and the feeds cache.

A feed's ETag comes from what it is made of (``events.feeds.feed_etag``), so
it must change with every change the feed shows, and a cached body (keyed on
it) must never be served after such a change.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from events import ical, services
from members.models import Membership
from members.services import membership_leave
from tests.events.conftest import read_calendar
from tests.events.conftest import schedule_meeting as schedule
from tests.factories import MembershipFactory, SIGFactory

pytestmark = pytest.mark.django_db



@pytest.fixture(autouse=True)
def feeds_cache(settings):
    """Turn the feeds cache on (tests have none), empty, for each test here."""
    from django.core.cache import caches

    settings.CACHES = {
        **settings.CACHES,
        "feeds": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "test-feeds"},
    }
    caches["feeds"].clear()
    yield caches["feeds"]
    caches["feeds"].clear()


@pytest.fixture
def render_count(monkeypatch):
    """How many times ``feed_calendar`` has rendered a feed in this test."""
    calls = []
    real = ical.feed_calendar

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ical, "feed_calendar", counting)
    return calls


def personal_url(person) -> str:
    return reverse("events:personal_feed", kwargs={"token": person.calendar_token})


def titles(response) -> list[str]:
    cal, _ = read_calendar(response.content)
    return [str(event["SUMMARY"]) for event in cal.walk("VEVENT")]


def test_editing_a_meeting_changes_the_next_response_and_its_etag(client, sig, chair, member,
                                                                  render_count):
    meeting = schedule(sig, chair)
    url = personal_url(member)
    first = client.get(url)
    assert titles(first) == ["Spring meeting"]
    assert client.get(url)["ETag"] == first["ETag"]  # the cached body, same ETag
    assert len(render_count) == 1

    # Same frozen clock: SEQUENCE still tells the edit apart.
    services.meeting_update(meeting=meeting, updated_by=chair, title="Spring meeting (moved)")
    edited = client.get(url, headers={"if-none-match": first["ETag"]})
    assert edited.status_code == 200
    assert edited["ETag"] != first["ETag"]
    assert titles(edited) == ["Spring meeting (moved)"]

    services.meeting_cancel(meeting=meeting, cancelled_by=chair)
    cancelled = client.get(url, headers={"if-none-match": edited["ETag"]})
    assert cancelled.status_code == 200 and cancelled["ETag"] != edited["ETag"]
    assert b"STATUS:CANCELLED" in cancelled.content


def test_group_feed_edit_shows_on_the_next_request(client, sig, chair, clock):
    meeting = schedule(sig, chair)
    url = reverse("events:group_feed", kwargs={"slug": sig.slug})
    before = client.get(url)
    clock.advance(minutes=1)
    services.meeting_update(meeting=meeting, updated_by=chair, title="Renamed")
    after = client.get(url)
    assert after["ETag"] != before["ETag"] and titles(after) == ["Renamed"]
    assert after["Last-Modified"] != before["Last-Modified"]


def test_matching_if_none_match_is_a_304_without_rendering(client, sig, chair, member,
                                                           render_count,
                                                           django_assert_num_queries):
    for n in range(3):
        schedule(sig, chair, title=f"Meeting {n}", day=date(2027, 3, 9 + n))
    url = personal_url(member)
    etag = client.get(url)["ETag"]
    assert len(render_count) == 1
    # The person by token, their groups, the meetings' aggregate: no meeting fetched.
    with django_assert_num_queries(3):
        response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag and "Last-Modified" in response
    assert len(render_count) == 1
    for n in range(3, 12):  # more meetings: the 304 costs the same
        schedule(sig, chair, title=f"Meeting {n}", day=date(2027, 3, 9 + n))
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(3):
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_group_feed_304_is_two_queries(client, sig, chair, django_assert_num_queries):
    schedule(sig, chair)
    url = reverse("events:group_feed", kwargs={"slug": sig.slug})
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(2):  # the group; the meetings' aggregate
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_joining_and_leaving_a_group_change_the_etag(client, sig, chair, member):
    schedule(sig, chair)
    url = personal_url(member)
    alone = client.get(url)["ETag"]
    # Joining a group with no meetings yet: the feed's groups changed, so does its ETag.
    other = SIGFactory(name="Musculoskeletal Imaging")
    membership = MembershipFactory(group=other, person=member)
    joined = client.get(url)
    assert joined["ETag"] != alone
    other_chair = MembershipFactory(group=other, role=Membership.Role.CHAIR).person
    schedule(other, other_chair, title="MSK meeting", day=date(2027, 3, 2))
    with_msk = client.get(url, headers={"if-none-match": joined["ETag"]})
    assert with_msk.status_code == 200
    assert titles(with_msk) == ["MSK meeting", "Spring meeting"]

    membership_leave(membership=membership, ended_by=member)
    left = client.get(url, headers={"if-none-match": with_msk["ETag"]})
    assert left.status_code == 200
    assert titles(left) == ["Spring meeting"]


def test_people_with_the_same_groups_share_one_cached_body(client, sig, chair, member,
                                                           render_count):
    schedule(sig, chair)
    other = Membership.objects.get(group=sig, person__email="amira.khan3@nhs.net").person
    first, second = client.get(personal_url(member)), client.get(personal_url(other))
    assert first.content == second.content and first["ETag"] == second["ETag"]
    assert len(render_count) == 1


def test_a_renamed_group_changes_the_etag(client, sig, chair, member):
    schedule(sig, chair)
    url = personal_url(member)
    before = client.get(url)
    sig.name = "Children's Imaging"
    sig.save(update_fields=["name"])
    after = client.get(url)
    assert after["ETag"] != before["ETag"]
    assert b"Children's Imaging SIG meeting." in after.content.replace(b"\r\n ", b"")
