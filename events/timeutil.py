"""Meeting times: entered and shown in Europe/London, stored as aware UTC.

Formatting follows the NHS.UK content style guide for times and dates
("Thursday 4 March 2027", "9am", "10:30am", "midday", "9am to 10:30am").

The clock changes: a wall time in the hour the clocks go forward (01:00-01:59
on the last Sunday of March) does not exist, and one in the hour they go back
(01:00-01:59 on the last Sunday of October) happens twice. A chair entering
either is asked for another time (:func:`london_to_utc`): we never pick one of
the two October hours silently. A stored meeting is an exact UTC instant, so
if one does start or end in the repeated hour (scheduled through the service
with an aware datetime), :func:`format_time` names the clock: "1:30am BST" or
"1:30am GMT".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError

from .ical import LONDON


def london_to_utc(day: date, at: time) -> datetime:
    """Combine a date and a wall-clock time in Europe/London into an aware UTC datetime.

    Raises ValidationError for a time that falls in the hour the clocks go
    forward (01:00-01:59 on the last Sunday of March: it does not exist in the
    UK, code ``nonexistent_time``) or in the hour they go back (01:00-01:59 on
    the last Sunday of October: it happens twice, once in BST and once in GMT,
    code ``ambiguous_time``). Refusing is clearer than silently choosing one
    of the two, and almost no meeting starts then.
    """
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=LONDON)
    # A wall time that does not exist does not survive the round trip through UTC.
    round_trip = local.astimezone(UTC).astimezone(LONDON)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"{format_time(at)} on {format_date(day)} does not exist in the UK "
            "(the clocks go forward an hour). Choose another time.",
            code="nonexistent_time",
        )
    if _is_ambiguous(local):
        raise ValidationError(
            f"{format_time(at)} on {format_date(day)} happens twice in the UK (the clocks go "
            "back an hour at 2am). Choose another time.",
            code="ambiguous_time",
        )
    return local.astimezone(UTC)


def _is_ambiguous(local: datetime) -> bool:
    """True if this Europe/London wall time happens twice (the October clock change)."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


_TIME_24H = re.compile(r"(\d{1,2})[:.](\d{2})|(\d{2})(\d{2})")
_TIME_12H = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)")
_TIME_WORDS = {"midday": time(12), "noon": time(12), "12noon": time(12), "midnight": time(0)}


def parse_time(text: str) -> time | None:
    """A time of day as people type it in the UK, or None if it is not one.

    Accepts the 24-hour clock ("14:00", "14.00", "1400", "9:30") and the
    12-hour clock with am or pm ("2pm", "2:30pm", "2.30 p.m.", "12am" is
    midnight), and "midday", "noon" and "midnight". A bare number ("2") is
    refused: it could be 2am or 2pm.
    """
    value = re.sub(r"\s+", "", (text or "").lower()).replace("a.m.", "am").replace("p.m.", "pm")
    value = value.replace("a.m", "am").replace("p.m", "pm")
    if value in _TIME_WORDS:
        return _TIME_WORDS[value]
    if match := _TIME_12H.fullmatch(value):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if match.group(3) == "pm" else 0), minute)
    if match := _TIME_24H.fullmatch(value):
        hour = int(match.group(1) or match.group(3))
        minute = int(match.group(2) or match.group(4))
        if hour > 23 or minute > 59:
            return None
        return time(hour, minute)
    return None


def to_london(value: datetime) -> datetime:
    """An aware datetime shown in Europe/London."""
    return value.astimezone(LONDON)


def format_date(day: date | datetime) -> str:
    """``"Sunday 28 March 2027"`` (a datetime is first put in Europe/London)."""
    if isinstance(day, datetime):
        day = to_london(day).date()
    return f"{day:%A} {day.day} {day:%B %Y}"


def format_time(value: time | datetime) -> str:
    """``"9am"``, ``"10:30am"``, ``"midday"``, ``"midnight"`` (NHS.UK style).

    An aware datetime in the hour that happens twice when the clocks go back
    is followed by its clock: ``"1:30am BST"`` or ``"1:30am GMT"``.
    """
    clock = ""
    if isinstance(value, datetime):
        local = to_london(value)
        if _is_ambiguous(local):
            clock = f" {local.tzname()}"
        value = local.time()
    if value.hour == 12 and value.minute == 0:
        return "midday" + clock
    if value.hour == 0 and value.minute == 0:
        return "midnight" + clock
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    text = f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"
    return text + clock


def format_when(start: datetime, end: datetime) -> str:
    """A meeting's time in words, in Europe/London, ending "(UK time)".

    ``"Sunday 28 March 2027, 10am to 11:30am (UK time)"``; a meeting that ends
    on a later day names both days.
    """
    start_l, end_l = to_london(start), to_london(end)
    if start_l.date() == end_l.date():
        return f"{format_date(start_l)}, {format_time(start_l)} to {format_time(end_l)} (UK time)"
    return (f"{format_date(start_l)}, {format_time(start_l)} to "
            f"{format_date(end_l)}, {format_time(end_l)} (UK time)")
