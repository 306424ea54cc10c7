"""The form to schedule a series of meetings from a pattern.

It reuses the fields and time parsing of :class:`events.forms.MeetingForm`
(the NHS.UK date input, times typed as "14:00" or "2pm", the length limits
and messages), and hands the pattern, dates and times to
:func:`events.series.plan_series`. When valid, ``cleaned_data["plan"]`` is
the :class:`~events.series.SeriesPlan` to preview and then create.
"""

from __future__ import annotations

import copy

from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError

from . import services
from .forms import DateInputField, MeetingForm, ServiceErrorsMixin
from .models import Meeting
from .series import (
    MAX_MONTHS,
    NEEDS_POSITION,
    POSITIONS,
    WEEKDAY_NAMES,
    Frequency,
    Pattern,
    london_today,
    plan_series,
    until_for_months,
)


def _meeting_field(name: str, **changes) -> forms.Field:
    """A copy of ``MeetingForm``'s field ``name`` (same limits and messages)."""
    field = copy.deepcopy(MeetingForm.base_fields[name])
    for attribute, value in changes.items():
        setattr(field, attribute, value)
    return field


def _whole_number(label: str, *, low: int, high: int, message: str) -> forms.IntegerField:
    """An optional whole number typed in a text box (NHS.UK: no ``type=number``)."""
    return forms.IntegerField(
        label=label, required=False, min_value=low, max_value=high,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )


class SeriesForm(ServiceErrorsMixin, forms.Form):
    """A series: title, pattern, first date, how long, UK times, place and description.

    The pattern is three choices: how often (:class:`~events.series.Frequency`),
    the day of the week, and for monthly and quarterly patterns which week
    of the month (first to fourth, or last). How long is either a number of
    months (1 to 24) from the first date or a last date, not both.
    """

    title = _meeting_field(
        "title", help_text="Every meeting in the series has this title. For example, "
                           "Paediatric Imaging SIG monthly meeting")
    frequency = forms.ChoiceField(
        label="How often", choices=Frequency.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select how often the meetings are",
                        "invalid_choice": "Select how often the meetings are"},
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week", coerce=int,
        choices=[("", "Choose a day")] + list(enumerate(WEEKDAY_NAMES)),
        error_messages={"required": "Select the day of the week",
                        "invalid_choice": "Select the day of the week"},
    )
    position = forms.TypedChoiceField(
        label="Which week of the month (once a month or once a quarter only)", coerce=int,
        required=False, empty_value=None,
        choices=[("", "Choose a week")] + [(n, word.capitalize()) for n, word in POSITIONS.items()],
        help_text="For example, Second for the second Tuesday of the month",
        error_messages={"invalid_choice": "Select which week of the month"},
    )
    first_date = DateInputField(
        label="First date",
        help_text="The first meeting is on the first matching day on or after this date. "
                  "For example, 1 2 2027",
        required_message="Enter the first date",
    )
    months = _whole_number(
        f"For how many months (1 to {MAX_MONTHS})", low=1, high=MAX_MONTHS,
        message=f"Enter a number of months from 1 to {MAX_MONTHS}",
    )
    last_date = DateInputField(
        label="Or a last date", name="Last date", required=False,
        help_text="Meetings up to and including this date. For example, 31 7 2027",
    )
    start_time = _meeting_field("start_time", help_text="UK time, the same for every "
                                                        "meeting. For example, 14:00")
    end_time = _meeting_field("end_time")
    teams_url = _meeting_field("teams_url")
    venue = _meeting_field("venue")
    dial_in = _meeting_field("dial_in")
    description = _meeting_field("description")
    in_person_places = _meeting_field("in_person_places")

    # Fields whose errors would make a plan of the dates meaningless.
    PLAN_FIELDS = ("frequency", "weekday", "position", "first_date", "months", "last_date",
                   "start_time", "end_time")

    def clean(self) -> dict:
        data = super().clean()
        frequency, position = data.get("frequency"), data.get("position")
        if frequency in NEEDS_POSITION and position is None and "position" not in self.errors:
            self.add_error("position", "Select which week of the month")
        if frequency and frequency not in NEEDS_POSITION:
            data["position"] = None
        if (data.get("in_person_places") and not data.get("venue")
                and "venue" not in self.errors):
            self.add_error("in_person_places", services.IN_PERSON_PLACES_NEED_VENUE)
        self._check_place()
        until = self._until(data)
        pattern = None
        if frequency and data.get("weekday") is not None and "position" not in self.errors:
            pattern = Pattern(frequency=frequency, weekday=data["weekday"],
                              position=data.get("position"))
        if (pattern and until and data.get("start_time") and data.get("end_time")
                and not any(field in self.errors for field in self.PLAN_FIELDS)):
            try:
                data["plan"] = plan_series(
                    pattern, first=data["first_date"], until=until,
                    start_time=data["start_time"], end_time=data["end_time"],
                )
            except ValidationError as exc:
                until_field = "months" if data.get("months") else "last_date"
                for field, messages in exc.message_dict.items():
                    target = until_field if field == "until" else field
                    for message in messages:
                        self.add_error(target if target in self.fields else None, message)
        return data

    def _check_place(self) -> None:
        """Meeting's own checks on the Teams link and venue, shown with the other errors."""
        data = self.cleaned_data
        if "teams_url" in self.errors or "venue" in self.errors:
            return
        probe = Meeting(title=data.get("title", ""), teams_url=data.get("teams_url", ""),
                        venue=data.get("venue", ""), dial_in=data.get("dial_in", ""))
        try:
            probe.clean()
        except ValidationError as exc:
            self.add_service_errors(exc)

    def _until(self, data: dict):
        """The last date of the series (inclusive), or None after adding an error."""
        first, months, last = data.get("first_date"), data.get("months"), data.get("last_date")
        if "months" in self.errors or "last_date" in self.errors:
            return None
        if months and last:
            self.add_error("months", "Enter a number of months or a last date, not both")
            return None
        if not months and not last:
            self.add_error("months", "Enter for how many months, or a last date")
            return None
        if first is None:
            return None
        today = london_today()
        if first < today:
            self.add_error("first_date", "The first date must be today or in the future")
            return None
        until = until_for_months(first, months) if months else last
        if until < first:
            self.add_error("last_date", "The last date must be on or after the first date")
            return None
        years = services.MAX_YEARS_AHEAD
        if until >= today + relativedelta(years=years):
            self.add_error("months" if months else "last_date",
                           f"A series can be scheduled up to {years} years ahead: choose "
                           "fewer months or an earlier last date")
            return None
        return until

    def series_fields(self) -> dict:
        """The cleaned values as keyword arguments for ``events.series.series_schedule``."""
        data = self.cleaned_data
        return {
            "plan": data["plan"], "title": data["title"], "teams_url": data["teams_url"],
            "venue": data["venue"], "dial_in": data["dial_in"],
            "description": data["description"], "in_person_places": data["in_person_places"],
        }
