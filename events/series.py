"""A run of meetings scheduled from one pattern ("the second Tuesday of every month").

A chair picks a :class:`Pattern`; it is written as an RFC 5545 3.3.10
recurrence rule (``FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;UNTIL=20270731``), stored
on :class:`~events.models.MeetingSeries`, and expanded with
``dateutil.rrule`` (installed with ``icalendar``) into local dates. Each
date's start and end are wall-clock times in Europe/London, turned into UTC
by :func:`events.timeutil.london_to_utc`: 14:00 stays 14:00 across the clock
change (14:00Z in winter, 13:00Z in summer), and a time that does not exist
or happens twice on one of the dates is refused, naming the date.

Every occurrence is then scheduled by :func:`events.services.meeting_schedule`
as an ordinary meeting with its own UID, invitations, agenda and minutes: we
never send a recurring VEVENT, so moving or cancelling one meeting of a
series touches only that meeting (interop rule R2: there is never a
RECURRENCE-ID to match).

Shapes: dates are ``datetime.date`` in Europe/London; times of day are naive
``datetime.time`` in Europe/London; instants are aware UTC ``datetime``.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from members.models import Group, Person

from . import services
from .models import Meeting, MeetingSeries
from .timeutil import format_date, london_to_utc, to_london

logger = logging.getLogger(__name__)

# The most meetings one series may create (weekly for a year is 52).
MAX_OCCURRENCES = 60
# "Number of months ahead" is 1 to this.
MAX_MONTHS = 24

# RFC 5545 3.3.10 weekday codes, indexed like ``date.weekday()`` (0 = Monday).
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Which week of the month: BYSETPOS values (RFC 5545 3.3.10; -1 is the last).
POSITIONS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# Months that start a quarter.
QUARTER_MONTHS = (1, 4, 7, 10)


class Frequency(models.TextChoices):
    """How often a series repeats, in the words a chair chooses from."""

    WEEKLY = "weekly", "Every week"
    FORTNIGHTLY = "fortnightly", "Every 2 weeks"
    MONTHLY = "monthly", "Once a month"
    QUARTERLY = "quarterly", "Once a quarter (January, April, July and October)"


# Frequencies that need a week of the month (a BYSETPOS).
NEEDS_POSITION = (Frequency.MONTHLY, Frequency.QUARTERLY)


@dataclass(frozen=True)
class Pattern:
    """What repeats.

    Attributes:
        frequency: a :class:`Frequency` value.
        weekday: 0 (Monday) to 6 (Sunday), as ``date.weekday()``.
        position: for monthly and quarterly patterns, which of the month's
            weekdays: 1 to 4, or -1 for the last; ``None`` for weekly ones.
    """

    frequency: str
    weekday: int
    position: int | None = None

    def __post_init__(self) -> None:
        if self.frequency not in Frequency.values:
            raise ValueError(f"Unknown frequency {self.frequency!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
        if self.frequency in NEEDS_POSITION and self.position not in POSITIONS:
            raise ValueError(f"position must be one of {sorted(POSITIONS)}, not {self.position!r}")
        if self.frequency not in NEEDS_POSITION and self.position is not None:
            raise ValueError("Weekly patterns have no position")

    def describe(self) -> str:
        """The pattern in words, as stored on ``MeetingSeries.pattern``.

        ``"Every week on Tuesday"``, ``"Every 2 weeks on Tuesday"``, ``"The
        second Tuesday of every month"``, ``"The first Monday of the first
        month of each quarter (Jan, Apr, Jul, Oct)"``.
        """
        day = WEEKDAY_NAMES[self.weekday]
        if self.frequency == Frequency.WEEKLY:
            return f"Every week on {day}"
        if self.frequency == Frequency.FORTNIGHTLY:
            return f"Every 2 weeks on {day}"
        which = f"The {POSITIONS[self.position]} {day}"
        if self.frequency == Frequency.MONTHLY:
            return f"{which} of every month"
        return f"{which} of the first month of each quarter (Jan, Apr, Jul, Oct)"

    def rrule(self, *, until: date | None = None) -> str:
        """The pattern as an RFC 5545 3.3.10 RECUR value (the text after ``RRULE:``).

        ``until`` (a local date, inclusive) adds ``UNTIL=YYYYMMDD``: a DATE,
        as the rule is expanded from a DATE start (RFC 5545 3.3.10: UNTIL has
        the value type of DTSTART). For example ``FREQ=WEEKLY;INTERVAL=2;BYDAY=TU``,
        ``FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2``,
        ``FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=MO;BYSETPOS=1``. The weekly
        rules are anchored by their first date (DTSTART), which is the first
        occurrence (:func:`pattern_dates`).
        """
        day = WEEKDAY_CODES[self.weekday]
        parts = {
            Frequency.WEEKLY: ["FREQ=WEEKLY", f"BYDAY={day}"],
            Frequency.FORTNIGHTLY: ["FREQ=WEEKLY", "INTERVAL=2", f"BYDAY={day}"],
            Frequency.MONTHLY: ["FREQ=MONTHLY", f"BYDAY={day}", f"BYSETPOS={self.position}"],
            Frequency.QUARTERLY: [
                "FREQ=MONTHLY", f"BYMONTH={','.join(str(m) for m in QUARTER_MONTHS)}",
                f"BYDAY={day}", f"BYSETPOS={self.position}",
            ],
        }[Frequency(self.frequency)]
        if until is not None:
            parts.append(f"UNTIL={until:%Y%m%d}")
        return ";".join(parts)


def until_for_months(first: date, months: int) -> date:
    """The last date of a run of ``months`` months starting on ``first`` (inclusive).

    1 February + 6 months runs to 31 July; 31 January + 1 month to 27 February
    (the day before 28 February, as February has no 31st).
    """
    return first + relativedelta(months=months) - timedelta(days=1)


def pattern_dates(pattern: Pattern, *, on_or_after: date, until: date,
                  limit: int = MAX_OCCURRENCES + 1) -> list[date]:
    """The local dates of ``pattern`` from ``on_or_after`` to ``until`` (both inclusive).

    At most ``limit`` dates are returned (so a caller can tell "more than
    the cap" without expanding years of weekly meetings). The expansion is
    ``dateutil.rrule`` over :meth:`Pattern.rrule` with DTSTART the first
    date on or after ``on_or_after`` that falls on the pattern's weekday, so
    "every 2 weeks on Tuesday" from a Wednesday starts six days later, not
    thirteen.
    """
    if until < on_or_after:
        return []
    anchor = on_or_after + timedelta(days=(pattern.weekday - on_or_after.weekday()) % 7)
    # Naive on purpose: the rule runs over local dates; times are added later.
    dtstart = datetime.combine(anchor, time())  # noqa: DTZ001
    rule = rrulestr(pattern.rrule(until=until), dtstart=dtstart)
    return [moment.date() for moment in itertools.islice(rule, limit)]


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a series: its local date and its start and end as aware UTC."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SeriesPlan:
    """The meetings a series would create, before anything is saved.

    Attributes:
        pattern: what repeats.
        first, until: the local dates the chair gave (inclusive).
        rrule: ``pattern.rrule(until=until)``, for ``MeetingSeries.rrule``.
        occurrences: in date order, 1 to :data:`MAX_OCCURRENCES` of them.
    """

    pattern: Pattern
    first: date
    until: date
    rrule: str
    occurrences: tuple[Occurrence, ...]

    def __len__(self) -> int:
        return len(self.occurrences)

    def summary(self) -> str:
        """``"6 meetings: Tue 9 Feb 2027, Tue 9 Mar 2027, ..."`` (every date, short)."""
        count = len(self.occurrences)
        days = ", ".join(short_date(o.day) for o in self.occurrences)
        return f"{count} meeting{'s' if count != 1 else ''}: {days}"

    def fingerprint(self) -> str:
        """The planned start instants as one string, to tell whether a confirmed
        preview still matches what would be created (``20270209T140000Z,...``)."""
        return ",".join(f"{o.start:%Y%m%dT%H%M%SZ}" for o in self.occurrences)


def short_date(day: date) -> str:
    """``"Tue 9 Feb 2027"``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def plan_series(pattern: Pattern, *, first: date, until: date, start_time: time,
                end_time: time, now: datetime | None = None) -> SeriesPlan:
    """Expand ``pattern`` into meetings from ``first`` to ``until`` at the given UK times.

    Args:
        first, until: local dates, inclusive; the first meeting is the first
            date of the pattern on or after ``first``.
        start_time, end_time: wall-clock times in Europe/London, the same on
            every date (``end_time`` after ``start_time``: meetings end on the
            day they start).
        now: for "already started" (default ``timezone.now()``). A meeting on
            today's date whose start time has passed is left out.

    Raises ValidationError keyed by ``end_time`` (not after the start time),
    ``until`` (before ``first``; no dates; more than :data:`MAX_OCCURRENCES`)
    or ``start_time``/``end_time`` (a time that does not exist, or happens
    twice, on one of the dates: the message names it). Every problem found
    is raised together.
    """
    now = now or timezone.now()
    if end_time <= start_time:
        raise ValidationError({"end_time": "The end time must be after the start time."})
    if until < first:
        raise ValidationError({"until": "The last date must be on or after the first date."})
    days = pattern_dates(pattern, on_or_after=first, until=until)
    if len(days) > MAX_OCCURRENCES:
        raise ValidationError({"until": (
            f"That would be more than {MAX_OCCURRENCES} meetings. A series can have at "
            f"most {MAX_OCCURRENCES}: choose fewer months or an earlier last date.")})
    errors: dict[str, list[str]] = {}
    occurrences = []
    for day in days:
        try:
            start = london_to_utc(day, start_time)
        except ValidationError as exc:
            errors.setdefault("start_time", []).extend(exc.messages)
            continue
        try:
            end = london_to_utc(day, end_time)
        except ValidationError as exc:
            errors.setdefault("end_time", []).extend(exc.messages)
            continue
        if start > now:
            occurrences.append(Occurrence(day=day, start=start, end=end))
    if errors:
        raise ValidationError(errors)
    if not occurrences:
        raise ValidationError({"until": (
            f"There are no meetings {_lower_first(pattern.describe())} from "
            f"{format_date(first)} to {format_date(until)}. Choose a later last date "
            "or more months.")})
    return SeriesPlan(pattern=pattern, first=first, until=until,
                      rrule=pattern.rrule(until=until), occurrences=tuple(occurrences))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def london_today(now: datetime | None = None) -> date:
    """Today's date in Europe/London."""
    return to_london(now or timezone.now()).date()


@transaction.atomic
def series_schedule(
    *,
    group: Group,
    scheduled_by: Person | None,
    plan: SeriesPlan,
    title: str,
    teams_url: str = "",
    venue: str = "",
    dial_in: str = "",
    description: str = "",
    in_person_places: int | None = None,
) -> MeetingSeries:
    """Create a :class:`MeetingSeries` and one meeting per occurrence of ``plan``.

    Each occurrence goes through :func:`events.services.meeting_schedule`
    (its own UID, SEQUENCE 0, an Invitation and a METHOD:REQUEST email for
    every active member: one email per member per meeting; ``in_person_places``,
    None for no limit, on each) and is linked to the series. All in
    one transaction: if any occurrence is refused, nothing is created and
    nothing is sent. Permission (a chair of ``group``) is the caller's to check.

    Raises ValidationError without a field: ``group`` cannot meet (a finished
    task-and-finish group), or an
    occurrence was refused by ``meeting_schedule`` (the message names its
    date, e.g. "Tuesday 9 February 2027: The meeting must start in the
    future.").
    """
    services.group_check_can_meet(group)
    if not 1 <= len(plan.occurrences) <= MAX_OCCURRENCES:
        raise ValidationError(f"A series has 1 to {MAX_OCCURRENCES} meetings.")
    series = MeetingSeries.objects.create(
        group=group, title=title.strip(), pattern=plan.pattern.describe(), rrule=plan.rrule,
        created_by=scheduled_by, created_at=timezone.now(),
    )
    created = []
    for occurrence in plan.occurrences:
        try:
            meeting = services.meeting_schedule(
                group=group, scheduled_by=scheduled_by, title=title, start=occurrence.start,
                end=occurrence.end, teams_url=teams_url, venue=venue, dial_in=dial_in,
                description=description, in_person_places=in_person_places,
            )
        except ValidationError as exc:
            raise ValidationError(
                [f"{format_date(occurrence.day)}: {message}" for message in exc.messages]
            ) from exc
        created.append(meeting.pk)
    Meeting.objects.filter(pk__in=created).update(series=series)
    logger.info("Series %s (%s, %s) scheduled by %s: %d meetings", series.pk, series.pattern,
                series.rrule, scheduled_by, len(created))
    return series
