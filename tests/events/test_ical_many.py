"""invitation_calendars (many recipients at once) writes exactly what invitation_calendar
writes for each recipient, byte for byte, whatever the answers and the method."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.ical import Attendee, invitation_calendar, invitation_calendars
from tests.factories import MeetingFactory

DTSTAMP = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ATTENDEES = [
    Attendee("chair@nhs.net", "Dr Chair Person", "ACCEPTED"),
    Attendee("jo.smith@nhs.net", 'Smith, Jo "JJ"', "TENTATIVE"),
    Attendee("amira.khan@nhs.net", "Amira Khan", "DECLINED"),
    Attendee("ben.ode@uhb.nhs.uk", "Ben Ode with a name long enough to fold the line "
                                   "over seventy-five octets", "NEEDS-ACTION"),
    Attendee("zoë@nhs.net", "Zoë Ünïcode", "ACCEPTED"),
]


@pytest.mark.parametrize(("method", "removed"), [
    ("REQUEST", False), ("CANCEL", False), ("CANCEL", True)])
def test_the_same_bytes_as_one_at_a_time(db, method, removed):
    meeting = MeetingFactory(venue="Room 1, Russells Hall Hospital")
    recipients = [a.email for a in ATTENDEES]
    many = invitation_calendars(meeting, method=method, attendees=ATTENDEES,
                                recipients=recipients, dtstamp=DTSTAMP, removed=removed)
    assert list(many) == recipients
    for recipient in recipients:
        one = invitation_calendar(meeting, method=method, attendees=ATTENDEES,
                                  recipient=recipient, dtstamp=DTSTAMP, removed=removed)
        assert many[recipient] == one
    assert "sighub.invalid" not in many[recipients[0]]


def test_a_recipient_who_is_not_an_attendee_is_refused(db):
    with pytest.raises(ValueError, match="must be one of the attendees"):
        invitation_calendars(MeetingFactory(), method="REQUEST", attendees=ATTENDEES,
                             recipients=["stranger@nhs.net"], dtstamp=DTSTAMP)
