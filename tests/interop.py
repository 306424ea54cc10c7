"""Four independent iCalendar parsers, for checking everything SIG Hub writes.

- ``icalendar`` (Python): ``Calendar.from_ical`` records problems on each
  component's ``.errors`` instead of raising.
- ``vobject`` (Python): ``readOne(text, validate=True)`` raises.
- Mozilla's ``ical.js`` (the parser Thunderbird uses), run with node through
  ``tests/tools/icaljs_parse.mjs``: after registering our VTIMEZONE it gives
  each event's real start instant, so daylight saving can be asserted.
- libical 3 (Evolution's engine, Debian's ``libical3``) through ctypes:
  ``icalparser_parse_string``, ``icalrestriction_check`` (RFC 5546 iTIP
  restrictions for the METHOD) and ``icalcomponent_as_ical_string``, whose
  output carries an ``X-LIC-ERROR`` line for every problem found.

A missing tool fails the test that needs it (never a skip): ``make test``
installs libical3 and ical.js.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import subprocess
from functools import cache
from pathlib import Path

import vobject
from icalendar import Calendar

ROOT = Path(__file__).resolve().parent.parent
ICALJS_SCRIPT = ROOT / "tests" / "tools" / "icaljs_parse.mjs"


def icalendar_errors(text: str | bytes) -> list:
    """Every component's recorded parse errors (empty when the object is clean)."""
    calendar = Calendar.from_ical(text)
    return [(component.name, error) for component in calendar.walk() for error in component.errors]


def vobject_validate(text: str | bytes) -> object:
    """Parse with vobject and validate; raises vobject's ValidateError/ParseError on a fault."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return vobject.readOne(text, validate=True)


def icaljs_parse(text: str | bytes) -> dict:
    """What Thunderbird's ical.js makes of ``text``.

    Returns ``{"method", "timezones", "events": [{"uid", "sequence", "status",
    "summary", "start", "end", "start_tzid"}]}`` with start/end as UTC ISO
    strings (``2027-03-28T09:00:00.000Z``). Raises AssertionError with
    ical.js's message if it cannot parse the text.
    """
    if isinstance(text, str):
        text = text.encode("utf-8")
    assert (ROOT / "node_modules" / "ical.js").exists(), "ical.js is missing: run `make test`."
    result = subprocess.run(
        ["node", str(ICALJS_SCRIPT)], input=text, capture_output=True, timeout=60,
        cwd=ROOT, check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@cache
def _libical() -> ctypes.CDLL:
    path = ctypes.util.find_library("ical") or "libical.so.3"
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:  # pragma: no cover - make test installs libical3
        raise AssertionError("libical 3 is missing: run `make test` (installs libical3).") from exc
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.restype = ctypes.c_int
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p
    lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.restype = None
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    return lib


def libical_errors(text: str | bytes) -> list[str]:
    """The X-LIC-ERROR lines libical writes after parsing and checking iTIP restrictions.

    Empty when libical finds nothing wrong. Raises AssertionError if libical
    cannot parse the text at all.
    """
    if isinstance(text, str):
        text = text.encode("utf-8")
    lib = _libical()
    component = lib.icalparser_parse_string(text)
    assert component, "libical could not parse the calendar object"
    try:
        lib.icalrestriction_check(component)
        output = lib.icalcomponent_as_ical_string(component).decode("utf-8")
    finally:
        lib.icalcomponent_free(component)
    unfolded = output.replace("\r\n ", "").replace("\n ", "")
    return [line for line in unfolded.splitlines() if line.startswith("X-LIC-ERROR")]


def assert_all_parsers_accept(text: str | bytes) -> dict:
    """Run all four parsers; fail naming the parser that objects. Returns ical.js's view."""
    assert icalendar_errors(text) == [], "icalendar recorded errors"
    vobject_validate(text)
    assert libical_errors(text) == [], "libical reported X-LIC-ERROR"
    return icaljs_parse(text)
