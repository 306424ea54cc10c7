"""One test per rule of the calendar interoperability reference.

Each test is named after its rule in ``/work/shared/reference/icalendar-interop.md``
(I1-I5 invitations, U1-U3 updates, C1 cancellations, R1-R3 replies, T1-T4 time
zones, X1-X2 text, F1-F9 feeds) and checks it through the real services, mail and
feed views. Every calendar object these tests mail is also checked by four
parsers (icalendar, vobject, ical.js, libical) by the autouse fixture in
``conftest.py``; :func:`check_calendar_objects` is called here on feeds as well.

The lifecycle test at the end creates, moves, re-titles, re-links and cancels
one meeting and asserts the exact messages and SEQUENCE values one attendee gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from django.core import mail
from django.urls import reverse

from events import services
from events.ical import LONDON
from events.models import Invitation, Meeting
from events.timeutil import london_to_utc
from members import services as member_services
from members.mail.inbound import InboundKind, ingest_message
from members.models import Membership
from tests.events.conftest import (
    calendar_objects,
    calendar_part,
    calendar_text,
    check_calendar_objects,
    four_parser_instants,
    messages_to,
    parsed,
    read_calendar,
    the_event,
)
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_rules%40thread.v2/0"
NEW_TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_moved%40thread.v2/0"
VENUE = "Room 1, Russells Hall Hospital"
DIAL_IN = "+44 20 3321 5200, ID 123#"
NETWORK = "mailto:dgft.wmimagingnetwork@nhs.net"
# Thursday 4 March 2027, 10:00-11:30 London (GMT): after the tests' clock.
START = london_to_utc(date(2027, 3, 4), time(10))
END = london_to_utc(date(2027, 3, 4), time(11, 30))
EVERYONE = ["amira.khan3@nhs.net", "ben.ode@uhb.nhs.uk", "chair@nhs.net", "jo.smith@nhs.net"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and send the mail it queued, as a committed transaction would."""

    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return _run


@pytest.fixture
def schedule(sig, chair, committed):
    def _schedule(**overrides) -> Meeting:
        fields = {"title": "Spring meeting", "start": START, "end": END, "teams_url": TEAMS,
                  "venue": VENUE, "dial_in": DIAL_IN, "description": "Agenda: NAI audit"}
        fields.update(overrides)
        return committed(services.meeting_schedule, group=sig, scheduled_by=chair, **fields)

    return _schedule


def member(sig, email: str):
    return Membership.objects.get(group=sig, person__email=email).person


def personal_url(person) -> str:
    return reverse("events:personal_feed", kwargs={"token": person.calendar_token})


def group_url(group) -> str:
    return reverse("events:group_feed", kwargs={"slug": group.slug})


def attendees_of(event) -> list:
    value = event.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]


def unfolded(text: str) -> str:
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def raw_calendar_content_types(message) -> list[str]:
    """The Content-Type header lines of the text/calendar parts, as sent on the wire."""
    raw = message.message().as_bytes().decode("utf-8", "replace")
    return re.findall(r"(?im)^Content-Type: text/calendar.*$", raw)


@dataclass
class Sent:
    """One calendar message as a client sees it."""

    message: object
    mime_method: str
    calendar: icalendar.Calendar
    event: icalendar.Event
    text: str


def sent_to(address: str) -> list[Sent]:
    found = []
    for message in messages_to(mail.outbox, address):
        part = calendar_part(message)
        text = calendar_text(message)
        cal, _ = read_calendar(text)
        found.append(Sent(message, part.get_param("method"), cal, the_event(cal), text))
    return found


# --- The lifecycle: created, moved, re-titled, new Teams link, cancelled ------------

@dataclass
class Lifecycle:
    meeting: Meeting
    steps: list[str]
    feeds: list[bytes]  # ben.ode's private feed after each step


@pytest.fixture
def lifecycle(sig, chair, clock, committed, schedule, client) -> Lifecycle:
    """One meeting taken through every change a chair can make, 7 minutes apart."""
    ben = member(sig, "ben.ode@uhb.nhs.uk")
    feeds = []
    meeting = schedule()
    feeds.append(client.get(personal_url(ben)).content)
    changes = [
        {"start": START + timedelta(days=1), "end": END + timedelta(days=1)},  # moved
        {"title": "Spring meeting: NAI audit"},  # re-titled
        {"teams_url": NEW_TEAMS},  # a new Teams link
    ]
    for change in changes:
        clock.advance(minutes=7)
        committed(services.meeting_update, meeting=meeting, updated_by=chair, **change)
        feeds.append(client.get(personal_url(ben)).content)
    clock.advance(minutes=7)
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    feeds.append(client.get(personal_url(ben)).content)
    meeting.refresh_from_db()
    return Lifecycle(meeting, ["created", "moved", "re-titled", "new Teams link", "cancelled"],
                     feeds)


