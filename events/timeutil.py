"""Meeting times: entered and shown in Europe/London, stored as aware UTC.

Formatting follows the NHS.UK content style guide for times and dates
("Thursday 4 March 2027", "9am", "10:30am", "midday", "9am to 10:30am").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError

from .ical import LONDON


def london_to_utc(day: date, at: time) -> datetime:
    """Combine a date and a wall-clock time in Europe/London into an aware UTC datetime.

    A time that falls in the hour the clocks go forward (01:00-01:59 on the
    last Sunday of March) does not exist in the UK: ValidationError. A time in
    the repeated hour in October is read as the first (BST) one.
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
    return local.astimezone(UTC)


def to_london(value: datetime) -> datetime:
    """An aware datetime shown in Europe/London."""
    return value.astimezone(LONDON)


def format_date(day: date | datetime) -> str:
    """``"Sunday 28 March 2027"`` (a datetime is first put in Europe/London)."""
    if isinstance(day, datetime):
        day = to_london(day).date()
    return f"{day:%A} {day.day} {day:%B %Y}"


def format_time(value: time | datetime) -> str:
    """``"9am"``, ``"10:30am"``, ``"midday"``, ``"midnight"`` (NHS.UK style)."""
    if isinstance(value, datetime):
        value = to_london(value).time()
    if value.hour == 12 and value.minute == 0:
        return "midday"
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


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
