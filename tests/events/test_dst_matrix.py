"""Daylight-saving matrix: meetings around the UK clock changes give the right instant
in every parser.

For 2026, 2027 and 2028: the last Sunday of March and of October and the days
either side, at 00:30, 01:30, 10:00 and 23:30 London time (72 cells). Each cell's
intended instant comes from zoneinfo. A meeting scheduled through
``events.services.meeting_schedule`` at that instant must be read back at exactly
that UTC instant (start and end) by icalendar, vobject, Mozilla's ical.js and
libical, in its invitation, the person's private feed and the group's public feed -
once as written
(``TZID=Europe/London``) and once with the TZID renamed, so icalendar and vobject
too must resolve it through our VTIMEZONE rather than tzdata.

01:30 on the March Sundays does not exist: the meeting form refuses it. 01:30 on the
October Sundays happens twice: the form refuses it, but a meeting stored at either
instant (BST, 00:30Z; GMT, 01:30Z) is written in UTC (rule T1), as RFC 5545 reads a
repeated local time as the first and ical.js and libical as the second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from events import services
from events.forms import MeetingForm
from events.ical import LONDON, london_time_is_ambiguous
from events.timeutil import london_to_utc
from members.models import Membership
from tests.events.conftest import calendar_text, four_parser_instants, icaljs_parse_many
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

YEARS = (2026, 2027, 2028)
TIMES = (time(0, 30), time(1, 30), time(10, 0), time(23, 30))
LENGTH = timedelta(hours=1)
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_dst%40thread.v2/0"
# A TZID no tzdata knows: a parser can only resolve it through our VTIMEZONE.
OWN_TZID = "SIG Hub London"


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of ``month`` (the UK clocks change on it in March and October)."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


DAYS = [last_sunday(year, month) + timedelta(days=offset)
        for year in YEARS for month in (3, 10) for offset in (-1, 0, 1)]
CELLS = [(day, at) for day in DAYS for at in TIMES]


def kind(day: date, at: time) -> str:
    """``"nonexistent"`` (the March gap), ``"ambiguous"`` (the October repeat) or ``"normal"``."""
    local = datetime.combine(day, at, tzinfo=LONDON)
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local.replace(
            tzinfo=None):
        return "nonexistent"
    if local.replace(fold=1).utcoffset() != local.replace(fold=0).utcoffset():
        return "ambiguous"
    return "normal"


def test_the_matrix_covers_every_clock_change_cell():
    assert [last_sunday(y, m) for y in YEARS for m in (3, 10)] == [
        date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31),
        date(2028, 3, 26), date(2028, 10, 29)]
    kinds = [kind(day, at) for day, at in CELLS]
    assert len(CELLS) == 72
    assert kinds.count("nonexistent") == kinds.count("ambiguous") == 3
    assert kinds.count("normal") == 66
    assert {(d, a) for d, a in CELLS if kind(d, a) != "normal"} == {
        (last_sunday(y, m), time(1, 30)) for y in YEARS for m in (3, 10)}


def new_person(n: int = 1):
    """The one member (and chair) of a SIG of their own."""
    group = SIGFactory(name=f"Clock Change Imaging {n}", slug=f"clock-change-imaging-{n}")
    return MembershipFactory(
        group=group, role=Membership.Role.CHAIR,
        person=PersonFactory(full_name="Chris Evans", email=f"chris.evans{n}@nhs.net"),
    ).person


def schedule_at(person, start: datetime, clock, captured) -> None:
    """Schedule a one-hour meeting at ``start`` (UTC) with the clock 30 days before it."""
    clock.now = start - timedelta(days=30)
    group = person.memberships.get().group
    with captured(execute=True):
        services.meeting_schedule(group=group, scheduled_by=person, title="Clock change",
                                  start=start, end=start + LENGTH, teams_url=TEAMS)


def assert_every_parser_reads(start: datetime, person, client) -> None:
    """The invitation, the private feed and the group's feed give ``start`` and
    ``start + LENGTH`` in all four parsers, with the TZID as written and with it renamed
    to one only our VTIMEZONE defines."""
    [message] = [m for m in mail.outbox if m.to == [person.email]]
    invitation = calendar_text(message)
    feeds = {
        "private feed": reverse("events:personal_feed", kwargs={"token": person.calendar_token}),
        "group feed": reverse("events:group_feed",
                              kwargs={"slug": person.memberships.get().group.slug}),
    }
    texts = {"invitation": invitation}
    texts.update((name, client.get(url).content.decode("utf-8")) for name, url in feeds.items())
    texts.update({f"{name} (own TZID)": text.replace("Europe/London", OWN_TZID)
                  for name, text in list(texts.items())})
    seen_by_icaljs = dict(zip(texts, icaljs_parse_many(list(texts.values())), strict=True))
    expected = [(start, start + LENGTH)]
    for where, text in texts.items():
        instants = four_parser_instants(text, seen_by_icaljs[where])
        wrong = {parser: found for parser, found in instants.items() if found != expected}
        assert wrong == {}, f"{where}: expected {expected}, got {wrong}"

    # How each time is written: London wall time, or UTC in the repeated hour (T1, T2).
    for name, moment in (("DTSTART", start), ("DTEND", start + LENGTH)):
        if london_time_is_ambiguous(moment):
            line = f"{name}:{moment:%Y%m%dT%H%M%S}Z"
        else:
            line = f"{name};TZID=Europe/London:{moment.astimezone(LONDON):%Y%m%dT%H%M%S}"
        for where in ("invitation", *feeds):
            assert f"\r\n{line}\r\n" in texts[where].replace("\r\n ", ""), where


def form_errors(day: date, at: time) -> list[str]:
    end = (datetime.combine(day, at) + timedelta(hours=2)).time()
    form = MeetingForm(data={
        "title": "Clock change", "date_day": str(day.day), "date_month": str(day.month),
        "date_year": str(day.year), "start_time": at.strftime("%H:%M"),
        "end_time": end.strftime("%H:%M"), "teams_url": TEAMS,
    })
    form.is_valid()
    return form.errors.get("start_time", [])


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "at"), CELLS,
                         ids=[f"{d:%Y-%m-%d}-{a:%H%M}-{kind(d, a)}" for d, a in CELLS])
def test_meeting_at_london_time_gives_the_right_utc_instant_everywhere(
        day, at, client, clock, django_capture_on_commit_callbacks):
    local = datetime.combine(day, at, tzinfo=LONDON)
    when = f"{at.hour % 12 or 12}:{at.minute:02d}am on Sunday {day.day} {day:%B %Y}"
    match kind(day, at):
        case "nonexistent":
            message = f"{when} does not exist in the UK (the clocks go forward an hour)"
            with pytest.raises(ValidationError, match=r"does not exist in the UK") as error:
                london_to_utc(day, at)
            assert error.value.code == "nonexistent_time"
            assert any(e.startswith(message) for e in form_errors(day, at)), form_errors(day, at)
        case "ambiguous":
            message = f"{when} happens twice in the UK (the clocks go back an hour at 2am)"
            with pytest.raises(ValidationError, match=r"happens twice in the UK") as error:
                london_to_utc(day, at)
            assert error.value.code == "ambiguous_time"
            assert any(e.startswith(message) for e in form_errors(day, at)), form_errors(day, at)
            # A meeting stored at either instant is still written so every parser gets it.
            first, second = (local.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
            assert (first.hour, first.minute, second.hour, second.minute) == (0, 30, 1, 30)
            for n, start in enumerate((first, second), start=1):
                person = new_person(n)
                schedule_at(person, start, clock, django_capture_on_commit_callbacks)
                assert_every_parser_reads(start, person, client)
        case "normal":
            start = local.astimezone(UTC)
            assert london_to_utc(day, at) == start
            assert form_errors(day, at) == []
            person = new_person()
            schedule_at(person, start, clock, django_capture_on_commit_callbacks)
            assert_every_parser_reads(start, person, client)
