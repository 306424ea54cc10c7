"""The NHS.UK date input: a date typed as day, month and year in three boxes.

Used by the meeting, series and action forms (events) and the task-and-finish
forms (members). It lives in members because events imports members, never
the reverse. Messages follow the NHS.UK style ("Date must include a month",
"Date must be a real date").
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

DATE_PARTS = ("day", "month", "year")


class DateInputWidget(forms.MultiWidget):
    """Day, month and year text boxes named ``<name>_day``, ``<name>_month``, ``<name>_year``.

    The NHS.UK markup is written by ``events/includes/date_input.html``.
    """

    def __init__(self, attrs=None):
        part = {"inputmode": "numeric", "autocomplete": "off"}
        super().__init__({name: forms.TextInput(attrs=part) for name in DATE_PARTS}, attrs)

    def decompress(self, value):
        if value:
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]


class DateInputField(forms.Field):
    """A date typed as day, month and year, with NHS.UK error messages.

    Each ValidationError carries ``params["parts"]``: the boxes to mark as in
    error (and the first one for the error summary's link).
    """

    widget = DateInputWidget

    def __init__(self, *, required_message: str = "Enter a date", name: str = "", **kwargs):
        """``name`` is what messages call the date ("Due date must be a real date");
        the label when not given (give it when the label says "(optional)")."""
        self.required_message = required_message
        self.name = name
        super().__init__(**kwargs)

    def clean(self, value):
        parts = [str(v).strip() for v in (value or ["", "", ""])]
        parts = (parts + ["", "", ""])[:3]
        if not any(parts):
            if self.required:
                raise ValidationError(self.required_message, code="required",
                                      params={"parts": DATE_PARTS})
            return None
        called = self.name or self.label
        missing = [name for name, text in zip(DATE_PARTS, parts, strict=True) if not text]
        if missing:
            raise ValidationError(f"{called} must include a {' and '.join(missing)}",
                                  code="incomplete", params={"parts": tuple(missing)})
        not_numbers = [name for name, text in zip(DATE_PARTS, parts, strict=True)
                       if not text.isascii() or not text.isdigit()]
        if not_numbers:
            raise ValidationError(f"{called} must be a real date", code="invalid",
                                  params={"parts": tuple(not_numbers)})
        day, month, year = (int(text) for text in parts)
        if len(parts[2]) != 4:
            raise ValidationError("Year must include 4 numbers", code="invalid_year",
                                  params={"parts": ("year",)})
        try:
            return date(year, month, day)
        except ValueError:
            bad = ("month",) if not 1 <= month <= 12 else ("day",)
            raise ValidationError(f"{called} must be a real date", code="invalid",
                                  params={"parts": bad}) from None
