"""Invitation emails (iMIP): MIME shape, the calendar object, updates, cancellations,
and members joining or leaving (rules I1-I5, U1-U3, C1, T1-T4, X1-X2).

One test per rule is in ``test_interop_rules.py``; the instants around the clock
changes in ``test_dst_matrix.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from events import services
from events.models import Invitation, Meeting
from members import services as member_services
from members.models import Membership
from tests.events.conftest import (
    calendar_part,
    calendar_text,
    messages_to,
    parsed,
    read_calendar,
    the_event,
)
from tests.factories import MembershipFactory, PersonFactory
from tests.interop import libical_errors

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"


@pytest.fixture
def schedule(sig, chair, django_capture_on_commit_callbacks):
    """Schedule a meeting of ``sig`` as its chair and collect the mail it sends."""

    def _schedule(**overrides) -> Meeting:
        fields = {
            "title": "Spring meeting", "start": datetime(2027, 3, 28, 9, 0, tzinfo=UTC),
            "end": datetime(2027, 3, 28, 10, 30, tzinfo=UTC), "teams_url": TEAMS,
            "venue": "Room 1, Russells Hall Hospital", "dial_in": "+44 20 3321 5200, ID 123#",
            "description": "Agenda:\n1. Welcome\n2. NAI documentation",
        }
        fields.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            return services.meeting_schedule(group=sig, scheduled_by=chair, **fields)

    return _schedule


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and send the mail it queued (as a committed transaction would)."""

    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return _run


