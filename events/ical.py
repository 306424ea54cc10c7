"""Meetings as iCalendar: pure functions, meeting in, text out.

Two kinds of output, kept apart (house style, after pretix ``presale/ical.py``):

* :func:`invitation_calendar` - an iMIP object (RFC 6047) for one email to one
  attendee: ``METHOD:REQUEST`` or ``METHOD:CANCEL`` (RFC 5546 3.2.2, 3.2.5),
  one VEVENT with ORGANIZER and the full ATTENDEE list.
* :func:`feed_calendar` - a subscription feed (RFC 5545 with the RFC 7986
  calendar properties): no METHOD, no ORGANIZER, no ATTENDEE (rules F2, F7).

Both write times as ``TZID=Europe/London`` with the one hand-built VTIMEZONE
of rule T2 (:func:`london_vtimezone`), except a time in the hour the clocks
repeat in October, which is written in UTC (rule T1; :func:`ical_datetime`),
and let the ``icalendar`` library serialise: CRLF, folding at 75 octets, TEXT
escaping (rules X1, X2). The rule numbers refer to
``/work/shared/reference/icalendar-interop.md``.

Nothing here touches the database beyond the attributes of the objects passed
in (``meeting.group`` must be loaded for feeds and descriptions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
)

LONDON = ZoneInfo("Europe/London")
PRODID = "-//West Midlands Imaging Network//SIG Hub//EN"
# How long a cancelled meeting stays in feeds with STATUS:CANCELLED (rule F6).
CANCELLED_KEPT_FOR = timedelta(days=30)
# Feed refresh hint (rule F2; clients treat it as a hint only).
FEED_REFRESH = timedelta(hours=1)

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"

# Our answers as iCalendar participation statuses (RFC 5545 3.2.12, RFC 5546
# 3.2.2): attending in any mode (in person, online, or not saying how) is
# ACCEPTED; tentative TENTATIVE; apologies DECLINED.
PARTSTAT_FOR_RESPONSE = {
    "needs_action": "NEEDS-ACTION",
    "in_person": "ACCEPTED",
    "online": "ACCEPTED",
    "attending": "ACCEPTED",
    "tentative": "TENTATIVE",
    "apologies": "DECLINED",
}
# An in-person answer still on the waiting list has no place yet: TENTATIVE.
PARTSTAT_WHILE_WAITING = "TENTATIVE"


@dataclass(frozen=True)
class Attendee:
    """One ATTENDEE line: address (exactly as in the email's To:), name, PARTSTAT."""

    email: str
    name: str = ""
    partstat: str = "NEEDS-ACTION"


def attendee_from_invitation(invitation) -> Attendee:
    """An :class:`Attendee` from an ``events.Invitation`` (its ``person`` must be loaded).

    The address is ``person.email``, the same string the invitation email is
    sent To (rule I4); PARTSTAT follows the person's recorded answer
    (:data:`PARTSTAT_FOR_RESPONSE`), except that someone on the in-person
    waiting list (``waitlisted_at`` set) is TENTATIVE until a place frees.
    """
    person = invitation.person
    if getattr(invitation, "waitlisted_at", None) is not None:
        partstat = PARTSTAT_WHILE_WAITING
    else:
        partstat = PARTSTAT_FOR_RESPONSE.get(invitation.response, "NEEDS-ACTION")
    return Attendee(email=person.email, name=person.get_full_name(), partstat=partstat)


def london_vtimezone() -> Timezone:
    """The Europe/London VTIMEZONE of rule T2, built by hand.

    Exactly one STANDARD and one DAYLIGHT block, each with an RRULE and no
    RDATE (RFC 5545 3.6.5; MS-STANOICAL: Outlook reads only TZID, DTSTART,
    RRULE, TZOFFSETFROM and TZOFFSETTO). Clocks go forward at 01:00 UTC on the
    last Sunday of March and back at 01:00 UTC (02:00 BST) on the last Sunday
    of October. Never ``add_missing_timezones``/``Timezone.from_tzid`` (rule T3).
    """
    daylight = TimezoneDaylight()
    daylight.add("tzname", "BST")
    daylight.add("tzoffsetfrom", timedelta(0))
    daylight.add("tzoffsetto", timedelta(hours=1))
    daylight.add("dtstart", datetime(1970, 3, 29, 1, 0))  # noqa: DTZ001 - local time by design
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})

    standard = TimezoneStandard()
    standard.add("tzname", "GMT")
    standard.add("tzoffsetfrom", timedelta(hours=1))
    standard.add("tzoffsetto", timedelta(0))
    standard.add("dtstart", datetime(1970, 10, 25, 2, 0))  # noqa: DTZ001 - local time by design
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})

    vtimezone = Timezone()
    vtimezone.add("tzid", "Europe/London")
    vtimezone.add_component(standard)
    vtimezone.add_component(daylight)
    return vtimezone


