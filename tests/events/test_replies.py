"""Attendees' calendar replies read back (RFC 5546 3.2.3 METHOD:REPLY over RFC 6047 iMIP).

Every message of the corpus in ``tests/events/replies/`` goes through the one
entry point for inbound mail (``members.mail.inbound.ingest_message``) and
its expected outcome is asserted: the answer recorded with the right
response and note, or the reply ignored for the right reason with the
database unchanged. Rules R1-R3 of the interop reference.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from events import itip, services
from events.models import Invitation, Meeting
from events.replies import Reason, ReplyOutcome, reply_apply, reply_receive
from members.mail.inbound import InboundKind, ingest_message, parse_message
from tests.events.replies import (
    INVITED,
    MEETING_UID,
    NOT_INVITED,
    REMOVED,
    corpus_bytes,
    corpus_files,
    invitation_state,
    make_reply_meeting,
)

pytestmark = pytest.mark.django_db

R = Invitation.Response
NOTE = "Sorry, I'm on the CT rota that afternoon.\nPlease could you send round the slides?"

# file -> (attendee, response, note, DTSTAMP) for replies that must be recorded.
RECORDED = {
    "outlook-exchange-accepted.eml": ("jo.smith@nhs.net", R.ATTENDING, "",
                                      datetime(2027, 1, 11, 10, 15, 2, tzinfo=UTC)),
    "outlook-com-top-level.eml": ("ben.ode@uhb.nhs.uk", R.APOLOGIES, "",
                                  datetime(2027, 1, 11, 10, 22, 30, tzinfo=UTC)),
    "gmail-accepted.eml": ("rachel.okafor@swbh.nhs.uk", R.ATTENDING, "",
                           datetime(2027, 1, 11, 10, 31, 12, tzinfo=UTC)),
    "apple-mail-tentative.eml": ("amira.khan3@nhs.net", R.TENTATIVE, "",
                                 datetime(2027, 1, 11, 10, 44, 55, tzinfo=UTC)),
    "thunderbird-declined.eml": ("tom.hughes@nhs.net", R.APOLOGIES, "",
                                 datetime(2027, 1, 11, 11, 15, tzinfo=UTC)),
    "outlook-desktop-uppercase-mailto.eml": ("chris.evans@nhs.net", R.ATTENDING, "",
                                             datetime(2027, 1, 11, 11, 20, 10, tzinfo=UTC)),
    "outlook-comment-declined.eml": ("priya.shah@nhs.net", R.APOLOGIES, NOTE,
                                     datetime(2027, 1, 11, 11, 30, 45, tzinfo=UTC)),
}
# file -> the reason a calendar reply is ignored.
IGNORED = {
    "outlook-old-sequence.eml": Reason.OLD_SEQUENCE,
    "outlook-unknown-uid.eml": Reason.UNKNOWN_UID,
    "outlook-uninvited-address.eml": Reason.NOT_INVITED,
    "broken-calendar-part.eml": Reason.MALFORMED,
    "apple-mail-recurrence-id.eml": Reason.OCCURRENCE,
}
# file -> what members makes of a message that is not a calendar reply.
NOT_CALENDAR = {
    "not-calendar.eml": InboundKind.OTHER,
}
# Non-delivery reports (issue 6): handled by members.mail.bounces, never as replies.
DELIVERY_REPORTS = {"delivery-report.eml"}


@pytest.fixture
def meeting() -> Meeting:
    return make_reply_meeting()


def invitation_of(meeting: Meeting, email: str) -> Invitation:
    return Invitation.objects.get(meeting=meeting, person__email=email)


def test_the_corpus_has_every_shape_and_each_file_an_expected_outcome():
    names = {path.name for path in corpus_files()}
    assert names == set(RECORDED) | set(IGNORED) | set(NOT_CALENDAR) | DELIVERY_REPORTS
    assert len(names) >= 12


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_reply_is_recorded(meeting, name):
    attendee, response, note, dtstamp = RECORDED[name]
    before = invitation_state(meeting)

    result = ingest_message(corpus_bytes(name))

    assert result.kind == InboundKind.CALENDAR
    # Gmail's inline part and its invite.ics are the same object: handled once.
    assert len(result.outcomes) == 1
    outcome = result.outcomes[0]
    assert isinstance(outcome, ReplyOutcome)
    assert outcome.reason == Reason.RECORDED, outcome
    assert (outcome.uid, outcome.attendee, outcome.response) == (MEETING_UID, attendee, response)
    invitation = invitation_of(meeting, attendee)
    assert invitation.response == response
    assert invitation.note == note
    assert invitation.answered_via == Invitation.Source.CALENDAR
    assert invitation.responded_at is not None
    assert (invitation.reply_sequence, invitation.reply_dtstamp) == (1, dtstamp)
    # Nobody else's invitation changed.
    after = invitation_state(meeting)
    changed = [new for old, new in zip(before, after, strict=True) if old != new]
    assert [row[0] for row in changed] == [attendee]


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_reply_is_ignored_with_its_reason_and_nothing_changes(meeting, name, caplog):
    before = invitation_state(meeting)
    caplog.set_level("INFO", logger="events.replies")

    result = ingest_message(corpus_bytes(name))

    assert result.kind == InboundKind.CALENDAR
    assert [outcome.reason for outcome in result.outcomes] == [IGNORED[name]]
    assert not result.outcomes[0].recorded
    assert invitation_state(meeting) == before
    assert str(IGNORED[name]) in caplog.text


@pytest.mark.parametrize("name", sorted(NOT_CALENDAR))
def test_message_without_a_calendar_reply_is_reported_and_changes_nothing(meeting, name):
    before = invitation_state(meeting)

    result = ingest_message(corpus_bytes(name))

    assert result.kind == NOT_CALENDAR[name]
    assert result.outcomes == ()
    assert str(result) == "not a calendar reply"
    assert invitation_state(meeting) == before


@pytest.mark.parametrize("name", sorted(DELIVERY_REPORTS))
def test_a_delivery_report_is_not_a_reply_and_changes_no_answer(meeting, name):
    before = invitation_state(meeting)
    assert ingest_message(corpus_bytes(name)).kind == InboundKind.DELIVERY_REPORT
    assert invitation_state(meeting) == before


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_ingesting_the_same_reply_twice_changes_nothing_the_second_time(meeting, name, clock):
    ingest_message(corpus_bytes(name))
    first = invitation_state(meeting)
    clock.advance(hours=1)

    again = ingest_message(corpus_bytes(name))

    assert [outcome.reason for outcome in again.outcomes] == [Reason.DUPLICATE]
    assert invitation_state(meeting) == first


def test_the_whole_corpus_in_any_order_gives_the_same_answers(meeting):
    for path in corpus_files():
        ingest_message(path.read_bytes())
    forwards = invitation_state(meeting)
    Invitation.objects.filter(meeting=meeting).update(
        response=R.NEEDS_ACTION, note="", responded_at=None, answered_via="",
        reply_sequence=None, reply_dtstamp=None)
    for path in reversed(corpus_files()):
        ingest_message(path.read_bytes())
    backwards = invitation_state(meeting)
    strip_time = [row[:3] + row[4:] for row in forwards]
    assert strip_time == [row[:3] + row[4:] for row in backwards]
    answers = {row[0]: row[1] for row in forwards}
    assert answers == {
        **{email: R.NEEDS_ACTION for email in INVITED}, REMOVED: R.NEEDS_ACTION,
        **{attendee: response for attendee, response, _n, _d in RECORDED.values()},
    }


# --- the shapes of rules R1-R3 -------------------------------------------------------

def _calendar_text(name: str) -> str:
    message = parse_message(corpus_bytes(name))
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_content()


def test_r1_outlook_reply_has_windows_zone_1601_cdo_lines_and_no_organizer():
    text = _calendar_text("outlook-exchange-accepted.eml")
    assert "PRODID:Microsoft Exchange Server 2010" in text
    assert "TZID=GMT Standard Time" in text and "DTSTART:16010101T020000" in text
    assert "X-MICROSOFT-CDO-BUSYSTATUS" in text
    assert "ORGANIZER" not in text
    assert "SUMMARY;LANGUAGE=en-GB:Accepted: " in text

    reply = itip.parse_reply(text)

    assert reply == itip.Reply(
        uid=MEETING_UID, attendee="jo.smith@nhs.net", partstat="ACCEPTED", sequence=1,
        dtstamp=datetime(2027, 1, 11, 10, 15, 2, tzinfo=UTC), recurrence_id="", comment="",
    )


def test_r2_upper_case_mailto_and_address_match_case_insensitively():
    text = _calendar_text("outlook-desktop-uppercase-mailto.eml")
    assert "MAILTO:CHRIS.EVANS@NHS.NET" in text
    assert itip.parse_reply(text).attendee == "chris.evans@nhs.net"


def test_r3_outlook_com_calendar_part_is_the_whole_message():
    message = parse_message(corpus_bytes("outlook-com-top-level.eml"))
    assert message.get_content_type() == "text/calendar"
    assert message.get_param("method") == "REPLY"


def test_comment_is_unescaped_and_unfolded():
    reply = itip.parse_reply(_calendar_text("outlook-comment-declined.eml"))
    assert reply.comment == NOTE
    assert reply.partstat == "DECLINED"


# --- matching and ordering (R2, RFC 5546 2.1.4-2.1.5) -----------------------------------

def outlook_reply(partstat="ACCEPTED", *, attendee="mailto:jo.smith@nhs.net", sequence=1,
                  dtstamp="20270111T101502Z", comment="", uid=MEETING_UID,
                  extra="") -> str:
    """A minimal Exchange-style REPLY (no ORGANIZER) to vary one thing at a time."""
    lines = [
        "BEGIN:VCALENDAR", "METHOD:REPLY", "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0", "BEGIN:VEVENT", f"ATTENDEE;PARTSTAT={partstat};CN=Jo Smith:{attendee}",
        *([f"COMMENT;LANGUAGE=en-GB:{comment}"] if comment else []),
        "SUMMARY;LANGUAGE=en-GB:Accepted: Paediatric MSK ultrasound update",
        "DTSTART;TZID=GMT Standard Time:20270209T140000",
        "DTEND;TZID=GMT Standard Time:20270209T153000", f"UID:{uid}",
        f"DTSTAMP:{dtstamp}", f"SEQUENCE:{sequence}", *([extra] if extra else []),
        "X-MICROSOFT-CDO-APPT-SEQUENCE:1", "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_a_newer_reply_replaces_the_answer_and_an_older_one_is_ignored(meeting):
    assert reply_receive(outlook_reply("ACCEPTED", dtstamp="20270111T100000Z")).recorded
    newer = reply_receive(outlook_reply("DECLINED", dtstamp="20270111T110000Z",
                                        comment="Clinic overran"))
    assert newer.recorded and newer.response == R.APOLOGIES
    older = reply_receive(outlook_reply("TENTATIVE", dtstamp="20270111T103000Z"))
    assert older.reason == Reason.SUPERSEDED
    invitation = invitation_of(meeting, "jo.smith@nhs.net")
    assert (invitation.response, invitation.note) == (R.APOLOGIES, "Clinic overran")
    assert invitation.reply_dtstamp == datetime(2027, 1, 11, 11, 0, tzinfo=UTC)


def test_a_reply_to_a_higher_sequence_wins_over_a_later_stamped_lower_one(meeting):
    Meeting.objects.filter(pk=meeting.pk).update(sequence=2)
    assert reply_receive(outlook_reply("DECLINED", sequence=3,
                                       dtstamp="20270111T090000Z")).recorded
    stale = reply_receive(outlook_reply("ACCEPTED", sequence=2, dtstamp="20270111T120000Z"))
    assert stale.reason == Reason.SUPERSEDED
    assert invitation_of(meeting, "jo.smith@nhs.net").response == R.APOLOGIES


def test_an_answer_given_on_the_site_after_the_reply_was_written_wins(meeting, clock):
    invitation = invitation_of(meeting, "tom.hughes@nhs.net")
    clock.now = datetime(2027, 1, 11, 12, 0, tzinfo=UTC)
    services.invitation_respond(invitation=invitation, response=R.ATTENDING, note="")
    before = invitation_state(meeting)

    result = ingest_message(corpus_bytes("thunderbird-declined.eml"))  # DTSTAMP 11:15

    assert result.outcomes[0].reason == Reason.SUPERSEDED
    assert invitation_state(meeting) == before


@pytest.mark.parametrize("mode", [R.IN_PERSON, R.ONLINE])
def test_accepted_keeps_an_in_person_or_online_answer(meeting, mode):
    # A venue as well as Teams, so both modes can be chosen.
    Meeting.objects.filter(pk=meeting.pk).update(venue="Room 1, Russells Hall Hospital")
    jo = invitation_of(meeting, "jo.smith@nhs.net")
    services.invitation_respond(invitation=jo, response=mode, note="")

    outcome = ingest_message(corpus_bytes("outlook-exchange-accepted.eml")).outcomes[0]

    assert outcome.recorded and outcome.response == mode
    jo.refresh_from_db()
    assert (jo.response, jo.answered_via) == (mode, Invitation.Source.CALENDAR)


def test_accept_at_a_full_venue_only_meeting_joins_the_waiting_list(meeting):
    Meeting.objects.filter(pk=meeting.pk).update(
        teams_url="", venue="Room 1, Russells Hall Hospital", in_person_places=1)
    services.invitation_respond(invitation=invitation_of(meeting, "ben.ode@uhb.nhs.uk"),
                                response=R.IN_PERSON)

    outcome = ingest_message(corpus_bytes("outlook-exchange-accepted.eml")).outcomes[0]

    assert outcome.recorded and outcome.response == R.IN_PERSON
    assert str(outcome).endswith("in_person (on the waiting list)")
    assert invitation_of(meeting, "jo.smith@nhs.net").waitlisted_at is not None


def test_a_long_comment_is_cut_to_the_note_limit(meeting):
    outcome = reply_receive(outlook_reply("TENTATIVE", comment="x" * 800))
    assert outcome.recorded
    assert invitation_of(meeting, "jo.smith@nhs.net").note == "x" * 500


def test_a_reply_without_comment_clears_the_earlier_note(meeting):
    reply_receive(outlook_reply("TENTATIVE", comment="Might be late",
                                dtstamp="20270111T100000Z"))
    reply_receive(outlook_reply("ACCEPTED", dtstamp="20270111T100500Z"))
    assert invitation_of(meeting, "jo.smith@nhs.net").note == ""


def test_a_reply_from_someone_taken_off_the_meeting_is_ignored(meeting):
    before = invitation_state(meeting)
    outcome = reply_receive(outlook_reply(attendee=f"mailto:{REMOVED}"))
    assert outcome.reason == Reason.NOT_INVITED
    assert invitation_state(meeting) == before


def test_a_reply_from_a_known_person_not_invited_is_ignored(meeting):
    assert reply_receive(outlook_reply(attendee=f"MAILTO:{NOT_INVITED}")).reason == (
        Reason.NOT_INVITED)


def test_a_reply_for_a_cancelled_meeting_is_ignored(meeting):
    services.meeting_cancel(meeting=meeting, cancelled_by=None)
    meeting.refresh_from_db()
    before = invitation_state(meeting)
    outcome = reply_receive(outlook_reply(sequence=meeting.sequence))
    assert outcome.reason == Reason.CANCELLED
    assert invitation_state(meeting) == before


def test_a_reply_after_the_meeting_is_over_is_ignored(meeting, clock):
    clock.now = datetime(2027, 2, 9, 15, 30, tzinfo=UTC)
    before = invitation_state(meeting)
    result = ingest_message(corpus_bytes("outlook-exchange-accepted.eml"))
    assert result.outcomes[0].reason == Reason.PAST
    assert invitation_state(meeting) == before


@pytest.mark.parametrize("partstat", ["NEEDS-ACTION", "DELEGATED", "X-MAYBE"])
def test_a_partstat_that_is_not_an_answer_is_ignored(meeting, partstat):
    assert reply_receive(outlook_reply(partstat)).reason == Reason.NOT_AN_ANSWER
    assert invitation_of(meeting, "jo.smith@nhs.net").response == R.NEEDS_ACTION


def test_a_sequence_above_the_meetings_is_still_an_answer(meeting):
    assert reply_receive(outlook_reply(sequence=5)).recorded


def test_a_reply_the_service_refuses_is_ignored_not_raised(meeting, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError("This meeting has already taken place.")

    monkeypatch.setattr(services, "invitation_respond", refuse)
    outcome = reply_receive(outlook_reply())
    assert outcome.reason == Reason.REFUSED
    assert "already taken place" in str(outcome)
    assert invitation_of(meeting, "jo.smith@nhs.net").reply_sequence is None


def test_reply_apply_takes_a_parsed_reply(meeting):
    reply = itip.Reply(uid=MEETING_UID, attendee="priya.shah@nhs.net", partstat="TENTATIVE",
                       sequence=1, dtstamp=datetime(2027, 1, 11, 9, 30, tzinfo=UTC))
    outcome = reply_apply(reply=reply)
    assert str(outcome) == f"recorded: priya.shah@nhs.net for {MEETING_UID} tentative"


def test_outcome_text_for_an_ignored_reply():
    outcome = ReplyOutcome(Reason.UNKNOWN_UID, uid="abc", attendee="jo.smith@nhs.net")
    assert str(outcome) == "ignored (unknown UID): jo.smith@nhs.net for abc"


# --- parsing on its own (events.itip) ---------------------------------------------------

@pytest.mark.parametrize("text, detail", [
    ("", "empty"),
    ("this is not a calendar", "unreadable"),
    ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\n", "unreadable"),
    ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", "no VEVENT"),
    (outlook_reply().replace(f"UID:{MEETING_UID}\r\n", ""), "no UID"),
    (outlook_reply().replace("ATTENDEE;PARTSTAT=ACCEPTED;CN=Jo Smith:mailto:jo.smith@nhs.net\r\n",
                             ""), "no ATTENDEE"),
    (outlook_reply(attendee="mailto:"), "no ATTENDEE"),
    (outlook_reply().replace("PARTSTAT=ACCEPTED;", ""), "has no PARTSTAT"),
    (outlook_reply(sequence="two"), "SEQUENCE is not a number"),
    (outlook_reply(sequence=2**31), "SEQUENCE out of range"),
    (outlook_reply(sequence=-1), "SEQUENCE out of range"),
])
def test_malformed_calendar_parts(text, detail):
    result = itip.parse_reply(text)
    assert isinstance(result, itip.Malformed)
    assert detail in result.detail


def test_a_request_or_publish_is_not_a_reply():
    request = outlook_reply().replace("METHOD:REPLY", "METHOD:REQUEST")
    assert itip.parse_reply(request) == itip.NotAReply("REQUEST")
    assert str(itip.parse_reply(request.replace("METHOD:REQUEST\r\n", ""))) == (
        "not a REPLY (METHOD:none)")


def test_parse_accepts_bytes_lf_line_ends_and_a_missing_sequence_and_dtstamp():
    text = (outlook_reply().replace("\r\nSEQUENCE:1\r\n", "\r\n")
            .replace("DTSTAMP:20270111T101502Z\r\n", ""))
    reply = itip.parse_reply(text.replace("\r\n", "\n").encode())
    assert (reply.sequence, reply.dtstamp) == (0, None)


def test_several_attendees_pick_the_sender_or_the_only_one_who_answered():
    text = outlook_reply().replace(
        "ATTENDEE;", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:amira.khan3@nhs.net\r\nATTENDEE;")
    assert itip.parse_reply(text).attendee == "jo.smith@nhs.net"
    both = text.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=DECLINED")
    assert isinstance(itip.parse_reply(both), itip.Malformed)
    assert itip.parse_reply(both, sender="Amira.Khan3@nhs.net").attendee == "amira.khan3@nhs.net"


@pytest.mark.parametrize("tzid", [
    "/freeassociation.sourceforge.net/Europe/London",  # Evolution: icalendar warns
    "W. Europe Standard Time", "Customized Time Zone", '"GMT Standard Time"', "",
    "America",  # a zoneinfo directory: icalendar raises, read again without TZIDs
])
def test_odd_time_zone_ids_never_stop_a_reply_being_read(tzid):
    # pytest turns warnings into errors here, so a warning would fail this too.
    reply = itip.parse_reply(outlook_reply().replace("TZID=GMT Standard Time", f"TZID={tzid}"))
    assert isinstance(reply, itip.Reply)
    assert (reply.uid, reply.partstat) == (MEETING_UID, "ACCEPTED")


def test_recurrence_id_is_read():
    text = outlook_reply(extra="RECURRENCE-ID;TZID=GMT Standard Time:20270309T140000")
    assert itip.parse_reply(text).recurrence_id == "20270309T140000"


@pytest.mark.parametrize("value, address", [
    ("mailto:Jo.Smith@nhs.net", "jo.smith@nhs.net"),
    ("MAILTO:JO.SMITH@NHS.NET", "jo.smith@nhs.net"),
    ("Mailto: jo.smith@nhs.net ", "jo.smith@nhs.net"),
    ("jo.smith@nhs.net", "jo.smith@nhs.net"),
    ("mailto:<jo.smith@nhs.net>", "jo.smith@nhs.net"),
    ("mailto:", ""),
    ("urn:uuid:1234", ""),
])
def test_address_from_cal_address(value, address):
    assert itip.address_from_cal_address(value) == address


# --- invitation_respond: any answer, and where it came from -----------------------------

def test_invitation_respond_records_where_the_answer_came_from(meeting):
    jo = invitation_of(meeting, "jo.smith@nhs.net")
    services.invitation_respond(invitation=jo, response=R.TENTATIVE, note="")
    jo.refresh_from_db()
    assert (jo.response, jo.answered_via) == (R.TENTATIVE, Invitation.Source.SITE)
    services.invitation_respond(invitation=jo, response=R.ONLINE,
                                via=Invitation.Source.CHAIR)
    jo.refresh_from_db()
    assert (jo.response, jo.answered_via) == (R.ONLINE, Invitation.Source.CHAIR)
    with pytest.raises(ValidationError):
        services.invitation_respond(invitation=jo, response=R.NEEDS_ACTION)
    with pytest.raises(ValidationError):
        services.invitation_respond(invitation=jo, response="maybe")