def test_every_active_member_gets_one_message_addressed_to_them(sig, schedule):
    MembershipFactory(group=sig, status=Membership.Status.APPLIED,
                      person=PersonFactory(email="applicant@nhs.net"))
    MembershipFactory(group=sig, status=Membership.Status.LEFT,
                      person=PersonFactory(email="gone@nhs.net"))
    meeting = schedule()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["amira.khan3@nhs.net", "ben.ode@uhb.nhs.uk", "chair@nhs.net",
                          "jo.smith@nhs.net"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    assert all(m.from_email == "West Midlands Imaging Network <dgft.wmimagingnetwork@nhs.net>"
               for m in mail.outbox)
    assert Invitation.objects.filter(meeting=meeting).count() == 4
    assert set(Invitation.objects.values_list("sent_sequence", flat=True)) == {0}


def test_request_has_every_required_property(schedule):
    meeting = schedule()
    message = messages_to(mail.outbox, "jo.smith@nhs.net")[0]
    # The object as handed to the mail (SMTP sends every line of a 7bit part
    # with CRLF anyway); the invite.ics attachment is base64, so byte-exact.
    [calendar] = [content for content, mimetype in message.alternatives
                  if mimetype.startswith("text/calendar")]
    attachment = next(p for p in parsed(message).walk() if p.get_filename() == "invite.ics")
    raw = attachment.get_payload(decode=True)
    assert raw == calendar.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")  # X1: CRLF
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # X1: folded at 75 octets
    text = raw.decode("utf-8")
    cal, vcal = read_calendar(text)
    assert str(cal["VERSION"]) == "2.0"
    assert "SIG Hub" in str(cal["PRODID"])
    assert str(cal["METHOD"]) == "REQUEST"
    event = the_event(cal)
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Spring meeting"
    assert "DTSTAMP:20270111T090000Z" in text  # UTC, ends in Z (I4)
    assert "LAST-MODIFIED:20270111T090000Z" in text
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:dgft.wmimagingnetwork@nhs.net"
    assert organizer.params["CN"] == "West Midlands Imaging Network"
    attendees = {str(a).removeprefix("mailto:"): a for a in event["ATTENDEE"]}
    assert set(attendees) == {"amira.khan3@nhs.net", "ben.ode@uhb.nhs.uk", "chair@nhs.net",
                              "jo.smith@nhs.net"}  # the full list (U3)
    mine = attendees[message.to[0]]  # exactly the To: address (I4)
    assert mine.params["RSVP"] == "TRUE"
    assert mine.params["PARTSTAT"] == "NEEDS-ACTION"
    assert mine.params["CUTYPE"] == "INDIVIDUAL"
    assert mine.params["ROLE"] == "REQ-PARTICIPANT"
    assert mine.params["CN"] == "Smith, Jo JJ"  # double quotes dropped (X2)
    assert 'CN="Smith, Jo JJ"' in text.replace("\r\n ", "")  # quoted: it has a comma
    # Joining details in LOCATION and DESCRIPTION (I5).
    assert "Room 1, Russells Hall Hospital" in str(event["LOCATION"])
    assert TEAMS in str(event["LOCATION"])
    description = str(event["DESCRIPTION"])
    for detail in (TEAMS, "Room 1, Russells Hall Hospital", "+44 20 3321 5200, ID 123#",
                   "https://sighub.example.nhs.uk/meetings/"):
        assert detail in description
    assert "Venue: Room 1\\, Russells Hall Hospital" in text.replace("\r\n ", "")  # X2
    assert vcal.vevent.uid.value == meeting.uid


def test_email_bodies_carry_the_same_joining_details_and_uk_time(schedule):
    meeting = schedule()
    root = parsed(messages_to(mail.outbox, "chair@nhs.net")[0])
    plain = root.get_body(preferencelist=("plain",)).get_content()
    html = root.get_body(preferencelist=("html",)).get_content()
    for body in (plain, html):
        assert "Sunday 28 March 2027, 10am to 11:30am (UK time)" in body
        assert TEAMS in body
        assert "Room 1, Russells Hall Hospital" in body
        assert "+44 20 3321 5200, ID 123#" in body
        assert f"https://sighub.example.nhs.uk/meetings/{meeting.pk}/" in body
    assert mail.outbox[0].subject == "Invitation: Spring meeting, Sunday 28 March 2027"


def test_update_keeps_uid_raises_sequence_and_dtstamp(schedule, chair, clock, committed):
    meeting = schedule()
    first = read_calendar(calendar_text(messages_to(mail.outbox, "ben.ode@uhb.nhs.uk")[0]))[0]
    mail.outbox.clear()

    clock.advance(minutes=5)
    committed(services.meeting_update, meeting=meeting, updated_by=chair,
              start=datetime(2027, 3, 28, 10, 0, tzinfo=UTC),
              end=datetime(2027, 3, 28, 11, 0, tzinfo=UTC))
    assert len(mail.outbox) == 4
    message = messages_to(mail.outbox, "ben.ode@uhb.nhs.uk")[0]
    assert message.subject.startswith("Updated invitation: Spring meeting")
    assert calendar_part(message).get_param("method") == "REQUEST"  # U3: never PUBLISH
    second = read_calendar(calendar_text(message))[0]
    mail.outbox.clear()

    clock.advance(minutes=5)
    committed(services.meeting_update, meeting=meeting, updated_by=chair, venue="Room 2")
    third = read_calendar(calendar_text(messages_to(mail.outbox, "ben.ode@uhb.nhs.uk")[0]))[0]

    events = [the_event(c) for c in (first, second, third)]
    assert len({str(e["UID"]) for e in events}) == 1  # U1
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]  # U2
    stamps = [e["DTSTAMP"].dt for e in events]
    assert stamps[0] < stamps[1] < stamps[2]
    modified = [e["LAST-MODIFIED"].dt for e in events]
    assert modified[0] < modified[1] < modified[2]
    assert all(str(c["METHOD"]) == "REQUEST" for c in (first, second, third))
    assert len(third.walk("VEVENT")[0]["ATTENDEE"]) == 4  # full list in updates (U3)
    meeting.refresh_from_db()
    assert meeting.sequence == 2
    assert set(Invitation.objects.values_list("sent_sequence", flat=True)) == {2}


def test_update_that_changes_nothing_visible_sends_nothing(schedule, chair, clock, committed):
    meeting = schedule()
    mail.outbox.clear()
    before = Meeting.objects.get(pk=meeting.pk)
    clock.advance(minutes=5)
    committed(services.meeting_update, meeting=meeting, updated_by=chair,
              title="Spring meeting ", start=meeting.start, end=meeting.end,
              teams_url=TEAMS, venue="Room 1, Russells Hall Hospital",
              dial_in="+44 20 3321 5200, ID 123#",
              description="Agenda:\r\n1. Welcome\r\n2. NAI documentation")
    assert mail.outbox == []
    after = Meeting.objects.get(pk=meeting.pk)
    assert (after.sequence, after.updated_at) == (before.sequence, before.updated_at)


