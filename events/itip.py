"""Attendees' replies (iTIP METHOD:REPLY) read from raw calendar text: pure functions.

:func:`parse_reply` turns the text of one calendar part (RFC 6047 iMIP: the
``text/calendar`` part or ``.ics`` attachment of a reply email) into a
:class:`Reply`, or says why it cannot: :class:`Malformed` (unreadable, or
missing what a reply must carry: UID, an ATTENDEE with an address, PARTSTAT)
or :class:`NotAReply` (another METHOD, e.g. a forwarded REQUEST).

Parsing is deliberately tolerant (rule R2: no strict validation of replies).
``icalendar``'s ``Calendar.from_ical`` records problems on each component
instead of raising, so an Outlook reply with times in a Windows zone
(``TZID=GMT Standard Time``) whose VTIMEZONE starts in 1601, a pile of
``X-MICROSOFT-CDO-*`` lines, ``PRODID:Microsoft Exchange Server 2010`` and no
ORGANIZER (rule R1) reads the same as any other: only UID, RECURRENCE-ID,
SEQUENCE, DTSTAMP, ATTENDEE (with PARTSTAT) and COMMENT are looked at, and
never DTSTART or the time zones.

What a REPLY carries is RFC 5546 3.2.3: one VEVENT with UID, DTSTAMP,
SEQUENCE (if not 0), exactly one ATTENDEE with the attendee's PARTSTAT,
optionally RECURRENCE-ID and COMMENT. Nothing here touches the database;
:mod:`events.replies` matches the result against meetings. Rule numbers refer
to ``/work/shared/reference/icalendar-interop.md``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar

# Participation statuses an attendee can answer with (RFC 5545 3.2.12).
ACCEPTED = "ACCEPTED"
TENTATIVE = "TENTATIVE"
DECLINED = "DECLINED"
NEEDS_ACTION = "NEEDS-ACTION"
# The largest SEQUENCE kept (Invitation.reply_sequence is a 32-bit integer).
MAX_SEQUENCE = 2**31 - 1


@dataclass(frozen=True)
class Reply:
    """One attendee's answer, as the REPLY states it.

    Attributes:
        uid: the meeting's UID, exactly as written (stripped of spaces).
        attendee: the replying ATTENDEE's address, lower-cased, without
            ``mailto:``/``MAILTO:`` (rule R2: match case-insensitively).
        partstat: upper-cased PARTSTAT, e.g. ``ACCEPTED``, ``TENTATIVE``, ``DECLINED``.
        sequence: SEQUENCE (0 when absent, RFC 5545 3.8.7.4).
        dtstamp: DTSTAMP as an aware UTC datetime, or None if absent or unreadable.
        recurrence_id: RECURRENCE-ID's text, or ``""`` (we never send one).
        comment: COMMENT (the attendee's note), several joined by a blank line; ``""`` if none.
    """

    uid: str
    attendee: str
    partstat: str
    sequence: int = 0
    dtstamp: datetime | None = None
    recurrence_id: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Malformed:
    """A calendar part that cannot be read as a reply; ``detail`` says why (for the log)."""

    detail: str

    def __str__(self) -> str:
        return f"malformed calendar part ({self.detail})"


@dataclass(frozen=True)
class NotAReply:
    """A readable calendar object whose METHOD is not REPLY (``method`` is ``""`` if absent)."""

    method: str

    def __str__(self) -> str:
        return f"not a REPLY (METHOD:{self.method or 'none'})"


def address_from_cal_address(value: object) -> str:
    """``"MAILTO:Jo.Smith@NHS.net"`` -> ``"jo.smith@nhs.net"``.

    Accepts any scheme case (``mailto:``, ``MAILTO:``, ``Mailto:``) or none
    (some clients write the bare address); returns ``""`` if nothing that
    looks like an address is left.
    """
    text = str(value or "").strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    text = text.strip().strip("<>").strip().lower()
    return text if "@" in text else ""


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _utc(value: object) -> datetime | None:
    """An aware UTC datetime from a decoded DTSTAMP; a floating one is taken as UTC.

    A date (no time) or anything else gives None.
    """
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _property_text(value: object) -> str:
    """A property's value as iCalendar text (the first, if repeated); ``""`` if absent."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return ""
    to_ical = getattr(value, "to_ical", None)
    if to_ical is not None:
        try:
            raw = to_ical()
            return (raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw))
        except (ValueError, TypeError, AttributeError):
            pass
    return str(value)


def _sequence(event) -> int | Malformed:
    raw = event.get("SEQUENCE")
    if raw is None:
        return 0
    if isinstance(raw, list):
        raw = raw[0]
    try:
        sequence = int(str(raw).strip())
    except ValueError:
        return Malformed(f"SEQUENCE is not a number: {str(raw)[:40]!r}")
    # RFC 5545 3.8.7.4: a non-negative integer; ours fit a database integer.
    if not 0 <= sequence <= MAX_SEQUENCE:
        return Malformed(f"SEQUENCE out of range: {sequence}")
    return sequence


def _dtstamp(event) -> datetime | None:
    raw = event.get("DTSTAMP")
    if raw is None or isinstance(raw, list):
        return None
    try:
        value = raw.dt
    except Exception:  # noqa: BLE001 - icalendar's BrokenCalendarProperty for a bad value
        return None
    return _utc(value)