def london_time_is_ambiguous(moment: datetime) -> bool:
    """Whether the Europe/London wall time of ``moment`` (aware) happens twice.

    True only in the hour the clocks go back (01:00-01:59 local on the last
    Sunday of October), which happens once in BST and again in GMT. zoneinfo
    tells the two apart by ``fold``: the same wall time with the other fold
    has a different UTC offset only there. (A wall time in the March gap
    also differs by fold, but ``astimezone`` never gives one.)
    """
    local = moment.astimezone(LONDON)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def ical_datetime(moment: datetime) -> datetime:
    """How to write the instant ``moment`` (aware) as a DTSTART or DTEND.

    Normally the London wall time, serialised ``TZID=Europe/London`` with our
    VTIMEZONE (rule T2). A wall time in the repeated October hour cannot be
    written that way: RFC 5545 3.3.5 says it means the first (BST) occurrence,
    which ``icalendar`` and ``vobject`` follow, but Mozilla's ical.js (Thunderbird)
    and libical (Evolution) take the second (GMT), so one of the two possible
    meetings would land an hour out in some clients. Such a time is written in
    UTC instead (``...Z``, rule T1), which every parser reads the same way.
    DTSTART and DTEND are decided separately (RFC 5545 allows them to differ).
    """
    if london_time_is_ambiguous(moment):
        return moment.astimezone(UTC)
    return moment.astimezone(LONDON)


def group_label(group) -> str:
    """How a group is named in calendars and emails: "Paediatric Imaging SIG"."""
    return f"{group.name} SIG" if group.is_sig else f"{group.name} (task-and-finish group)"


def meeting_url(meeting) -> str:
    """The absolute https URL of the meeting's page on SIG Hub (where members answer)."""
    return f"{settings.SITE_URL}{meeting.get_absolute_url()}"


def meeting_location(meeting) -> str:
    """LOCATION text: the venue and/or the Teams link (rule I5), or ``""``."""
    parts = []
    if meeting.venue:
        parts.append(meeting.venue)
    if meeting.teams_url:
        parts.append(f"Microsoft Teams: {meeting.teams_url}")
    return " / ".join(parts)


def joining_details(meeting) -> list[tuple[str, str]]:
    """The joining details as ``(label, value)`` pairs, in the order shown everywhere.

    Used for DESCRIPTION here and for the email's text and HTML bodies, so the
    three always carry the same Teams link, venue and dial-in (rule I5).
    """
    details = []
    if meeting.teams_url:
        details.append(("Join on Microsoft Teams", meeting.teams_url))
    if meeting.venue:
        details.append(("Venue", meeting.venue))
    if meeting.dial_in:
        details.append(("Dial-in", meeting.dial_in))
    return details


