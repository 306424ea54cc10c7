"""Calendar feeds: a person's private feed and each SIG's public feed (rules F1-F9).

One test per rule is in ``test_interop_rules.py``; the instants around the clock
changes in ``test_dst_matrix.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from events import services
from events.timeutil import london_to_utc
from members.models import Membership
from tests.events.conftest import calendar_text, messages_to, read_calendar
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_feed%40thread.v2/0"


@pytest.fixture
def meeting(sig, chair):
    return services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting",
        start=london_to_utc(date(2027, 3, 28), time(10)),
        end=london_to_utc(date(2027, 3, 28), time(11, 30)),
        teams_url=TEAMS, venue="Room 1, Russells Hall Hospital", dial_in="0800 123 456",
        description="Agenda: NAI documentation",
    )


def personal_url(person) -> str:
    return reverse("events:personal_feed", kwargs={"token": person.calendar_token})


def group_url(group) -> str:
    return reverse("events:group_feed", kwargs={"slug": group.slug})


def test_personal_feed_properties(client, member, meeting):
    response = client.get(personal_url(member))
    text = response.content.decode()
    cal, vcal = read_calendar(response.content)
    assert "METHOD" not in cal  # F2
    assert str(cal["X-WR-CALNAME"]) == "West Midlands Imaging Network SIG meetings"
    assert str(cal["NAME"]) == "West Midlands Imaging Network SIG meetings"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert "ORGANIZER" not in text and "ATTENDEE" not in text and "RSVP" not in text  # F7
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid  # F4: same as the invitations
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    # A member's feed has the joining details.
    assert TEAMS in str(event["DESCRIPTION"]) and TEAMS in str(event["LOCATION"])
    assert "0800 123 456" in str(event["DESCRIPTION"])
    assert len(cal.walk("VTIMEZONE")) == 1
    assert vcal.vevent.summary.value == "Spring meeting"


def test_public_group_feed_has_titles_and_times_only(client, sig, meeting):
    response = client.get(group_url(sig))
    text = response.content.decode()
    cal, _ = read_calendar(response.content)
    assert str(cal["X-WR-CALNAME"]) == "Paediatric Imaging SIG meetings"
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Spring meeting"
    for secret in ("teams.microsoft.com", "Russells Hall", "0800 123 456", "Agenda",
                   "LOCATION", "DESCRIPTION", "URL:", "ORGANIZER", "ATTENDEE"):
        assert secret not in text
    assert response["Cache-Control"] == "public, no-cache"


def test_personal_feed_lists_only_the_groups_the_person_belongs_to(client, sig, chair,
                                                                  member, meeting):
    other = SIGFactory(name="Musculoskeletal Imaging")
    other_chair = MembershipFactory(group=other, role=Membership.Role.CHAIR).person
    services.meeting_schedule(
        group=other, scheduled_by=other_chair, title="MSK meeting",
        start=datetime(2027, 2, 1, 10, tzinfo=UTC), end=datetime(2027, 2, 1, 11, tzinfo=UTC),
        teams_url=TEAMS)
    applied = SIGFactory(name="Gynaecological Imaging")
    MembershipFactory(group=applied, person=member, status=Membership.Status.APPLIED)
    services.meeting_schedule(
        group=applied, scheduled_by=None, title="Gynae meeting",
        start=datetime(2027, 2, 2, 10, tzinfo=UTC), end=datetime(2027, 2, 2, 11, tzinfo=UTC),
        teams_url=TEAMS)

    cal, _ = read_calendar(client.get(personal_url(member)).content)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Spring meeting"]
    MembershipFactory(group=other, person=member)
    cal, _ = read_calendar(client.get(personal_url(member)).content)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["MSK meeting", "Spring meeting"]


def test_feed_matches_the_invitation(client, sig, chair, member, meeting, clock,
                                     django_capture_on_commit_callbacks):
    clock.advance(minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_update(meeting=meeting, updated_by=chair, venue="Room 2")
    invitation, _ = read_calendar(calendar_text(messages_to(mail.outbox, member.email)[-1]))
    feed, _ = read_calendar(client.get(personal_url(member)).content)
    sent, listed = invitation.walk("VEVENT")[0], feed.walk("VEVENT")[0]
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "STATUS"):
        assert sent[name] == listed[name], name
    assert sent["LAST-MODIFIED"].dt == listed["LAST-MODIFIED"].dt


def test_etag_and_304(client, sig, chair, member, meeting, clock):
    url = personal_url(member)
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first["Last-Modified"] == "Mon, 11 Jan 2027 09:00:00 GMT"
    assert first["Cache-Control"] == "private, no-cache"

    again = client.get(url)
    assert again["ETag"] == etag  # stable: nothing rendered changed
    not_modified = client.get(url, headers={"if-none-match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert client.get(url, headers={"if-none-match": f"W/{etag}"}).status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200

    clock.advance(minutes=5)
    services.meeting_update(meeting=meeting, updated_by=chair, title="Spring meeting (moved)")
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed["Last-Modified"] == "Mon, 11 Jan 2027 09:05:00 GMT"

    # A change to what the feed holds without any meeting changing also changes the ETag.
    new_etag = changed["ETag"]
    MembershipFactory(group=SIGFactory(), person=member)
    other_meeting_group = member.memberships.exclude(group=sig).get().group
    services.meeting_schedule(
        group=other_meeting_group, scheduled_by=None, title="Another",
        start=datetime(2027, 2, 1, 10, tzinfo=UTC), end=datetime(2027, 2, 1, 11, tzinfo=UTC),
        teams_url=TEAMS)
    assert client.get(url, headers={"if-none-match": new_etag}).status_code == 200


def test_group_feed_etag_changes_when_a_meeting_is_edited(client, sig, chair, meeting, clock):
    url = group_url(sig)
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    clock.advance(minutes=1)
    services.meeting_update(meeting=meeting, updated_by=chair,
                            start=meeting.start + timedelta(hours=1),
                            end=meeting.end + timedelta(hours=1))
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


def test_feeds_need_no_session_and_only_allow_get(client, member, meeting, sig):
    response = client.get(personal_url(member))
    assert "Set-Cookie" not in response and "sessionid" not in response.cookies
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert client.post(personal_url(member)).status_code == 405
    assert client.head(group_url(sig)).status_code == 200


def test_empty_feed_is_valid(client):
    person = PersonFactory()
    cal, _ = read_calendar(client.get(personal_url(person)).content)
    assert cal.walk("VEVENT") == []
