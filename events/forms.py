"""Forms for scheduling and changing meetings and for answering an invitation.

Dates and times are entered in Europe/London and turned into aware UTC
datetimes here. The date is the NHS.UK date input (day, month and year in
three text boxes: a ``type=date`` input shows mm/dd/yyyy in a US-English
browser) and the times are text boxes that take "14:00", "14.00", "2pm" or
"2:30pm" (a ``type=time`` input shows a 12-hour clock with am/pm there). The
messages follow the NHS.UK style ("Enter the meeting date", "Date must include
a month", "Date must be a real date"). The rules about meetings live in
``events.services``, whose ValidationErrors are put back on the form's
fields with :meth:`add_service_errors`.
"""

from __future__ import annotations

from datetime import time

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from members.forms_dates import DATE_PARTS, DateInputField, DateInputWidget  # noqa: F401

from .models import MAX_LENGTHS, TEAMS_LINK_STARTS, Invitation, Meeting, too_long_message
from .services import IN_PERSON_PLACES_NEED_VENUE
from .timeutil import london_to_utc, parse_time, to_london

# The most in-person places a meeting may offer (a typo such as 2000000 is refused).
MAX_IN_PERSON_PLACES = 10_000

# Where a service error about a model field is shown on the form.
SERVICE_FIELD_TO_FORM_FIELD = {
    "start": "date",
    "end": "end_time",
    "title": "title",
    "teams_url": "teams_url",
    "venue": "venue",
    "dial_in": "dial_in",
    "description": "description",
    "in_person_places": "in_person_places",
    "response": "response",
    "note": "note",
}


class ServiceErrorsMixin:
    """Put a service's ValidationError on the right fields of this form.

    Used by every events form: a service error keyed by a field this form has
    (directly or through ``SERVICE_FIELD_TO_FORM_FIELD``) goes on that field;
    anything else goes on the form as a whole.
    """

    def add_service_errors(self, error: ValidationError) -> None:
        """Add ``error`` (a dict of field errors, or a list of messages) to the form."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                target = SERVICE_FIELD_TO_FORM_FIELD.get(field, field)
                if field == NON_FIELD_ERRORS or target not in self.fields:
                    target = None
                for message in messages:
                    self.add_error(target, message)
        else:
            for message in error.messages:
                self.add_error(None, message)


class TimeTextField(forms.Field):
    """A time of day in a text box: "14:00", "14.00", "2pm", "2:30pm" (see ``parse_time``)."""

    widget = forms.TimeInput(format="%H:%M", attrs={"autocomplete": "off",
                                                    "spellcheck": "false"})

    def __init__(self, *, noun: str, **kwargs):
        kwargs.setdefault("error_messages", {
            "required": f"Enter {'an' if noun[0] in 'aeiou' else 'a'} {noun}",
            "invalid": f"Enter a real {noun}, for example 14:00 or 2pm",
        })
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, time):
            return value
        if value in self.empty_values or not str(value).strip():
            return None
        parsed = parse_time(str(value))
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class MultilineField(forms.CharField):
    """A textarea's text with ``\r\n`` (as browsers send it) made ``\n`` before the
    length check, so a line break counts once, as in the browser's ``maxlength``."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


def _text_field(field: str, label: str, *, required: bool = True, **kwargs) -> forms.CharField:
    """A CharField holding at most ``MAX_LENGTHS[field]`` characters (the browser's
    ``maxlength`` too), with NHS.UK-style messages."""
    limit, _ = MAX_LENGTHS[field]
    messages = {"max_length": too_long_message(field)}
    if required:
        messages["required"] = f"Enter a {label.lower()}"
    field_class = MultilineField if isinstance(kwargs.get("widget"), forms.Textarea) \
        else forms.CharField
    return field_class(label=label, max_length=limit, required=required,
                       error_messages=messages, **kwargs)