def meeting_description(meeting) -> str:
    """DESCRIPTION for invitations and the private feed: text, joining details, page link.

    A cancelled meeting's is only :func:`cancelled_description`.
    """
    if meeting.is_cancelled:
        return cancelled_description(meeting)
    paragraphs = [f"{group_label(meeting.group)} meeting."]
    if meeting.description.strip():
        paragraphs.append(meeting.description.strip())
    details = joining_details(meeting)
    if details:
        paragraphs.append("\n".join(f"{label}: {value}" for label, value in details))
    paragraphs.append(f"Answer on SIG Hub (in person, online, tentative or apologies): "
                      f"{meeting_url(meeting)}")
    return "\n\n".join(paragraphs)


def cancelled_description(meeting, *, removed: bool = False) -> str:
    """DESCRIPTION of a cancellation: no joining details and nothing to answer.

    ``removed``: the meeting goes ahead, but this attendee left the group.
    """
    if removed:
        why = f"You are no longer invited because you left the {group_label(meeting.group)}."
    else:
        why = "This meeting has been cancelled."
    return f"{group_label(meeting.group)} meeting.\n\n{why}"


def _cn(name: str) -> str:
    # Rule X2: drop double quotes from names; the library quotes CN values
    # that contain , ; : (RFC 5545 3.2: param-value may be a quoted-string).
    return " ".join(name.replace('"', "").split())


def _new_calendar() -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    return cal


def _base_event(meeting, *, dtstamp: datetime, private: bool) -> Event:
    """The VEVENT properties shared by invitations and feeds (RFC 5545 3.6.1)."""
    event = Event()
    event.add("uid", meeting.uid)  # one UID for life (rule U1, F4)
    event.add("dtstamp", dtstamp.astimezone(UTC))  # UTC, ends in Z (I4)
    # TZID=Europe/London (T2), or UTC in the repeated October hour (T1).
    event.add("dtstart", ical_datetime(meeting.start))
    event.add("dtend", ical_datetime(meeting.end))
    event.add("summary", meeting.title)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    if private and meeting.is_cancelled:
        # Nothing to join or answer (rule F6 keeps it, struck through, for a while).
        event.add("description", cancelled_description(meeting))
    elif private:
        location = meeting_location(meeting)
        if location:
            event.add("location", location)
        event.add("description", meeting_description(meeting))
        event.add("url", meeting_url(meeting))
    return event


def invitation_calendar(
    meeting,
    *,
    method: str,
    attendees: Sequence[Attendee],
    recipient: str,
    dtstamp: datetime | None = None,
    removed: bool = False,
) -> str:
    """The iMIP calendar object for one message to ``recipient``.

    Args:
        meeting: an ``events.Meeting`` (``group`` loaded); its ``uid``,
            ``sequence``, ``status`` and ``updated_at`` are written as they are.
        method: ``"REQUEST"`` (new or updated meeting, RFC 5546 3.2.2) or
            ``"CANCEL"`` (RFC 5546 3.2.5; the whole meeting, or this one
            attendee when ``attendees`` is just them).
        attendees: every ATTENDEE to list (rule U3: the full list), each
            written ``CN=..;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=..;
            RSVP=TRUE:mailto:<address>`` (rule I4; RSVP=FALSE in a CANCEL). In a REQUEST the
            recipient's own line is always PARTSTAT=NEEDS-ACTION.
        recipient: the address in the email's To:, which must be one of the
            attendees' addresses, exactly (Outlook greys out the answer
            buttons otherwise).
        dtstamp: when this message was made (aware); default now. It must be
            later than any earlier message's for the UID (rule U2).
        removed: for a CANCEL, the meeting goes ahead but ``recipient`` left
            the group and is taken off it (rule C1); otherwise the meeting is
            cancelled.

    A CANCEL carries no joining details: no LOCATION or URL, and a
    DESCRIPTION that only says the meeting is cancelled or that the
    recipient left the group. Its attendees are written RSVP=FALSE (RFC 5546
    3.2.5: no reply is expected to a cancellation).

    Returns:
        The object as text with CRLF line ends (rule X1), with METHOD, one
        VTIMEZONE (T2) and one VEVENT (I3).

    Raises:
        ValueError: for another method, or if ``recipient`` is not an attendee.
    """
    method = method.upper()
    if method not in (METHOD_REQUEST, METHOD_CANCEL):
        raise ValueError(f"An invitation's METHOD is REQUEST or CANCEL, not {method!r}.")
    if recipient not in {attendee.email for attendee in attendees}:
        raise ValueError(f"The recipient {recipient!r} must be one of the attendees (rule I4).")
    cancel = method == METHOD_CANCEL
    lines = [
        # I4: a REQUEST asks its recipient for an answer (NEEDS-ACTION); the
        # others' PARTSTAT shows the answers they gave on SIG Hub.
        _attendee_property(attendee, cancel=cancel, partstat=(
            "NEEDS-ACTION" if not cancel and attendee.email == recipient
            else attendee.partstat))
        for attendee in attendees
    ]
    return _invitation_object(meeting, method=method, dtstamp=dtstamp or timezone.now(),
                              removed=removed, attendee_lines=lines)