def test_time_change_asks_for_answers_again(schedule, chair, clock, committed):
    meeting = schedule()
    invitation = Invitation.objects.get(meeting=meeting, person__email="ben.ode@uhb.nhs.uk")
    services.invitation_respond(invitation=invitation, response="attending", note="")
    committed(services.meeting_update, meeting=meeting, updated_by=chair, title="Renamed")
    invitation.refresh_from_db()
    assert invitation.response == "attending"  # a new title keeps answers
    cal = read_calendar(calendar_text(messages_to(mail.outbox, "chair@nhs.net")[-1]))[0]
    ben = next(a for a in the_event(cal)["ATTENDEE"] if "ben.ode" in str(a))
    assert ben.params["PARTSTAT"] == "ACCEPTED"  # others see the answer given on SIG Hub
    cal = read_calendar(calendar_text(messages_to(mail.outbox, "ben.ode@uhb.nhs.uk")[-1]))[0]
    ben = next(a for a in the_event(cal)["ATTENDEE"] if "ben.ode" in str(a))
    assert ben.params["PARTSTAT"] == "NEEDS-ACTION"  # the recipient is asked (I4)

    committed(services.meeting_update, meeting=meeting, updated_by=chair,
              start=meeting.start + timedelta(days=1), end=meeting.end + timedelta(days=1))
    invitation.refresh_from_db()
    assert invitation.response == "needs_action"
    message = messages_to(mail.outbox, "ben.ode@uhb.nhs.uk")[-1]
    assert "the time" in message.body and "answer again" in message.body


def test_cancel_sends_cancel_with_higher_sequence(schedule, chair, clock, committed):
    meeting = schedule()
    mail.outbox.clear()
    clock.advance(hours=1)
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "amira.khan3@nhs.net", "ben.ode@uhb.nhs.uk", "chair@nhs.net", "jo.smith@nhs.net"]
    message = messages_to(mail.outbox, "amira.khan3@nhs.net")[0]
    assert message.subject == "Cancelled: Spring meeting, Sunday 28 March 2027"
    part = calendar_part(message)
    assert part.get_param("method") == "CANCEL"
    cal, _ = read_calendar(part.get_content())
    assert str(cal["METHOD"]) == "CANCEL"
    event = the_event(cal)
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["DTSTAMP"].dt == datetime(2027, 1, 11, 10, 0, tzinfo=UTC)
    assert event["ORGANIZER"].params["CN"] == "West Midlands Imaging Network"
    assert len(event["ATTENDEE"]) == 4
    meeting.refresh_from_db()
    assert meeting.is_cancelled and meeting.sequence == 1
    with pytest.raises(ValidationError, match="already been cancelled"):
        services.meeting_cancel(meeting=meeting, cancelled_by=chair)
    with pytest.raises(ValidationError, match="cancelled"):
        services.meeting_update(meeting=meeting, updated_by=chair, title="Again")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end": datetime(2027, 3, 28, 8, 0, tzinfo=UTC)}, "end", "after the start"),
        ({"teams_url": "", "venue": ""}, "teams_url", "Teams link or a venue"),
        ({"start": datetime(2027, 1, 10, 9, 0, tzinfo=UTC),
          "end": datetime(2027, 1, 10, 10, 0, tzinfo=UTC)}, "start", "in the future"),
        ({"teams_url": "http://teams.microsoft.com/l/meetup-join/x"}, "teams_url", "Teams"),
        ({"teams_url": "https://evil.example.com/teams.microsoft.com"}, "teams_url", "Teams"),
        ({"teams_url": "https://zoom.us/j/123"}, "teams_url", "Teams"),
    ],
)
def test_schedule_refuses_bad_meetings_with_clear_messages(schedule, overrides, field, message):
    with pytest.raises(ValidationError) as error:
        schedule(**overrides)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert mail.outbox == []
    assert not Meeting.objects.exists()