class MeetingForm(ServiceErrorsMixin, forms.Form):
    """A meeting's title, time (Europe/London), place and description.

    ``cleaned_data`` gains ``start`` and ``end`` (aware UTC). Meetings start
    and end on the same day.
    """

    title = _text_field(
        "title", "Title", help_text="For example, Spring meeting",
    )
    date = DateInputField(
        label="Date", help_text="For example, 28 3 2027",
        required_message="Enter the meeting date",
    )
    start_time = TimeTextField(
        noun="start time", label="Start time", help_text="For example, 14:00",
    )
    end_time = TimeTextField(
        noun="end time", label="End time", help_text="For example, 15:30",
    )
    teams_url = _text_field(
        "teams_url", "Microsoft Teams link (optional if there is a venue)", required=False,
        help_text=f"Starts {TEAMS_LINK_STARTS}. Copy it from the Teams meeting "
                  "you created in Outlook or Teams.",
        widget=forms.TextInput(attrs={"type": "url", "spellcheck": "false"}),
    )
    venue = _text_field(
        "venue", "Venue (optional if there is a Teams link)", required=False,
        help_text="Room, hospital and address",
    )
    dial_in = _text_field(
        "dial_in", "Dial-in details (optional)", required=False,
        help_text="Phone number and conference ID, for joining by phone",
    )
    description = _text_field(
        "description", "Description (optional)", required=False,
        help_text="The agenda or anything members should know, in up to 4,000 characters",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    # A text box with a numeric keypad (NHS.UK: not type=number, which
    # changes the value when scrolled over).
    in_person_places = forms.IntegerField(
        label="In-person places (optional)", required=False, min_value=1,
        max_value=MAX_IN_PERSON_PLACES,
        help_text="Leave blank for no limit. Once the places are taken, members who answer "
                  "in person join a waiting list.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false",
                                      "autocomplete": "off"}),
        error_messages={
            "invalid": "In-person places must be a whole number, like 20",
            "min_value": "In-person places must be 1 or more",
            "max_value": f"In-person places must be {MAX_IN_PERSON_PLACES:,} or fewer",
        },
    )

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict:
        """Initial values to edit ``meeting``: its times in Europe/London."""
        start, end = to_london(meeting.start), to_london(meeting.end)
        return {
            "title": meeting.title, "date": start.date(), "start_time": start.time(),
            "end_time": end.time(), "teams_url": meeting.teams_url, "venue": meeting.venue,
            "dial_in": meeting.dial_in, "description": meeting.description,
            "in_person_places": meeting.in_person_places,
        }

    def clean(self) -> dict:
        data = super().clean()
        day, start_time, end_time = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start_time:
            try:
                data["start"] = london_to_utc(day, start_time)
            except ValidationError as exc:
                self.add_error("start_time", exc)
        if day and end_time:
            try:
                data["end"] = london_to_utc(day, end_time)
            except ValidationError as exc:
                self.add_error("end_time", exc)
        # The meeting's own rules (Meeting.clean), so every problem shows at once;
        # the service checks them again, with "starts in the future".
        probe = Meeting(
            title=data.get("title", ""), start=data.get("start"), end=data.get("end"),
            teams_url=data.get("teams_url", ""), venue=data.get("venue", ""),
            dial_in=data.get("dial_in", ""),
        )
        if not data.get("start") or not data.get("end"):
            probe.start = probe.end = None
        if "teams_url" not in self.errors and "venue" not in self.errors:
            try:
                probe.clean()
            except ValidationError as exc:
                self.add_service_errors(exc)
            if data.get("in_person_places") and not probe.venue:
                self.add_error("in_person_places", IN_PERSON_PLACES_NEED_VENUE)
        return data

    def meeting_fields(self) -> dict:
        """The cleaned values as keyword arguments for ``meeting_schedule``/``meeting_update``."""
        data = self.cleaned_data
        return {
            "title": data["title"], "start": data["start"], "end": data["end"],
            "teams_url": data["teams_url"], "venue": data["venue"],
            "dial_in": data["dial_in"], "description": data["description"],
            "in_person_places": data.get("in_person_places"),
        }


# The answers offered on the site, in this order (only those that apply to a
# meeting are shown). "Attending" without a mode only comes from calendars.
SITE_ANSWERS = (
    (Invitation.Response.IN_PERSON, "In person"),
    (Invitation.Response.ONLINE, "Online, on Microsoft Teams"),
    (Invitation.Response.TENTATIVE, "Tentative: I might be able to come"),
    (Invitation.Response.APOLOGIES, "Apologies: I cannot come"),
)


def answers_for(meeting: Meeting | None) -> list[tuple[str, str]]:
    """The ``(value, label)`` answers that apply to ``meeting``: in person only if it
    has a venue, online only if it has a Teams link; tentative and apologies always.
    All four for None."""
    def applies(value: str) -> bool:
        if meeting is None:
            return True
        if value == Invitation.Response.IN_PERSON:
            return bool(meeting.venue)
        if value == Invitation.Response.ONLINE:
            return bool(meeting.teams_url)
        return True

    return [(value, label) for value, label in SITE_ANSWERS if applies(value)]


class AnswerChoiceField(forms.ChoiceField):
    """Radios for the answers that apply, accepting any site answer when posted.

    An answer the meeting does not offer (in person at an online-only
    meeting, say: a stale page) is refused by ``invitation_respond``, whose
    message ("This meeting is online only") says why, rather than "Select a
    valid choice".
    """

    def valid_value(self, value) -> bool:
        return str(value) in {str(choice) for choice, _ in SITE_ANSWERS}


class ResponseForm(ServiceErrorsMixin, forms.Form):
    """An attendee's answer (in person, online, tentative or apologies) and an optional note.

    ``meeting`` limits the radios to the answers it offers (:func:`answers_for`);
    ``hints`` maps an answer's value to a hint shown under its radio (e.g.
    "4 of 20 in-person places left"). :attr:`options` gives each radio with its hint.
    """

    response = AnswerChoiceField(
        label="Can you come to this meeting?",
        choices=SITE_ANSWERS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you are attending",
                        "invalid_choice": "Select whether you are attending"},
    )
    note = forms.CharField(
        label="Note for the chairs (optional)", max_length=500, required=False,
        help_text="For example, joining late, or who will come in your place",
        error_messages={"max_length": "Note must be 500 characters or fewer"},
    )

    def __init__(self, *args, meeting: Meeting | None = None,
                 hints: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["response"].choices = answers_for(meeting)
        self.hints = hints or {}

    @property
    def options(self) -> list[tuple]:
        """``(radio, hint)`` for each answer offered; ``hint`` is ``""`` if none."""
        return [(radio, self.hints.get(str(radio.data["value"]), ""))
                for radio in self["response"]]