def _invitation_object(meeting, *, method: str, dtstamp: datetime, removed: bool,
                       attendee_lines: list[vCalAddress] | None) -> str:
    """The calendar object of an invitation, with ``attendee_lines`` as its ATTENDEEs
    (or, when None, one placeholder ATTENDEE line in their place)."""
    cal = _new_calendar()
    cal.add("method", method)
    cal.add_component(london_vtimezone())

    cancel = method == METHOD_CANCEL
    event = _base_event(meeting, dtstamp=dtstamp, private=not cancel)
    if cancel:
        # C1: a cancellation says STATUS:CANCELLED even when only one person is removed.
        event["status"] = "CANCELLED"
        event.add("description", cancelled_description(meeting, removed=removed))
    organizer = vCalAddress(f"mailto:{settings.NETWORK_MAILBOX}")
    organizer.params["cn"] = _cn(settings.NETWORK_MAILBOX_NAME)
    event.add("organizer", organizer)
    if attendee_lines is None:
        event.add("attendee", vCalAddress(_ATTENDEES_PLACEHOLDER))
    else:
        for address in attendee_lines:
            event.add("attendee", address)
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")


# Stands for the ATTENDEE lines while the rest of the object is serialised once. It
# is an ATTENDEE itself, so it sorts where they do (icalendar writes properties
# in name order).
_ATTENDEES_PLACEHOLDER = "mailto:attendees-go-here@sighub.invalid"