def test_venue_only_meeting_is_fine(schedule):
    meeting = schedule(teams_url="", dial_in="")
    cal, _ = read_calendar(calendar_text(mail.outbox[0]))
    assert str(the_event(cal)["LOCATION"]) == "Room 1, Russells Hall Hospital"
    assert meeting.teams_url == ""


def test_invitation_respond(schedule, clock):
    meeting = schedule()
    invitation = Invitation.objects.get(meeting=meeting, person__email="jo.smith@nhs.net")
    services.invitation_respond(invitation=invitation, response="apologies", note=" On leave ")
    invitation.refresh_from_db()
    assert (invitation.response, invitation.note) == ("apologies", "On leave")
    assert invitation.responded_at == clock.now
    with pytest.raises(ValidationError):
        services.invitation_respond(invitation=invitation, response="needs_action")
    clock.now = meeting.end + timedelta(minutes=1)
    with pytest.raises(ValidationError, match="already taken place"):
        services.invitation_respond(invitation=invitation, response="attending")


def test_new_member_gets_request_for_future_meetings_only(sig, chair, schedule, clock,
                                                         committed):
    future = schedule()
    cancelled = schedule(title="Cancelled one", start=datetime(2027, 2, 1, 10, tzinfo=UTC),
                         end=datetime(2027, 2, 1, 11, tzinfo=UTC))
    services.meeting_cancel(meeting=cancelled, cancelled_by=chair)
    soon = schedule(title="Soon", start=datetime(2027, 1, 12, 10, tzinfo=UTC),
                    end=datetime(2027, 1, 12, 11, tzinfo=UTC))
    clock.advance(days=2)  # "Soon" is now over
    mail.outbox.clear()

    newcomer = PersonFactory(email="new.member@nhs.net", full_name="New Member")
    application = MembershipFactory(group=sig, person=newcomer,
                                    status=Membership.Status.APPLIED)
    committed(member_services.membership_approve, membership=application, decided_by=chair)

    invitations = messages_to(mail.outbox, "new.member@nhs.net")
    calendars = [m for m in invitations if m.alternatives and "text/calendar" in str(
        [a.mimetype for a in m.alternatives])]
    assert len(calendars) == 1  # the decision email has no calendar; one meeting is future
    part = calendar_part(calendars[0])
    assert part.get_param("method") == "REQUEST"
    cal, _ = read_calendar(part.get_content())
    event = the_event(cal)
    assert str(event["UID"]) == future.uid
    assert event["SEQUENCE"] == future.sequence == 0  # the current SEQUENCE
    mine = next(a for a in event["ATTENDEE"] if str(a) == "mailto:new.member@nhs.net")
    assert mine.params["PARTSTAT"] == "NEEDS-ACTION" and mine.params["RSVP"] == "TRUE"
    # Nobody else was mailed a calendar.
    assert all(m.to == ["new.member@nhs.net"] for m in mail.outbox)
    assert not Invitation.objects.filter(meeting=soon, person=newcomer).exists()
    assert Invitation.objects.get(meeting=future, person=newcomer).sent_sequence == 0


def test_leaving_member_gets_cancel_and_nobody_else_is_mailed(sig, chair, schedule, clock,
                                                             committed):
    meeting = schedule()
    mail.outbox.clear()
    clock.advance(hours=1)
    leaver = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net")
    committed(member_services.membership_leave, membership=leaver)

    assert [m.to for m in mail.outbox] == [["jo.smith@nhs.net"]]
    part = calendar_part(mail.outbox[0])
    assert part.get_param("method") == "CANCEL"
    cal, _ = read_calendar(part.get_content())
    event = the_event(cal)
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 1  # higher than the REQUEST they had (C1)
    assert str(event["STATUS"]) == "CANCELLED"
    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:jo.smith@nhs.net"]
    invitation = Invitation.objects.get(meeting=meeting, person__email="jo.smith@nhs.net")
    assert invitation.removed_at == clock.now
    assert invitation.sent_sequence == 1
    meeting.refresh_from_db()
    assert not meeting.is_cancelled

    # An update afterwards goes to the others only, with a still higher SEQUENCE.
    mail.outbox.clear()
    committed(services.meeting_update, meeting=meeting, updated_by=chair, title="New title")
    assert "jo.smith@nhs.net" not in [m.to[0] for m in mail.outbox]
    cal, _ = read_calendar(calendar_text(mail.outbox[0]))
    assert the_event(cal)["SEQUENCE"] == 2
    assert "jo.smith" not in calendar_text(mail.outbox[0])


