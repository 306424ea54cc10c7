"""Fixtures and helpers for the meetings tests: a settable clock, a SIG with members,
and parsers for the invitation emails and their calendar parts.

Every test here also has every calendar object it mails checked by four parsers
(:func:`every_calendar_part_passes_four_parsers`, autouse)."""

from __future__ import annotations

import ctypes
import email
import json
import os
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from email import policy

import pytest
import vobject
from django.core.mail.backends import locmem
from django.utils import timezone
from icalendar import Calendar

from events.timeutil import london_to_utc
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, SIGFactory
from tests.interop import ICALJS_SCRIPT, ROOT, _libical, libical_errors, vobject_validate

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


@pytest.fixture
def member(sig):
    """Jo Smith, a member (not a chair) of ``sig``."""
    return Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person


def schedule_meeting(sig, chair, title="Spring meeting", day=date(2027, 3, 9)):
    """A Teams meeting of ``sig`` from 10:00 to 11:00 UK time on ``day``, scheduled by ``chair``."""
    from events import services

    return services.meeting_schedule(
        group=sig, scheduled_by=chair, title=title, start=london_to_utc(day, time(10)),
        end=london_to_utc(day, time(11)),
        teams_url="https://teams.microsoft.com/l/meetup-join/19%3ameeting_cache%40thread.v2/0")


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


# --- Four parsers for every calendar object the tests mail -----------------------------

# node runs ical.js in a zone far from London, so a TZID ical.js failed to resolve
# (a floating time, read in node's own zone) can never pass for the right instant.
ICALJS_TZ = "Pacific/Chatham"


# ical.js's view of each text already parsed in this test run: the answer for the same
# text never changes, so a test that parsed its objects spares the fixture a node run.
_ICALJS_SEEN: dict[str, dict] = {}
_ICALJS_SEEN_MAX = 2000


def icaljs_parse_many(texts: list[str]) -> list[dict]:
    """What ical.js makes of each object, with one node start-up for all of them.

    One dict per text, as :func:`tests.interop.icaljs_parse` returns (plus
    ``dtstamp``, ``start_is_date``, ``end_tzid``), or ``{"error": ...}`` for
    a text ical.js cannot parse. Texts seen before in this run are not parsed again.
    """
    known = {text: _ICALJS_SEEN[text] for text in texts if text in _ICALJS_SEEN}
    new = [text for text in dict.fromkeys(texts) if text not in known]
    if new:
        assert (ROOT / "node_modules" / "ical.js").exists(), (
            "ical.js is missing: run `make test`.")
        result = subprocess.run(
            ["node", str(ICALJS_SCRIPT), "--batch"], input=json.dumps(new).encode(),
            capture_output=True, timeout=120, cwd=ROOT, check=False,
            env={**os.environ, "TZ": ICALJS_TZ},
        )
        assert result.returncode == 0, result.stderr.decode()
        parsed_now = dict(zip(new, json.loads(result.stdout), strict=True))
        known.update(parsed_now)
        if len(_ICALJS_SEEN) + len(parsed_now) > _ICALJS_SEEN_MAX:
            _ICALJS_SEEN.clear()
        _ICALJS_SEEN.update(parsed_now)
    return [known[text] for text in texts]


class _IcalTime(ctypes.Structure):
    # libical 3's struct icaltimetype (icaltime.h).
    _fields_ = [("year", ctypes.c_int), ("month", ctypes.c_int), ("day", ctypes.c_int),
                ("hour", ctypes.c_int), ("minute", ctypes.c_int), ("second", ctypes.c_int),
                ("is_date", ctypes.c_int), ("is_daylight", ctypes.c_int),
                ("zone", ctypes.c_void_p)]


def _libical_times():
    lib = _libical()
    if not getattr(lib, "_sighub_times", False):
        lib.icalcomponent_string_to_kind.restype = ctypes.c_int
        lib.icalcomponent_string_to_kind.argtypes = [ctypes.c_char_p]
        for name in ("icalcomponent_get_first_component", "icalcomponent_get_next_component"):
            getattr(lib, name).restype = ctypes.c_void_p
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
        for name in ("icalcomponent_get_dtstart", "icalcomponent_get_dtend"):
            getattr(lib, name).restype = _IcalTime
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.icaltime_as_timet_with_zone.restype = ctypes.c_int64
        lib.icaltime_as_timet_with_zone.argtypes = [_IcalTime, ctypes.c_void_p]
        lib._sighub_times = True
    return lib


def _libical_instant(lib, value: _IcalTime) -> datetime | date:
    if value.is_date:
        return date(value.year, value.month, value.day)
    # The zone is the one libical resolved for the TZID: the object's own VTIMEZONE
    # first, then its built-in ones; UTC for a time ending in Z.
    assert value.zone, "libical read a floating time (no zone)"
    return datetime.fromtimestamp(lib.icaltime_as_timet_with_zone(value, value.zone), UTC)


def libical_instants(text: str | bytes) -> list[tuple[datetime | date, datetime | date]]:
    """Each VEVENT's (start, end) as libical 3 resolves them, aware UTC (dates for all-day)."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    lib = _libical_times()
    root = lib.icalparser_parse_string(text)
    assert root, "libical could not parse the calendar object"
    vevent_kind = lib.icalcomponent_string_to_kind(b"VEVENT")
    instants = []
    try:
        event = lib.icalcomponent_get_first_component(root, vevent_kind)
        while event:
            instants.append((_libical_instant(lib, lib.icalcomponent_get_dtstart(event)),
                             _libical_instant(lib, lib.icalcomponent_get_dtend(event))))
            event = lib.icalcomponent_get_next_component(root, vevent_kind)
    finally:
        lib.icalcomponent_free(root)
    return instants


def _utc(value):
    """An icalendar/vobject DTSTART value as aware UTC (a date stays a date)."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"floating time {value} (rule T4)"
        return value.astimezone(UTC)
    return value