def _attendee_property(attendee: Attendee, *, partstat: str, cancel: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{attendee.email}")
    address.params["cn"] = _cn(attendee.name) or attendee.email
    address.params["cutype"] = "INDIVIDUAL"
    address.params["role"] = "REQ-PARTICIPANT"
    address.params["partstat"] = partstat
    # RFC 5546 3.2.5: a CANCEL expects no reply.
    address.params["rsvp"] = "FALSE" if cancel else "TRUE"
    return address


def _attendee_line(attendee: Attendee, *, partstat: str, cancel: bool) -> str:
    """One ATTENDEE content line, folded and ending CRLF, exactly as icalendar writes it."""
    event = Event()
    event.add("attendee", _attendee_property(attendee, partstat=partstat, cancel=cancel))
    text = event.to_ical().decode("utf-8")
    return text.removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")


def invitation_calendars(
    meeting,
    *,
    method: str,
    attendees: Sequence[Attendee],
    recipients: Sequence[str],
    dtstamp: datetime,
    removed: bool = False,
) -> dict[str, str]:
    """:func:`invitation_calendar` for many recipients at once: ``{recipient: text}``.

    Each text is byte-for-byte what :func:`invitation_calendar` returns for that
    recipient (same ``dtstamp``), but the object and every ATTENDEE line are
    serialised once, and each recipient's copy is spliced together from them:
    a meeting of N members costs N small serialisations instead of N times N
    (rule U3 puts the full attendee list in every message). Only the
    recipient's own line differs between copies (PARTSTAT=NEEDS-ACTION in a
    REQUEST, rule I4).

    Raises ValueError as :func:`invitation_calendar` does (a recipient who is
    not an attendee, another method).
    """
    method = method.upper()
    if method not in (METHOD_REQUEST, METHOD_CANCEL):
        raise ValueError(f"An invitation's METHOD is REQUEST or CANCEL, not {method!r}.")
    emails = [attendee.email for attendee in attendees]
    known = set(emails)
    for recipient in recipients:
        if recipient not in known:
            raise ValueError(
                f"The recipient {recipient!r} must be one of the attendees (rule I4).")
    cancel = method == METHOD_CANCEL
    # The object with one placeholder line where the ATTENDEE lines go.
    template = _invitation_object(meeting, method=method, dtstamp=dtstamp, removed=removed,
                                  attendee_lines=None)
    marker = f"ATTENDEE:{_ATTENDEES_PLACEHOLDER}\r\n"
    head, found, tail = template.partition(marker)
    if not found:  # pragma: no cover - the placeholder is always written
        raise RuntimeError("The attendee placeholder was not found in the calendar object.")
    lines = [_attendee_line(a, partstat=a.partstat, cancel=cancel) for a in attendees]
    position = {email: index for index, email in enumerate(emails)}
    calendars = {}
    for recipient in recipients:
        index = position[recipient]
        own = attendees[index]
        if method == METHOD_REQUEST and own.partstat != "NEEDS-ACTION":
            own_line = _attendee_line(own, partstat="NEEDS-ACTION", cancel=cancel)
            calendars[recipient] = "".join(
                [head, *lines[:index], own_line, *lines[index + 1:], tail])
        else:
            calendars[recipient] = "".join([head, *lines, tail])
    return calendars


def feed_includes(meeting, *, now: datetime) -> bool:
    """Whether a meeting belongs in a feed at ``now`` (rule F6).

    Scheduled meetings always do; a cancelled one for
    :data:`CANCELLED_KEPT_FOR` after its cancellation, so calendars that keep
    it strike it through, then it drops out.
    """
    if not meeting.is_cancelled:
        return True
    cancelled_at = meeting.cancelled_at or meeting.updated_at
    return cancelled_at > now - CANCELLED_KEPT_FOR


def feed_calendar(
    meetings: Iterable,
    *,
    name: str,
    include_private_details: bool,
    now: datetime | None = None,
) -> bytes:
    """A subscription feed of ``meetings`` (rules F1-F9).

    Args:
        meetings: ``events.Meeting`` objects with ``group`` loaded, in the
            order to write them. Cancelled meetings older than
            :data:`CANCELLED_KEPT_FOR` are left out here (rule F6).
        name: the calendar's name, written as NAME (RFC 7986 5.1) and
            X-WR-CALNAME (what Apple, Google and Outlook read).
        include_private_details: True for a person's private feed (LOCATION,
            DESCRIPTION with the joining details, URL); False for a public
            SIG feed, which gives titles and times only.
        now: the time to judge cancelled meetings against (aware); default now.

    Returns:
        UTF-8 bytes with CRLF line ends. No METHOD (F2), no ORGANIZER and no
        ATTENDEE (F7); the same UID, SEQUENCE and LAST-MODIFIED as the
        invitations (F4). DTSTAMP is the meeting's last change, so the bytes
        (and an ETag made from them, F5) only change when a meeting does.
    """
    now = now or timezone.now()
    cal = _new_calendar()
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    # RFC 7986 5.7 needs VALUE=DURATION; an X- property is untyped, so the
    # duration must be a vDuration or icalendar writes "1:00:00" (rule F2).
    cal.add("refresh-interval", vDuration(FEED_REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(FEED_REFRESH))
    cal.add_component(london_vtimezone())
    for meeting in meetings:
        if not feed_includes(meeting, now=now):
            continue
        cal.add_component(
            _base_event(meeting, dtstamp=meeting.updated_at, private=include_private_details)
        )
    return cal.to_ical()