def test_rejoining_member_gets_a_request_above_their_cancel(sig, chair, schedule, clock,
                                                           committed):
    meeting = schedule()
    leaver = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net")
    committed(member_services.membership_leave, membership=leaver)
    mail.outbox.clear()
    clock.advance(hours=1)
    committed(member_services.membership_appoint_chair, group=sig, person=leaver.person)
    cal, _ = read_calendar(calendar_text(messages_to(mail.outbox, "jo.smith@nhs.net")[0]))
    event = the_event(cal)
    assert str(cal["METHOD"]) == "REQUEST"
    assert event["SEQUENCE"] == 2  # their CANCEL was 1
    invitation = Invitation.objects.get(meeting=meeting, person=leaver.person)
    assert invitation.removed_at is None and invitation.sent_sequence == 2


def test_nothing_is_sent_when_the_transaction_rolls_back(
    sig, chair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.meeting_schedule(
                group=sig, scheduled_by=chair, title="Rolled back",
                start=datetime(2027, 3, 1, 10, tzinfo=UTC),
                end=datetime(2027, 3, 1, 11, tzinfo=UTC), teams_url=TEAMS)
            raise RuntimeError
    assert callbacks == []
    assert mail.outbox == []


def test_cancellation_email_has_no_joining_details(schedule, chair, committed):
    meeting = schedule()
    mail.outbox.clear()
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    root = parsed(mail.outbox[0])
    for body in (root.get_body(preferencelist=("plain",)).get_content(),
                 root.get_body(preferencelist=("html",)).get_content()):
        assert "has been cancelled" in body
        assert "Sunday 28 March 2027, 10am to 11:30am (UK time)" in body
        assert TEAMS not in body and "answer" not in body.lower()


@pytest.mark.parametrize(
    ("field", "limit", "message"),
    [
        ("title", 200, "Title must be 200 characters or fewer"),
        ("venue", 300, "Venue must be 300 characters or fewer"),
        ("dial_in", 300, "Dial-in details must be 300 characters or fewer"),
        ("description", 4000, "Description must be 4,000 characters or fewer"),
    ],
)
def test_text_fields_have_a_maximum_length(schedule, field, limit, message):
    with pytest.raises(ValidationError) as error:
        schedule(**{field: "x" * (limit + 1)})
    assert error.value.message_dict[field] == [message]
    assert mail.outbox == []
    assert not Meeting.objects.exists()
    schedule(**{field: "x" * limit})  # exactly the limit is fine
    assert Meeting.objects.count() == 1


def test_a_megabyte_description_is_refused_on_update_too(schedule, chair):
    meeting = schedule()
    with pytest.raises(ValidationError) as error:
        services.meeting_update(meeting=meeting, updated_by=chair, description="x" * 1_000_000)
    assert error.value.message_dict["description"] == [
        "Description must be 4,000 characters or fewer"]
    meeting.refresh_from_db()
    assert meeting.sequence == 0 and len(meeting.description) < 100


def test_a_meeting_can_be_scheduled_up_to_2_years_ahead(schedule, chair, clock):
    # The tests run at 09:00 UTC on 11 January 2027.
    with pytest.raises(ValidationError) as error:
        schedule(start=datetime(9999, 12, 31, 10, tzinfo=UTC),
                 end=datetime(9999, 12, 31, 11, tzinfo=UTC))
    assert error.value.message_dict["start"] == ["A meeting can be scheduled up to 2 years ahead"]
    with pytest.raises(ValidationError, match="up to 2 years ahead"):
        schedule(start=datetime(2029, 1, 11, 9, 1, tzinfo=UTC),
                 end=datetime(2029, 1, 11, 10, tzinfo=UTC))
    assert not Meeting.objects.exists()
    meeting = schedule(start=datetime(2029, 1, 11, 9, 0, tzinfo=UTC),
                       end=datetime(2029, 1, 11, 10, tzinfo=UTC))
    with pytest.raises(ValidationError, match="up to 2 years ahead"):
        services.meeting_update(meeting=meeting, updated_by=chair,
                                start=datetime(2030, 1, 1, 9, tzinfo=UTC),
                                end=datetime(2030, 1, 1, 10, tzinfo=UTC))


@pytest.mark.parametrize("url", [
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
    "https://teams.live.com/meet/9312345678901",
])
def test_both_teams_hosts_are_accepted(schedule, url):
    assert schedule(teams_url=url).teams_url == url


def test_teams_message_names_both_hosts(schedule):
    with pytest.raises(ValidationError) as error:
        schedule(teams_url="https://zoom.us/j/123")
    assert error.value.message_dict["teams_url"] == [
        "Enter a Microsoft Teams meeting link starting https://teams.microsoft.com/ "
        "or https://teams.live.com/"]


def _attendee_list(event) -> list:
    attendees = event["ATTENDEE"]
    return attendees if isinstance(attendees, list) else [attendees]


@pytest.mark.parametrize("kind", ["cancelled", "removed"])
def test_cancel_calendar_carries_no_joining_details_and_asks_no_reply(
        sig, chair, schedule, clock, committed, kind):
    meeting = schedule()
    mail.outbox.clear()
    clock.advance(hours=1)
    if kind == "cancelled":
        committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
        description = "Paediatric Imaging SIG meeting.\n\nThis meeting has been cancelled."
    else:
        leaver = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net")
        committed(member_services.membership_leave, membership=leaver)
        description = ("Paediatric Imaging SIG meeting.\n\nYou are no longer invited because "
                       "you left the Paediatric Imaging SIG.")
    message = messages_to(mail.outbox, "jo.smith@nhs.net")[0]
    text = calendar_text(message)
    cal, _ = read_calendar(text)  # icalendar: no errors; vobject: validate=True
    assert libical_errors(text) == []  # and libical's iTIP check for METHOD:CANCEL
    event = the_event(cal)
    # Rule C1 is kept ...
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event["ORGANIZER"].params["CN"] == "West Midlands Imaging Network"
    assert "mailto:jo.smith@nhs.net" in [str(a) for a in _attendee_list(event)]
    # ... but nothing to join and nothing to answer (RFC 5546 3.2.5).
    assert str(event["DESCRIPTION"]) == description
    assert "LOCATION" not in event and "URL" not in event
    unfolded = text.replace("\r\n ", "")
    assert TEAMS not in unfolded and "Russells Hall" not in unfolded and "5200" not in unfolded
    assert "Answer" not in unfolded and "RSVP=TRUE" not in unfolded
    assert {a.params["RSVP"] for a in _attendee_list(event)} == {"FALSE"}


def test_requests_still_ask_for_a_reply_with_the_joining_details(schedule):
    schedule()
    text = calendar_text(messages_to(mail.outbox, "jo.smith@nhs.net")[0])
    cal, _ = read_calendar(text)
    event = the_event(cal)
    assert {a.params["RSVP"] for a in _attendee_list(event)} == {"TRUE"}
    assert TEAMS in str(event["LOCATION"]) and TEAMS in str(event["DESCRIPTION"])


def test_leaving_email_says_removed_not_cancelled(sig, schedule, clock, committed):
    schedule()
    schedule(title="Summer meeting", start=datetime(2027, 6, 1, 9, tzinfo=UTC),
             end=datetime(2027, 6, 1, 10, tzinfo=UTC))
    mail.outbox.clear()
    clock.advance(hours=1)
    leaver = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net")
    committed(member_services.membership_leave, membership=leaver)
    assert sorted(m.subject for m in mail.outbox) == [
        "Removed from your calendar: Spring meeting, Sunday 28 March 2027",
        "Removed from your calendar: Summer meeting, Tuesday 1 June 2027",
    ]
    root = parsed(mail.outbox[0])
    for body in (root.get_body(preferencelist=("plain",)).get_content(),
                 root.get_body(preferencelist=("html",)).get_content()):
        assert "You have left the Paediatric Imaging SIG" in body
        assert "The meeting itself has not been cancelled: it goes ahead without you." in body
        assert "Cancelled:" not in body and "has been cancelled." not in body
        assert TEAMS not in body
