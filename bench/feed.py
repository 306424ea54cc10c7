"""Part 2: a personal feed of 1,000 meetings, against icalendar alone.

``python -m bench.feed [--meetings N] [--repeat R]`` adds a group with N
meetings in the feed's window and a member to a demo database, then times
(medians, ms):

* ``view_ms``: GET of the member's feed through SIG Hub's view (test client,
  the whole middleware stack), the feeds and pages caches emptied first:
  the person, their groups, the ETag's aggregate, the meetings and the render;
* ``floor_ms``: the same N events serialised by ``icalendar`` alone from
  plain data already in memory (the same properties and text, no database);
* ``cached_ms``: the same GET when the head (``members.pagecache``) and the
  body are cached: one query, the content version;
* ``not_modified_ms``: the same GET with a matching If-None-Match (304), as a
  calendar app polling an unchanged feed sends it.

The group, its meetings and the member are deleted afterwards.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, timedelta

from bench.common import median_ms


def _setup(count: int):
    from django.utils import timezone

    from events.demo import DEMO_DOMAIN, DEMO_SLUG_PREFIX, DEMO_UID_SUFFIX
    from events.models import Meeting
    from members.models import Group, Membership, Person

    rng = random.Random(7)
    Group.objects.filter(slug=f"{DEMO_SLUG_PREFIX}bench-feed").delete()
    Person.objects.filter(email=f"bench.feed@{DEMO_DOMAIN}").delete()
    group = Group.objects.create(kind=Group.Kind.SIG, slug=f"{DEMO_SLUG_PREFIX}bench-feed",
                                 name="Benchmark Imaging")
    person = Person.objects.create(email=f"bench.feed@{DEMO_DOMAIN}", full_name="Bench Feed")
    Membership.objects.create(person=person, group=group, status=Membership.Status.ACTIVE)
    now = timezone.now()
    first = now - timedelta(days=300)
    step = timedelta(days=700) / count
    meetings = []
    for n in range(count):
        start = (first + step * n).replace(second=0, microsecond=0)
        meetings.append(Meeting(
            group=group, title=f"Benchmark meeting {n}", start=start,
            end=start + timedelta(hours=1, minutes=30),
            teams_url=f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_b{n}%40thread.v2/0",
            venue="Seminar room 2, Russells Hall Hospital, Dudley" if n % 3 else "",
            dial_in="0800 123 456", description="Quarterly review of protocols and audits.",
            uid=f"{uuid.UUID(int=rng.getrandbits(128), version=4)}{DEMO_UID_SUFFIX}",
            sequence=n % 4, created_at=start - timedelta(days=30),
            updated_at=start - timedelta(days=30 - n % 5)))
    Meeting.objects.bulk_create(meetings, batch_size=500)
    return group, person


def _plain_data(group) -> list[dict]:
    """The feed's events as plain values (what a floor implementation starts from)."""
    from events.ical import ical_datetime, meeting_description, meeting_location, meeting_url
    from events.models import Meeting

    rows = []
    for meeting in Meeting.objects.filter(group=group).select_related("group").order_by("start"):
        rows.append({
            "uid": meeting.uid, "start": ical_datetime(meeting.start),
            "end": ical_datetime(meeting.end), "summary": meeting.title,
            "sequence": meeting.sequence, "status": "CONFIRMED",
            "updated": meeting.updated_at.astimezone(UTC),
            "location": meeting_location(meeting), "description": meeting_description(meeting),
            "url": meeting_url(meeting),
        })
    return rows


def floor_calendar(rows: list[dict]) -> bytes:
    """The floor: ``icalendar`` alone, from plain dicts, with the same properties as our feed."""
    from icalendar import Calendar, Event, vDuration

    from events.ical import london_vtimezone

    cal = Calendar()
    cal.add("prodid", "-//floor//EN")
    cal.add("version", "2.0")
    cal.add("name", "Feed")
    cal.add("x-wr-calname", "Feed")
    cal.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    cal.add_component(london_vtimezone())
    for row in rows:
        event = Event()
        event.add("uid", row["uid"])
        event.add("dtstamp", row["updated"])
        event.add("dtstart", row["start"])
        event.add("dtend", row["end"])
        event.add("summary", row["summary"])
        event.add("sequence", row["sequence"])
        event.add("status", row["status"])
        event.add("last-modified", row["updated"])
        if row["location"]:
            event.add("location", row["location"])
        event.add("description", row["description"])
        event.add("url", row["url"])
        cal.add_component(event)
    return cal.to_ical()


def compute(argv: list[str]) -> dict:
    """Timings of :mod:`bench.feed` (ms), the feed's size, and the floor's size."""
    import argparse

    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    setup_test_environment()
    group, person = _setup(args.meetings)
    try:
        url = reverse("events:personal_feed", kwargs={"token": person.calendar_token})
        client = Client()
        feeds_cache, pages_cache = caches["feeds"], caches["pages"]

        def full():
            feeds_cache.clear()
            pages_cache.clear()
            response = client.get(url)
            assert response.status_code == 200
            return response

        response = full()
        events = response.content.count(b"BEGIN:VEVENT")
        etag = response["ETag"]
        view_ms = median_ms(full, repeat=args.repeat)
        client.get(url)  # fill the cache
        cached_ms = median_ms(lambda: client.get(url), repeat=args.repeat * 3)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers={"if-none-match": etag}).status_code == 304
        # Counted now: the next request's request_started signal empties the log.
        not_modified_queries = len(queries.captured_queries)
        not_modified_ms = median_ms(
            lambda: client.get(url, headers={"if-none-match": etag}), repeat=args.repeat * 3)
        rows = _plain_data(group)
        floor_body = floor_calendar(rows)
        floor_ms = median_ms(lambda: floor_calendar(rows), repeat=args.repeat)
        return {"meetings": args.meetings, "events": events, "view_ms": view_ms,
                "floor_ms": floor_ms, "cached_ms": cached_ms, "not_modified_ms": not_modified_ms,
                "not_modified_queries": not_modified_queries,
                "view_bytes": len(response.content), "floor_bytes": len(floor_body),
                "database": connection.vendor}
    finally:
        group.delete()
        person.delete()


if __name__ == "__main__":
    from bench.common import part_main

    part_main(compute)
