"""events.ical as pure functions: meeting in, text out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.ical import (
    Attendee,
    feed_calendar,
    feed_includes,
    invitation_calendar,
    london_vtimezone,
)
from events.models import Meeting
from members.models import Group
from tests.events.conftest import read_calendar

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def a_meeting(**overrides) -> Meeting:
    fields = {
        "pk": 7, "group": Group(name="Paediatric Imaging", kind=Group.Kind.SIG), "title": "T",
        "start": datetime(2027, 6, 1, 9, tzinfo=UTC), "end": datetime(2027, 6, 1, 10, tzinfo=UTC),
        "teams_url": "https://teams.microsoft.com/l/x", "venue": "", "uid": "abc@sighub",
        "sequence": 3, "updated_at": NOW,
    }
    fields.update(overrides)
    return Meeting(**fields)


def test_recipient_must_be_an_attendee_and_method_known():
    people = [Attendee("a@nhs.net", "A")]
    with pytest.raises(ValueError, match="must be one of the attendees"):
        invitation_calendar(a_meeting(), method="REQUEST", attendees=people,
                            recipient="b@nhs.net")
    with pytest.raises(ValueError, match="REQUEST or CANCEL"):
        invitation_calendar(a_meeting(), method="PUBLISH", attendees=people,
                            recipient="a@nhs.net")


def test_invitation_is_deterministic_given_dtstamp():
    people = [Attendee("a@nhs.net", "A"), Attendee("b@nhs.net", "B", "DECLINED")]
    one = invitation_calendar(a_meeting(), method="request", attendees=people,
                              recipient="a@nhs.net", dtstamp=NOW)
    two = invitation_calendar(a_meeting(), method="REQUEST", attendees=people,
                              recipient="a@nhs.net", dtstamp=NOW)
    assert one == two
    assert "METHOD:REQUEST\r\n" in one
    assert "SEQUENCE:3\r\n" in one
    cal, _ = read_calendar(one)
    partstats = {str(a): a.params["PARTSTAT"] for a in cal.walk("VEVENT")[0]["ATTENDEE"]}
    assert partstats == {"mailto:a@nhs.net": "NEEDS-ACTION", "mailto:b@nhs.net": "DECLINED"}


def test_name_without_a_cn_falls_back_to_the_address():
    text = invitation_calendar(a_meeting(), method="CANCEL", attendees=[Attendee("a@nhs.net")],
                               recipient="a@nhs.net", dtstamp=NOW)
    cal, _ = read_calendar(text)
    event = cal.walk("VEVENT")[0]
    assert event["ATTENDEE"].params["CN"] == "a@nhs.net"
    assert str(event["STATUS"]) == "CANCELLED"


def test_vtimezone_serialises_exactly_as_rule_t2():
    text = london_vtimezone().to_ical().decode()
    assert text == (
        "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19701025T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
        "TZNAME:GMT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
        "TZNAME:BST\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
    )


def test_feed_is_deterministic_and_public_one_has_no_details():
    meetings = [a_meeting(description="Secret agenda", dial_in="0800", venue="Room 9")]
    private = feed_calendar(meetings, name="Mine", include_private_details=True, now=NOW)
    assert private == feed_calendar(meetings, name="Mine", include_private_details=True,
                                    now=NOW + timedelta(hours=5))
    assert b"Secret agenda" in private and b"Room 9" in private
    public = feed_calendar(meetings, name="Public", include_private_details=False, now=NOW)
    for secret in (b"Secret agenda", b"0800", b"Room 9", b"teams.microsoft.com", b"URL:"):
        assert secret not in public
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in public
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in public
    assert b"METHOD" not in public
    read_calendar(public)


def test_cancelled_meetings_are_kept_for_30_days():
    cancelled = a_meeting(status=Meeting.Status.CANCELLED, cancelled_at=NOW)
    assert feed_includes(cancelled, now=NOW + timedelta(days=29))
    assert not feed_includes(cancelled, now=NOW + timedelta(days=30, seconds=1))
    assert feed_includes(a_meeting(), now=NOW + timedelta(days=400))


def test_cancel_has_no_joining_details_and_rsvp_false():
    meeting = a_meeting(description="Agenda", venue="Room 9", dial_in="0800 1")
    people = [Attendee("a@nhs.net", "A", "ACCEPTED"), Attendee("b@nhs.net", "B")]
    for removed, why in ((False, "This meeting has been cancelled."),
                         (True, "You are no longer invited because you left the "
                                "Paediatric Imaging SIG.")):
        text = invitation_calendar(meeting, method="CANCEL", attendees=people,
                                   recipient="a@nhs.net", dtstamp=NOW, removed=removed)
        cal, _ = read_calendar(text)
        event = cal.walk("VEVENT")[0]
        assert str(event["DESCRIPTION"]) == f"Paediatric Imaging SIG meeting.\n\n{why}"
        for absent in ("LOCATION", "URL"):
            assert absent not in event
        for secret in ("teams.microsoft.com", "Room 9", "0800 1", "Agenda", "Answer"):
            assert secret not in text
        assert [a.params["RSVP"] for a in event["ATTENDEE"]] == ["FALSE", "FALSE"]
        assert [a.params["PARTSTAT"] for a in event["ATTENDEE"]] == ["ACCEPTED", "NEEDS-ACTION"]
        assert str(event["STATUS"]) == "CANCELLED" and "ORGANIZER" in event


def test_a_cancelled_meeting_in_the_private_feed_has_no_joining_details():
    cancelled = a_meeting(status=Meeting.Status.CANCELLED, cancelled_at=NOW, venue="Room 9")
    text = feed_calendar([cancelled], name="Mine", include_private_details=True, now=NOW)
    cal, _ = read_calendar(text)
    event = cal.walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["DESCRIPTION"]) == (
        "Paediatric Imaging SIG meeting.\n\nThis meeting has been cancelled.")
    assert b"Room 9" not in text and b"teams.microsoft.com" not in text
