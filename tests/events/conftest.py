"""Fixtures and helpers for the meetings tests: a settable clock, a SIG with members,
and parsers for the invitation emails and their calendar parts."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import vobject
from django.utils import timezone
from icalendar import Calendar

from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

# Every test runs at this instant unless it moves the clock: before both 2027
# clock changes, so meetings on 28 March and 31 October 2027 are in the future.
START_OF_TESTS = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


class Clock:
    """``django.utils.timezone.now`` under the test's control."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    fake = Clock(START_OF_TESTS)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def sig(db):
    """A SIG with one chair and three members (one of them with a comma in their name)."""
    group = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    MembershipFactory(
        group=group, role=Membership.Role.CHAIR,
        person=PersonFactory(full_name="Dr Chair Person", email="chair@nhs.net"),
    )
    MembershipFactory(group=group, person=PersonFactory(full_name='Smith, Jo "JJ"',
                                                        email="jo.smith@nhs.net"))
    MembershipFactory(group=group, person=PersonFactory(full_name="Amira Khan",
                                                        email="amira.khan3@nhs.net"))
    MembershipFactory(group=group, person=PersonFactory(full_name="Ben Ode",
                                                        email="ben.ode@uhb.nhs.uk"))
    return group


@pytest.fixture
def chair(sig):
    return sig.memberships.get(role=Membership.Role.CHAIR).person


def parsed(message) -> email.message.EmailMessage:
    """A sent Django message parsed back with the email package, as a mail client would."""
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def calendar_part(message) -> email.message.EmailMessage:
    """The one text/calendar part inside multipart/alternative (rule I2)."""
    root = parsed(message)
    parts = [part for part in root.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in root.walk()]
    return parts[0]


def calendar_text(message) -> str:
    """The calendar part's text with CRLF line ends, as SMTP delivers a 7bit part.

    (The email package hands text back with ``\n``; the object itself is
    checked for CRLF through the byte-exact base64 ``invite.ics``.)
    """
    text = calendar_part(message).get_content()
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def read_calendar(text: str | bytes) -> tuple[Calendar, object]:
    """Parse with icalendar (no component errors) and with vobject (validate=True).

    Returns ``(icalendar Calendar, vobject component)``; vobject resolves
    times through our VTIMEZONE, so it shows the instant clients will see.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    cal = Calendar.from_ical(text)
    for component in cal.walk():
        assert component.errors == [], (component.name, component.errors)
    vcal = vobject.readOne(text, validate=True)
    return cal, vcal


def the_event(cal: Calendar):
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def messages_to(outbox, address: str) -> list:
    return [m for m in outbox if m.to == [address]]