def test_lifecycle_created_moved_retitled_relinked_cancelled_sends_exactly_the_rule_messages(
        lifecycle):
    sent = sent_to("ben.ode@uhb.nhs.uk")
    observed = [
        (s.mime_method, str(s.calendar["METHOD"]), s.event["SEQUENCE"], str(s.event["STATUS"]),
         str(s.event["UID"]), s.event["DTSTAMP"].dt) for s in sent
    ]
    report = "; ".join(
        f"{step}: METHOD {method} (MIME method={mime}) SEQUENCE {sequence} {status} "
        f"DTSTAMP {stamp:%Y-%m-%dT%H:%M:%SZ}"
        for step, (mime, method, sequence, status, _uid, stamp)
        in zip(lifecycle.steps, observed, strict=False))
    report = f"observed {len(observed)} messages: {report}"

    assert len(observed) == 5, report
    assert [o[1] for o in observed] == ["REQUEST"] * 4 + ["CANCEL"], report
    assert [o[0] for o in observed] == [o[1] for o in observed], report  # I1, every time
    assert [o[2] for o in observed] == [0, 1, 2, 3, 4], report
    assert [o[3] for o in observed] == ["CONFIRMED"] * 4 + ["CANCELLED"], report
    assert {o[4] for o in observed} == {lifecycle.meeting.uid}, report
    stamps = [o[5] for o in observed]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False)), report
    assert lifecycle.meeting.sequence == 4
    # Each message carries its change.
    assert sent[1].event["DTSTART"].dt.astimezone(UTC) == START + timedelta(days=1)
    assert str(sent[2].event["SUMMARY"]) == "Spring meeting: NAI audit"
    assert NEW_TEAMS in str(sent[3].event["LOCATION"])
    assert [s.message.subject.split(":")[0] for s in sent] == [
        "Invitation", "Updated invitation", "Updated invitation", "Updated invitation",
        "Cancelled"]


# --- I: invitation emails ------------------------------------------------------------

def test_I1_calendar_part_content_type_carries_the_method_written_inside(sig, schedule,
                                                                         chair, committed):
    meeting = schedule()
    committed(member_services.membership_leave,
              membership=Membership.objects.get(group=sig, person__email="jo.smith@nhs.net"))
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    assert len(mail.outbox) == 4 + 1 + 3
    for message in mail.outbox:
        method = str(read_calendar(calendar_text(message))[0]["METHOD"])
        assert raw_calendar_content_types(message) == [
            f'Content-Type: text/calendar; charset="utf-8"; method={method}'], message.subject
        assert calendar_part(message).get_param("method") == method
    assert [str(read_calendar(calendar_text(m))[0]["METHOD"]) for m in mail.outbox] == (
        ["REQUEST"] * 4 + ["CANCEL"] * 4)


def test_I2_calendar_part_is_inline_in_multipart_alternative_with_invite_ics(
        sig, schedule, chair, committed):
    meeting = schedule()
    committed(services.meeting_update, meeting=meeting, updated_by=chair, venue="Room 2")
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    for message in mail.outbox:
        root = parsed(message)
        assert root.get_content_type() == "multipart/mixed"
        alternative, attachment = root.get_payload()
        assert alternative.get_content_type() == "multipart/alternative"
        plain, html, calendar = alternative.get_payload()
        assert [p.get_content_type() for p in (plain, html, calendar)] == [
            "text/plain", "text/html", "text/calendar"]
        assert calendar.get("Content-Disposition") is None, message.subject  # inline
        assert attachment.get_content_type() == "application/ics"
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename() == "invite.ics"
        # The attachment is the same object as the inline part.
        [(_, inline), (_, attached)] = calendar_objects(message)
        assert inline == attached


def test_I3_one_vevent_and_version_prodid_method_in_every_message(sig, schedule, chair,
                                                                  committed):
    meeting = schedule()
    committed(services.meeting_update, meeting=meeting, updated_by=chair, title="Renamed")
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    assert len(mail.outbox) == 12
    for message in mail.outbox:
        text = calendar_text(message)
        cal, _ = read_calendar(text)
        assert text.count("BEGIN:VEVENT\r\n") == 1 and len(cal.walk("VEVENT")) == 1
        assert str(cal["VERSION"]) == "2.0"
        assert str(cal["PRODID"]) == "-//West Midlands Imaging Network//SIG Hub//EN"
        assert str(cal["METHOD"]) in ("REQUEST", "CANCEL")
        assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")


