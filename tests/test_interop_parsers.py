"""The four parsers of tests/interop.py can each fail: they see a broken object."""

import pytest

from tests import interop

GOOD = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:x@sighub\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART:20270328T090000Z\r\nDTEND:20270328T100000Z\r\nSUMMARY:Test\r\n"
    "SEQUENCE:0\r\nORGANIZER;CN=Net:mailto:net@nhs.net\r\n"
    "ATTENDEE;RSVP=TRUE:mailto:a@nhs.net\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_good_request_passes_all_four():
    seen = interop.assert_all_parsers_accept(GOOD)
    assert seen["method"] == "REQUEST"
    assert seen["events"][0]["start"] == "2027-03-28T09:00:00.000Z"


def test_libical_reports_a_request_without_dtstart():
    broken = GOOD.replace("DTSTART:20270328T090000Z\r\n", "")
    assert any("DTSTART" in line for line in interop.libical_errors(broken))


def test_icalendar_records_a_bad_date():
    assert interop.icalendar_errors(GOOD.replace("20270328T090000Z", "2027-03-28"))


def test_vobject_refuses_an_event_without_uid_when_validating():
    with pytest.raises(Exception):  # noqa: B017 - vobject raises its own error classes
        interop.vobject_validate(GOOD.replace("BEGIN:VEVENT", "BEGIN:VEVENT\r\nBEGIN:BAD"))


def test_icaljs_refuses_malformed_text():
    with pytest.raises(AssertionError, match="ical.js"):
        interop.icaljs_parse("BEGIN:VCALENDAR\r\nnot a property line\r\n")
