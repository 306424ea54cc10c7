"""Shared set-up for the minutes and attendance tests (no tests of its own; named test_* to
sit with them): a meeting of the ``sig`` fixture with invitations, answers and an agenda,
made with factories (no invitation emails)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from events.models import AgendaItem, Invitation
from members.models import Membership
from tests.factories import AgendaItemFactory, InvitationFactory, MeetingFactory

# The test clock starts at 2027-01-11 09:00 UTC (tests/events/conftest.py).
MEETING_START = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
AFTER_MEETING = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
NEXT_START = datetime(2027, 2, 9, 10, 0, tzinfo=UTC)
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_minutes%40thread.v2/0"


def person(sig, email: str):
    return Membership.objects.get(group=sig, person__email=email).person


def make_meeting(sig, *, start=MEETING_START, title="Spring meeting", venue="Room 1",
                 teams_url=TEAMS, answers: dict | None = None, agenda: bool = True):
    """A meeting of ``sig`` with every active member invited, ``answers`` (email ->
    response) applied and, with ``agenda``, three agenda items."""
    meeting = MeetingFactory(group=sig, title=title, start=start,
                             end=start + timedelta(hours=1), venue=venue, teams_url=teams_url)
    for membership in sig.memberships.filter(status=Membership.Status.ACTIVE):
        response = (answers or {}).get(membership.person.email,
                                       Invitation.Response.NEEDS_ACTION)
        InvitationFactory(meeting=meeting, person=membership.person, response=response)
    if agenda:
        AgendaItemFactory(meeting=meeting, kind=AgendaItem.Kind.WELCOME, position=0,
                          title="Welcome and apologies")
        AgendaItemFactory(meeting=meeting, kind=AgendaItem.Kind.LAST_MINUTES, position=1,
                          title="Minutes of the last meeting")
        AgendaItemFactory(meeting=meeting, position=2, title="MRI protocols")
    return meeting


STANDARD_ANSWERS = {
    "chair@nhs.net": Invitation.Response.IN_PERSON,
    "jo.smith@nhs.net": Invitation.Response.ONLINE,
    "amira.khan3@nhs.net": Invitation.Response.APOLOGIES,
    "ben.ode@uhb.nhs.uk": Invitation.Response.NEEDS_ACTION,
}


def items(meeting) -> list[AgendaItem]:
    return list(meeting.agenda_items.order_by("position"))


def entries(meeting, *texts: str) -> list[dict]:
    """Minutes entries for the meeting's agenda items, in order."""
    return [{"item": item.pk, "text": text} for item, text in zip(items(meeting), texts,
                                                                   strict=False)]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())