def _pick_attendee(event, sender: str) -> tuple[str, str] | Malformed:
    """``(address, PARTSTAT)`` of the one attendee replying.

    RFC 5546 3.2.3 allows exactly one ATTENDEE in a REPLY. Some clients list
    every attendee; then the one whose address is the email's sender answers,
    or failing that the only one whose PARTSTAT is not NEEDS-ACTION.
    """
    attendees = []
    for value in _as_list(event.get("ATTENDEE")):
        address = address_from_cal_address(value)
        params = getattr(value, "params", {}) or {}
        partstat = str(params.get("PARTSTAT", "")).strip().upper()
        if address:
            attendees.append((address, partstat))
    if not attendees:
        return Malformed("no ATTENDEE with an address")
    if len(attendees) > 1:
        by_sender = [a for a in attendees if sender and a[0] == sender.strip().lower()]
        answered = [a for a in attendees if a[1] not in ("", NEEDS_ACTION)]
        chosen = by_sender or (answered if len(answered) == 1 else [])
        if not chosen:
            return Malformed(f"{len(attendees)} ATTENDEEs and none is clearly the one replying")
        attendees = chosen[:1]
    address, partstat = attendees[0]
    if not partstat:
        return Malformed(f"ATTENDEE {address} has no PARTSTAT")
    return address, partstat


# A TZID parameter (quoted or not): nothing read from a reply needs one.
_TZID_PARAM = re.compile(r';TZID=(?:"[^"]*"|[^;:\r\n]*)', re.IGNORECASE)


def _from_ical(text: str) -> list:
    """``Calendar.from_ical(text, multiple=True)``, quietly.

    icalendar resolves every TZID while parsing: it warns about vendor TZIDs
    (``/freeassociation.sourceforge.net/Europe/London`` from Evolution) and,
    on text it cannot make sense of, raises more than ValueError
    (AttributeError for a mangled VTIMEZONE, OSError from a zoneinfo lookup of
    ``TZID=America``). None of that matters to a reply, which is read without
    its times, so warnings are silenced and the caller treats any exception
    as unreadable.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Calendar.from_ical(text, multiple=True)


def _pick_event(events: list):
    """The VEVENT to read: the one without RECURRENCE-ID if there is one, else the first."""
    for event in events:
        if event.get("RECURRENCE-ID") is None:
            return event
    return events[0]


def parse_reply(data: str | bytes, *, sender: str = "") -> Reply | Malformed | NotAReply:
    """Read one calendar part as an iTIP REPLY (RFC 5546 3.2.3, carried by RFC 6047 iMIP).

    Args:
        data: the calendar object's text, or bytes (decoded as UTF-8, bad
            bytes replaced). LF or CRLF line ends, folded or not.
        sender: the email's From address; used only to pick the replying
            attendee when a client lists several.

    Returns:
        a :class:`Reply`; :class:`NotAReply` for a readable object whose
        METHOD is not REPLY; :class:`Malformed` for text ``icalendar`` cannot
        parse, no VEVENT, no UID, no usable ATTENDEE or PARTSTAT, or a
        SEQUENCE that is not a number. Never raises for bad input.

    Tolerant on purpose (rules R1, R2): ORGANIZER is not required, Windows
    time zone names and 1601 VTIMEZONEs are never resolved, unknown and
    ``X-`` properties are ignored, and property problems ``icalendar``
    records (e.g. on DTSTART) do not matter unless they hit a field above.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not data.strip():
        return Malformed("empty")
    try:
        calendars = _from_ical(data)
    except Exception:  # noqa: BLE001 - see _from_ical; try once more without time zones
        try:
            calendars = _from_ical(_TZID_PARAM.sub("", data))
        except Exception as exc:  # noqa: BLE001
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
            return Malformed(f"unreadable: {first_line[:120]}")
    if not calendars:
        # icalendar returns nothing for an object cut short (no END lines).
        return Malformed("unreadable: no complete VCALENDAR")
    calendars = [c for c in calendars if getattr(c, "name", "") == "VCALENDAR"]
    if not calendars:
        return Malformed("no VCALENDAR")
    calendar = next((c for c in calendars if c.walk("VEVENT")), calendars[0])

    method = str(calendar.get("METHOD", "")).strip().upper()
    if method != "REPLY":
        return NotAReply(method)
    events = calendar.walk("VEVENT")
    if not events:
        return Malformed("no VEVENT")
    event = _pick_event(events)

    uid_values = _as_list(event.get("UID"))
    uid = str(uid_values[0]).strip() if uid_values else ""
    if not uid:
        return Malformed("no UID")
    attendee = _pick_attendee(event, sender)
    if isinstance(attendee, Malformed):
        return attendee
    sequence = _sequence(event)
    if isinstance(sequence, Malformed):
        return sequence
    comments = [str(c).strip() for c in _as_list(event.get("COMMENT")) if str(c).strip()]
    return Reply(
        uid=uid,
        attendee=attendee[0],
        partstat=attendee[1],
        sequence=sequence,
        dtstamp=_dtstamp(event),
        recurrence_id=_property_text(event.get("RECURRENCE-ID")).strip(),
        comment="\n\n".join(comments),
    )