def test_I4_request_has_every_property_and_its_recipient_as_attendee(sig, schedule):
    priya = PersonFactory(full_name="Priya Shah", email="priya.shah@nhs.net")
    MembershipFactory(group=sig, person=priya)
    meeting = schedule()
    recipients = sorted(address for m in mail.outbox for address in m.to)
    # One message per attendee, each to one address, nobody copied.
    assert len(recipients) == len(set(recipients)) == 5
    for message in mail.outbox:
        assert len(message.to) == 1 and not message.cc and not message.bcc
        text = calendar_text(message)
        event = the_event(read_calendar(text)[0])
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "SEQUENCE"):
            assert name in event, (name, message.subject)
        assert str(event["UID"]) == meeting.uid
        assert re.search(r"^DTSTAMP:\d{8}T\d{6}Z\r$", text, re.M)  # UTC, ends in Z
        assert str(event["ORGANIZER"]) == NETWORK
        assert event["ORGANIZER"].params["CN"] == "West Midlands Imaging Network"
        assert event["SEQUENCE"] == 0
        # The recipient's line: exactly the To: address (case and all).
        [mine] = [a for a in attendees_of(event) if str(a) == f"mailto:{message.to[0]}"]
        assert dict(mine.params) == {
            "CN": mine.params["CN"], "CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
        assert mine.params["CN"]
        assert f":mailto:{message.to[0]}\r\n" in unfolded(text)
    assert len(messages_to(mail.outbox, priya.email)) == 1


def test_I5_joining_details_in_location_description_and_both_bodies(sig, schedule, chair,
                                                                    committed):
    meeting = schedule()
    committed(services.meeting_update, meeting=meeting, updated_by=chair, teams_url=NEW_TEAMS)
    first, update = sent_to("amira.khan3@nhs.net")
    for sent, link, old in ((first, TEAMS, None), (update, NEW_TEAMS, TEAMS)):
        location = str(sent.event["LOCATION"])
        description = str(sent.event["DESCRIPTION"])
        root = parsed(sent.message)
        bodies = [root.get_body(preferencelist=(kind,)).get_content()
                  for kind in ("plain", "html")]
        assert link in location and VENUE in location
        for text in (description, *bodies):
            assert link in text and VENUE in text and DIAL_IN in text
            if old:
                assert old not in text
        if old:
            assert old not in location


# --- U and C: updates and cancellations ---------------------------------------------

def test_U1_one_uid_for_life_in_every_message_and_the_feed(lifecycle):
    uids = {str(the_event(read_calendar(calendar_text(m))[0])["UID"]) for m in mail.outbox}
    assert uids == {lifecycle.meeting.uid}
    assert len(mail.outbox) == 4 * 5
    for feed in lifecycle.feeds:
        cal, _ = read_calendar(feed)
        assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [lifecycle.meeting.uid]


def test_U1_each_meeting_has_its_own_uid(schedule):
    one, two = schedule(), schedule(title="Another")
    assert one.uid and two.uid and one.uid != two.uid


def test_U2_every_message_has_a_higher_sequence_and_later_dtstamp(lifecycle):
    for address in EVERYONE:
        sent = sent_to(address)
        sequences = [s.event["SEQUENCE"] for s in sent]
        stamps = [s.event["DTSTAMP"].dt for s in sent]
        modified = [s.event["LAST-MODIFIED"].dt for s in sent]
        assert sequences == [0, 1, 2, 3, 4], address
        for series in (stamps, modified):
            assert all(a < b for a, b in zip(series, series[1:], strict=False)), address


def test_U2_a_rejoiner_gets_a_sequence_above_the_cancel_they_had(sig, chair, schedule,
                                                                 committed, clock):
    schedule()
    leaver = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net")
    clock.advance(minutes=1)
    committed(member_services.membership_leave, membership=leaver)
    clock.advance(minutes=1)
    committed(member_services.membership_appoint_chair, group=sig, person=leaver.person)
    sent = sent_to("jo.smith@nhs.net")
    assert [(s.mime_method, s.event["SEQUENCE"]) for s in sent] == [
        ("REQUEST", 0), ("CANCEL", 1), ("REQUEST", 2)]
    stamps = [s.event["DTSTAMP"].dt for s in sent]
    assert stamps[0] < stamps[1] < stamps[2]


def test_U3_updates_are_requests_with_organizer_and_the_full_attendee_list(lifecycle):
    updates = [m for m in mail.outbox if m.subject.startswith("Updated invitation")]
    assert len(updates) == 3 * 4
    for message in updates:
        cal, _ = read_calendar(calendar_text(message))
        assert str(cal["METHOD"]) == "REQUEST" != "PUBLISH"
        assert calendar_part(message).get_param("method") == "REQUEST"
        event = the_event(cal)
        assert str(event["ORGANIZER"]) == NETWORK
        assert sorted(str(a).removeprefix("mailto:") for a in attendees_of(event)) == EVERYONE


def test_C1_cancellation_is_cancel_with_everything_the_rule_lists(lifecycle):
    for address in EVERYONE:
        *before, cancel = sent_to(address)
        assert cancel.mime_method == str(cancel.calendar["METHOD"]) == "CANCEL"
        assert str(cancel.event["UID"]) == lifecycle.meeting.uid
        assert cancel.event["SEQUENCE"] > max(s.event["SEQUENCE"] for s in before)
        assert cancel.event["DTSTAMP"].dt > max(s.event["DTSTAMP"].dt for s in before)
        assert str(cancel.event["STATUS"]) == "CANCELLED"
        assert str(cancel.event["ORGANIZER"]) == NETWORK
        assert sorted(str(a).removeprefix("mailto:") for a in attendees_of(cancel.event)) == (
            EVERYONE)


def test_C1_removing_one_person_is_a_cancel_to_that_person_only(sig, schedule, clock,
                                                                committed):
    meeting = schedule()
    mail.outbox.clear()
    clock.advance(minutes=3)
    committed(member_services.membership_leave,
              membership=Membership.objects.get(group=sig, person__email="amira.khan3@nhs.net"))
    assert [m.to for m in mail.outbox] == [["amira.khan3@nhs.net"]]
    [cancel] = sent_to("amira.khan3@nhs.net")
    assert cancel.mime_method == str(cancel.calendar["METHOD"]) == "CANCEL"
    assert str(cancel.event["UID"]) == meeting.uid
    assert cancel.event["SEQUENCE"] == 1
    assert str(cancel.event["STATUS"]) == "CANCELLED"
    assert cancel.event["DTSTAMP"].dt == clock.now
    assert str(cancel.event["ORGANIZER"]) == NETWORK
    assert [str(a) for a in attendees_of(cancel.event)] == ["mailto:amira.khan3@nhs.net"]
    meeting.refresh_from_db()
    assert not meeting.is_cancelled


# --- R: replies from attendees (the corpus in tests/events/replies/) ---------------

@pytest.fixture
def reply_meeting():
    from tests.events.replies import make_reply_meeting

    return make_reply_meeting()


def _outcome(name: str):
    from tests.events.replies import corpus_bytes

    result = ingest_message(corpus_bytes(name))
    assert result.kind == InboundKind.CALENDAR, name
    [outcome] = result.outcomes
    return outcome


def test_R1_an_outlook_reply_without_organizer_in_a_windows_zone_is_read(reply_meeting):
    from tests.events.replies import corpus_bytes

    raw = corpus_bytes("outlook-exchange-accepted.eml")
    assert b"method=REPLY" in raw
    outcome = _outcome("outlook-exchange-accepted.eml")
    assert outcome.recorded and outcome.attendee == "jo.smith@nhs.net"
    invitation = Invitation.objects.get(meeting=reply_meeting, person__email="jo.smith@nhs.net")
    assert invitation.response == Invitation.Response.ATTENDING
    assert invitation.answered_via == Invitation.Source.CALENDAR
    # The COMMENT is the attendee's note.
    assert _outcome("outlook-comment-declined.eml").recorded
    priya = Invitation.objects.get(meeting=reply_meeting, person__email="priya.shah@nhs.net")
    assert priya.response == Invitation.Response.APOLOGIES
    assert priya.note.startswith("Sorry, I'm on the CT rota that afternoon.")


def test_R2_matched_on_uid_and_address_case_insensitively_old_sequence_ignored(
        reply_meeting):
    from events.replies import Reason

    assert _outcome("outlook-desktop-uppercase-mailto.eml").recorded  # MAILTO:CHRIS.EVANS@..
    assert Invitation.objects.get(meeting=reply_meeting,
                                  person__email="chris.evans@nhs.net").response == (
        Invitation.Response.ATTENDING)
    assert _outcome("outlook-old-sequence.eml").reason == Reason.OLD_SEQUENCE
    assert _outcome("outlook-unknown-uid.eml").reason == Reason.UNKNOWN_UID
    assert _outcome("outlook-uninvited-address.eml").reason == Reason.NOT_INVITED


@pytest.mark.parametrize(("name", "address"), [
    ("outlook-com-top-level.eml", "ben.ode@uhb.nhs.uk"),  # the whole message
    ("gmail-accepted.eml", "rachel.okafor@swbh.nhs.uk"),  # nested, and again as invite.ics
    ("apple-mail-tentative.eml", "amira.khan3@nhs.net"),  # an attachment only
])
def test_R3_the_calendar_part_is_found_anywhere_in_the_mime_tree(reply_meeting, name, address):
    outcome = _outcome(name)
    assert outcome.recorded and outcome.attendee == address


# --- T: time zones -------------------------------------------------------------------

DT_LINE = re.compile(r"^(DTSTART|DTEND)([;:][^\r\n]*)$", re.M)


def _time_lines(text: str) -> list[str]:
    """DTSTART/DTEND lines of the VEVENTs (not the VTIMEZONE's)."""
    events = re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", unfolded(text), re.S)
    return [m.group(0) for event in events for m in DT_LINE.finditer(event.replace("\r", ""))]


def test_T1_or_T2_times_are_utc_or_europe_london_with_the_rule_vtimezone(sig, schedule,
                                                                         client):
    usual = schedule()
    # 01:30 on 31 October 2027 happens twice: either instant is written in UTC (T1).
    bst = schedule(start=datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
                   end=datetime(2027, 10, 31, 0, 45, tzinfo=UTC))
    gmt = schedule(start=datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
                   end=datetime(2027, 10, 31, 1, 45, tzinfo=UTC))
    messages = messages_to(mail.outbox, "chair@nhs.net")
    texts = {meeting.pk: calendar_text(m) for meeting, m in zip((usual, bst, gmt), messages,
                                                                  strict=True)}
    assert _time_lines(texts[usual.pk]) == [
        "DTSTART;TZID=Europe/London:20270304T100000",
        "DTEND;TZID=Europe/London:20270304T113000"]
    assert _time_lines(texts[bst.pk]) == ["DTSTART:20271031T003000Z", "DTEND:20271031T004500Z"]
    assert _time_lines(texts[gmt.pk]) == ["DTSTART:20271031T013000Z", "DTEND:20271031T014500Z"]
    feed = client.get(personal_url(member(sig, "chair@nhs.net"))).content.decode()
    for text in (*texts.values(), feed):
        for line in _time_lines(text):
            assert re.fullmatch(r"DT(START|END)(:\d{8}T\d{6}Z|;TZID=Europe/London:\d{8}T\d{6})",
                                line), line
        [vtimezone] = read_calendar(text)[0].walk("VTIMEZONE")
        assert str(vtimezone["TZID"]) == "Europe/London"
        daylight, standard = vtimezone.walk("DAYLIGHT"), vtimezone.walk("STANDARD")
        assert len(daylight) == len(standard) == 1
        assert (daylight[0]["TZOFFSETFROM"].td, daylight[0]["TZOFFSETTO"].td) == (
            timedelta(0), timedelta(hours=1))
        assert (standard[0]["TZOFFSETFROM"].td, standard[0]["TZOFFSETTO"].td) == (
            timedelta(hours=1), timedelta(0))
    check_calendar_objects([("the chair's private feed", feed)])
    # Every parser gets the two October instants apart.
    for meeting in (bst, gmt):
        instants = four_parser_instants(texts[meeting.pk])
        assert {parser: found[0][0] for parser, found in instants.items()} == dict.fromkeys(
            instants, meeting.start)


def test_T3_vtimezone_is_ours_not_the_librarys_generated_one(sig, schedule, chair,
                                                             committed, client, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rule T3: never the icalendar library's generated time zones")

    monkeypatch.setattr(icalendar.Calendar, "add_missing_timezones", refuse)
    monkeypatch.setattr(icalendar.Timezone, "from_tzid", refuse)
    meeting = schedule()
    committed(services.meeting_cancel, meeting=meeting, cancelled_by=chair)
    texts = [calendar_text(m) for m in mail.outbox]
    texts += [client.get(url).content.decode()
              for url in (personal_url(chair), group_url(sig))]
    for text in texts:
        assert "RDATE" not in text
        [block] = re.findall(r"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", text, re.S)
        assert block == (
            "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"
            "BEGIN:STANDARD\r\nDTSTART:19701025T020000\r\n"
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
            "TZNAME:GMT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n"
            "BEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\n"
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
            "TZNAME:BST\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\n"
            "END:VTIMEZONE\r\n")
        assert block.count("BEGIN:STANDARD") == 1 and block.count("BEGIN:DAYLIGHT") == 1


@pytest.mark.parametrize("day", [
    date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29),  # around the last Sunday of March
    date(2027, 10, 30), date(2027, 10, 31), date(2027, 11, 1),  # and of October
])
def test_T4_every_tzid_has_its_vtimezone_and_no_time_floats(sig, schedule, client, day):
    start = london_to_utc(day, time(10))
    schedule(start=start, end=start + timedelta(hours=1))
    texts = [calendar_text(m) for m in mail.outbox]
    texts += [client.get(url).content.decode()
              for url in (personal_url(member(sig, "chair@nhs.net")), group_url(sig))]
    for text in texts:
        cal, _ = read_calendar(text)
        defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
        used = set(re.findall(r";TZID=([^:;]+)[:;]", unfolded(text)))
        assert used <= defined and used == {"Europe/London"}
        for line in _time_lines(text):
            assert line.endswith("Z") or ";TZID=" in line, f"floating time: {line}"
        instants = four_parser_instants(text)
        assert {parser: found[0][0] for parser, found in instants.items()} == dict.fromkeys(
            instants, start)
    assert start.astimezone(LONDON).hour == 10


# --- X: text -------------------------------------------------------------------------

MULTIBYTE_TITLE = "Zoë Łukasz Siân — 📅 Paediatric MSK ultrasound: Núñez, Øyvind & Ødegård 📅"


def test_X1_crlf_and_folded_at_75_octets_never_inside_a_utf8_character(sig, schedule,
                                                                      client):
    description = ("Zoë Łukasz Siân — 📅 Café ½ day ✓ " * 12).strip()
    schedule(title=MULTIBYTE_TITLE, description=description, venue="Ysbyty Gwynedd — Bangor")
    raws = []
    for message in mail.outbox:
        [content] = [c for c, mimetype in message.alternatives
                     if mimetype.startswith("text/calendar")]
        raws.append(content.encode("utf-8"))  # the object as handed to the mail
        attachment = next(p for p in parsed(message).walk() if p.get_filename() == "invite.ics")
        raws.append(attachment.get_payload(decode=True))  # byte-exact (base64)
    raws += [client.get(url).content
             for url in (personal_url(member(sig, "chair@nhs.net")), group_url(sig))]
    for raw in raws:
        assert raw.endswith(b"\r\n")
        assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
        lines = raw.split(b"\r\n")[:-1]
        assert any(line.startswith(b" ") for line in lines), "long lines are folded"
        for line in lines:
            assert len(line) <= 75, line
            line.decode("utf-8")  # raises if a fold fell inside a character
        cal, _ = read_calendar(raw)
        event = cal.walk("VEVENT")[0]
        assert str(event["SUMMARY"]) == MULTIBYTE_TITLE
        if "DESCRIPTION" in event and "SIG Hub" in str(event["DESCRIPTION"]):
            assert description in str(event["DESCRIPTION"])


def test_X2_text_values_escaped_and_cn_quoted_without_double_quotes(sig, schedule):
    MembershipFactory(group=sig, person=PersonFactory(
        full_name='O\'Brien, Siân; "Vonnie": Lead', email="s.obrien@nhs.net"))
    MembershipFactory(group=sig, person=PersonFactory(full_name="Tom Hughes",
                                                      email="tom.hughes@nhs.net"))
    title = r"Audit; review, and C:\scans\new"
    description = "Line one, with a comma;\nline two \\ backslash"
    schedule(title=title, description=description, venue="Room 3; Level 2, Main Building")
    text = calendar_text(messages_to(mail.outbox, "s.obrien@nhs.net")[0])
    flat = unfolded(text)
    assert "SUMMARY:Audit\\; review\\, and C:\\\\scans\\\\new\r\n" in flat
    assert "Line one\\, with a comma\\;\\nline two \\\\ backslash" in flat
    assert "Room 3\\; Level 2\\, Main Building" in flat
    event = the_event(read_calendar(text)[0])
    assert str(event["SUMMARY"]) == title
    assert description in str(event["DESCRIPTION"])
    # CN: quoted when it has , ; or : ... and never with double quotes inside.
    assert 'CN="O\'Brien, Siân; Vonnie: Lead";' in flat
    assert 'CN="Smith, Jo JJ";' in flat
    assert re.search(r'CN="?Tom Hughes"?;', flat)  # quoting is optional without , ; :
    names = {str(a): a.params["CN"] for a in attendees_of(event)}
    assert names["mailto:s.obrien@nhs.net"] == "O'Brien, Siân; Vonnie: Lead"
    for line in re.findall(r"^(?:ATTENDEE|ORGANIZER)[^\r\n]*", flat, re.M):
        params = line.split(":mailto:")[0]
        assert params.count('"') in (0, 2), line


# --- F: subscription feeds -----------------------------------------------------------

@pytest.fixture
def feed_meeting(schedule):
    return schedule()


@pytest.mark.parametrize("accept", [None, "text/html", "application/json", "*/*",
                                    "text/calendar", "text/plain;q=0.9"])
def test_F1_feeds_are_always_text_calendar_utf8(client, sig, feed_meeting, accept):
    headers = {"accept": accept} if accept else {}
    for url in (personal_url(member(sig, "jo.smith@nhs.net")), group_url(sig)):
        for response in (client.get(url, headers=headers), client.head(url, headers=headers)):
            assert response.status_code == 200
            assert response["Content-Type"] == "text/calendar; charset=utf-8"


def test_F2_no_method_names_and_refresh_hints(client, sig, feed_meeting):
    for url, name in ((personal_url(member(sig, "jo.smith@nhs.net")),
                       "West Midlands Imaging Network SIG meetings"),
                      (group_url(sig), "Paediatric Imaging SIG meetings")):
        body = client.get(url).content
        text = body.decode()
        cal, _ = read_calendar(body)
        assert "METHOD" not in cal and "\r\nMETHOD:" not in text
        assert str(cal["NAME"]) == str(cal["X-WR-CALNAME"]) == name
        assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
        assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
        assert "1:00:00" not in text
        assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
        check_calendar_objects([(url, text)])


def test_F3_https_and_webcal_links_on_the_pages_under_256_characters(client, sig, feed_meeting):
    jo = member(sig, "jo.smith@nhs.net")
    client.force_login(jo)
    pages = {
        reverse("members:my_memberships"): personal_url(jo),
        reverse("events:group_detail", kwargs={"slug": sig.slug}): group_url(sig),
    }
    for page, path in pages.items():
        html = client.get(page).content.decode()
        https = f"https://sighub.example.nhs.uk{path}"
        webcal = f"webcal://sighub.example.nhs.uk{path}"
        assert f'value="{https}"' in html, page
        assert f'value="{webcal}"' in html or f'href="{webcal}"' in html, page
        assert len(https) < 256 and len(webcal) < 256
        client.logout()
        assert client.get(path)["Content-Type"] == "text/calendar; charset=utf-8"
        client.force_login(jo)


def test_F4_feed_has_the_invitation_uid_and_rising_sequence_and_last_modified(lifecycle):
    events = [read_calendar(feed)[0].walk("VEVENT")[0] for feed in lifecycle.feeds]
    sent = sent_to("ben.ode@uhb.nhs.uk")
    assert [str(e["UID"]) for e in events] == [str(s.event["UID"]) for s in sent]
    assert [e["SEQUENCE"] for e in events] == [s.event["SEQUENCE"] for s in sent] == [
        0, 1, 2, 3, 4]
    modified = [e["LAST-MODIFIED"].dt for e in events]
    assert all(a < b for a, b in zip(modified, modified[1:], strict=False))
    assert modified == [s.event["LAST-MODIFIED"].dt for s in sent]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED"] * 4 + ["CANCELLED"]


def test_F5_etag_follows_everything_rendered_and_304_only_when_unchanged(
        client, sig, chair, feed_meeting, clock, committed):
    urls = (personal_url(member(sig, "jo.smith@nhs.net")), group_url(sig))
    etags = {url: client.get(url)["ETag"] for url in urls}

    def check(*, changed: bool):
        for url in urls:
            response = client.get(url, headers={"if-none-match": etags[url]})
            fresh = client.get(url)
            if changed:
                assert response.status_code == 200 and fresh["ETag"] != etags[url], url
                assert response.content == fresh.content
            else:
                assert response.status_code == 304 and response.content == b"", url
                assert fresh["ETag"] == etags[url]
            etags[url] = fresh["ETag"]

    clock.advance(hours=3)
    check(changed=False)  # time passing alone changes nothing rendered
    committed(services.meeting_update, meeting=feed_meeting, updated_by=chair, title="Renamed")
    check(changed=True)
    check(changed=False)
    sig.name = "Paediatric and Neonatal Imaging"  # the calendar's name, not a meeting
    sig.save()
    check(changed=True)
    response = client.get(urls[0])
    assert response["Last-Modified"] == "Mon, 11 Jan 2027 12:00:00 GMT"


def test_F6_a_cancelled_meeting_stays_struck_through_for_30_days(client, sig, chair,
                                                                 feed_meeting, clock,
                                                                 committed):
    clock.advance(hours=1)
    committed(services.meeting_cancel, meeting=feed_meeting, cancelled_by=chair)
    urls = (personal_url(member(sig, "jo.smith@nhs.net")), group_url(sig))
    clock.advance(days=29, hours=23)
    for url in urls:
        [event] = read_calendar(client.get(url).content)[0].walk("VEVENT")
        assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1
    clock.advance(hours=2)
    for url in urls:
        assert read_calendar(client.get(url).content)[0].walk("VEVENT") == []


def test_F7_no_organizer_and_no_attendees_in_feeds(client, sig, feed_meeting):
    invitation = Invitation.objects.get(meeting=feed_meeting, person__email="jo.smith@nhs.net")
    services.invitation_respond(invitation=invitation, response=Invitation.Response.APOLOGIES)
    for url in (personal_url(member(sig, "jo.smith@nhs.net")), group_url(sig)):
        text = client.get(url).content.decode()
        for absent in ("ORGANIZER", "ATTENDEE", "RSVP", "PARTSTAT", "mailto:"):
            assert absent not in text, (url, absent)


def test_F8_meetings_are_timed_never_all_day_and_end_after_they_start(client, sig, schedule):
    # A meeting from midnight to midnight is still a timed event, not an all-day one;
    # SIG Hub has no all-day items, so no VALUE=DATE with an exclusive DTEND is needed.
    start = london_to_utc(date(2027, 6, 1), time(0))
    schedule(start=start, end=london_to_utc(date(2027, 6, 2), time(0)))
    for url in (personal_url(member(sig, "jo.smith@nhs.net")), group_url(sig)):
        text = client.get(url).content.decode()
        assert "VALUE=DATE" not in text
        [event] = read_calendar(text)[0].walk("VEVENT")
        assert isinstance(event["DTSTART"].dt, datetime)
        assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(days=1)
        assert "DTSTART;TZID=Europe/London:20270601T000000" in text
        assert "DTEND;TZID=Europe/London:20270602T000000" in text


def test_F9_private_feeds_are_secret_per_person_revocable_and_refused_once_revoked(
        client, sig, feed_meeting):
    jo, amira = member(sig, "jo.smith@nhs.net"), member(sig, "amira.khan3@nhs.net")
    assert jo.calendar_token != amira.calendar_token
    assert len(jo.calendar_token) >= 32
    old = personal_url(jo)
    response = client.get(old)  # no session: calendar apps send no cookies
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert response["Cache-Control"] == "private, no-cache"
    client.force_login(jo)
    assert client.get(reverse("members:calendar_reset")).status_code == 405  # POST only
    client.post(reverse("members:calendar_reset"))
    client.logout()
    jo.refresh_from_db()
    assert client.get(old).status_code == 404  # revoked
    assert client.get(personal_url(jo)).status_code == 200
    assert client.get(personal_url(amira)).status_code == 200  # others' links unaffected
    assert client.get(reverse("events:personal_feed", kwargs={"token": "x" * 43})
                      ).status_code == 404


# --- The four-parser check itself (the autouse fixture in conftest.py) ----------------

def _object(dtstart: str, dtend: str, *, vtimezone: bool = True) -> str:
    from events.ical import london_vtimezone

    zone = london_vtimezone().to_ical().decode() if vtimezone else ""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + zone
        + "BEGIN:VEVENT\r\nUID:check@sighub\r\nDTSTAMP:20270111T090000Z\r\n"
        f"DTSTART{dtstart}\r\nDTEND{dtend}\r\nSUMMARY:Check\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.mark.parametrize(("dtstart", "dtend", "vtimezone", "finding"), [
    # A TZID local time in the repeated October hour: ical.js and libical read GMT.
    (";TZID=Europe/London:20271031T013000", ";TZID=Europe/London:20271031T014500", True,
     "reads start/end"),
    # A TZID without its VTIMEZONE (rule T4): ical.js floats it.
    (";TZID=Europe/London:20270304T100000", ";TZID=Europe/London:20270304T110000", False,
     "floating"),
    # A floating time (rule T4).
    (":20270304T100000", ":20270304T110000", True, "floating"),
])
def test_the_four_parser_check_finds_what_one_parser_reads_differently(dtstart, dtend,
                                                                       vtimezone, finding):
    text = _object(dtstart, dtend, vtimezone=vtimezone)
    with pytest.raises(AssertionError, match=finding) as error:
        check_calendar_objects([("the message 'Check' to x@nhs.net", text)])
    assert "the message 'Check' to x@nhs.net" in str(error.value)
    check_calendar_objects([("fine", _object(":20271031T003000Z", ":20271031T004500Z"))])