def _icaljs_instant(value: str, is_date: bool):
    moment = datetime.fromisoformat(value)
    return moment.date() if is_date else moment


def _instants(cal: Calendar, vcal, icaljs: dict, text: str) -> dict[str, list[tuple]]:
    events = cal.walk("VEVENT")
    return {
        "icalendar": [(_utc(e["DTSTART"].dt), _utc(e["DTEND"].dt)) for e in events],
        "vobject": [(_utc(e.dtstart.value), _utc(e.dtend.value))
                    for e in vcal.contents.get("vevent", [])],
        "ical.js": [(_icaljs_instant(e["start"], e["start_is_date"]),
                     _icaljs_instant(e["end"], e["start_is_date"])) for e in icaljs["events"]],
        "libical": libical_instants(text),
    }


def four_parser_instants(text: str, icaljs: dict | None = None) -> dict[str, list[tuple]]:
    """Each VEVENT's (start, end) in UTC as each of the four parsers reads ``text``.

    ``{"icalendar": [...], "vobject": [...], "ical.js": [...], "libical": [...]}``.
    icalendar resolves ``TZID=Europe/London`` through tzdata (the truth);
    vobject, ical.js and libical through the object's VTIMEZONE. ``icaljs``:
    ical.js's view if already at hand (from :func:`icaljs_parse_many`).
    """
    icaljs = icaljs if icaljs is not None else icaljs_parse_many([text])[0]
    assert "error" not in icaljs, icaljs.get("error")
    return _instants(Calendar.from_ical(text), vobject_validate(text), icaljs, text)


def calendar_objects(message) -> list[tuple[str, str]]:
    """Every calendar object in a sent message: ``(content type, text)`` per
    ``text/calendar`` part and ``application/ics`` attachment, as a client gets them."""
    objects = []
    for part in parsed(message).walk():
        content_type = part.get_content_type()
        if content_type == "text/calendar":
            # As SMTP delivers a 7bit/quoted-printable text part: CRLF line ends.
            text = part.get_content().replace("\r\n", "\n").replace("\n", "\r\n")
        elif content_type == "application/ics":
            text = part.get_payload(decode=True).decode("utf-8")
        else:
            continue
        objects.append((content_type, text))
    return objects


def check_calendar_objects(labelled: list[tuple[str, str]]) -> None:
    """Assert every ``(label, text)`` passes all four parsers with the same instants.

    icalendar: no component errors; vobject: ``validate=True``; libical:
    parsed, ``icalrestriction_check`` and no X-LIC-ERROR; ical.js: parsed, no
    floating times, and every VEVENT's start and end (after registering our
    VTIMEZONE) equal icalendar's DTSTART/DTEND in UTC - as do vobject's and
    libical's. Identical objects are checked once; a failure names the first
    label (the message's subject) the object came with.
    """
    first_label: dict[str, str] = {}
    for label, text in labelled:
        first_label.setdefault(text, label)
    icaljs = icaljs_parse_many(list(first_label))
    for (text, label), seen in zip(first_label.items(), icaljs, strict=True):
        where = f"calendar object in {label}"
        cal = Calendar.from_ical(text)
        errors = [(c.name, error) for c in cal.walk() for error in c.errors]
        assert errors == [], f"{where}: icalendar recorded errors {errors}"
        try:
            vcal = vobject_validate(text)
        except Exception as exc:  # noqa: BLE001 - any vobject failure is the finding
            raise AssertionError(f"{where}: vobject validate=True failed: {exc!r}") from exc
        lic = libical_errors(text)
        assert lic == [], f"{where}: libical reported {lic}"
        assert "error" not in seen, f"{where}: {seen.get('error')}"
        floating = [e["uid"] for e in seen["events"]
                    if not e["start_is_date"] and "floating" in (e["start_tzid"], e["end_tzid"])]
        assert floating == [], f"{where}: ical.js read floating times (rule T4) in {floating}"
        instants = _instants(cal, vcal, seen, text)
        truth = instants["icalendar"]
        for parser, found in instants.items():
            assert found == truth, (
                f"{where}: {parser} reads start/end {found}, icalendar (tzdata) {truth}")


@pytest.fixture(autouse=True)
def every_calendar_part_passes_four_parsers(request, monkeypatch):
    """After each test, check every calendar object it mailed with four parsers.

    Every message handed to the (locmem) mail backend during the test is kept,
    even if the test later clears ``mail.outbox``; each ``text/calendar`` part
    and ``application/ics`` attachment must pass :func:`check_calendar_objects`.
    All of a test's objects go to ical.js in one node run.
    """
    sent = []
    send_messages = locmem.EmailBackend.send_messages

    def recording(self, messages):
        messages = list(messages)
        sent.extend(messages)
        return send_messages(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", recording)
    yield
    labelled = [
        (f"the message {message.subject!r} to {', '.join(message.to)} "
         f"({content_type}; test {request.node.name})", text)
        for message in sent for content_type, text in calendar_objects(message)
    ]
    if labelled:
        check_calendar_objects(labelled)
