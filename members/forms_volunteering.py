"""Forms for task-and-finish groups: volunteering, the "Get involved" filters, the lead's page.

Templates render every field through ``templates/members/form_field.html``
(dates through ``events/includes/date_input.html``: the NHS.UK day, month and
year boxes of :class:`events.forms.DateInputField`, since a ``type=date``
picker shows mm/dd/yyyy in a US-English browser). Every error message names
its field, in NHS.UK style. Textareas count a line break as one character,
as the browser's ``maxlength`` does.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .forms import StaffGroupChoiceField, TrustChoiceField
from .forms_dates import DateInputField
from .models import ICB, Group, GroupTarget, StaffGroup
from .selectors import HOURS_CHOICES
from .volunteering import (
    NULL_CHARACTER_MESSAGE,
    STATEMENT_MAX_LENGTH,
    normalise_text,
    parse_output_links,
)


class TextAreaField(forms.CharField):
    """A textarea's text, its line breaks made one character before the length check.

    Browsers post a line break as CR LF but count it as one character for
    ``maxlength``; without this, text the browser allowed would be refused as
    too long. ``name`` is what the messages call the field. A null character
    (pasted from some tools) gets an NHS.UK-style message, not Django's.
    """

    def __init__(self, *, name: str, max_length: int, rows: int = 3, **kwargs) -> None:
        messages = {
            "max_length": f"{name} must be {max_length:,} characters or fewer",
            "null_characters_not_allowed": NULL_CHARACTER_MESSAGE.format(name=name),
            **kwargs.pop("error_messages", {}),
        }
        super().__init__(
            max_length=max_length, error_messages=messages,
            widget=forms.Textarea(attrs={"rows": rows, "maxlength": max_length}), **kwargs)

    def to_python(self, value):
        """The text with CR LF (and lone CR) made LF and outer spaces removed."""
        return normalise_text(super().to_python(value))


class PlanDateField(DateInputField):
    """An optional NHS.UK day/month/year date; boxes missing from the POST count as empty
    (``DateInputField`` would read a missing box as the text "None", not a real date)."""

    def clean(self, value):
        """The date, or None when every box is empty or missing."""
        return super().clean(["" if part is None else part for part in (value or [])])


def _plan_date(label: str, name: str, hint: str) -> PlanDateField:
    return PlanDateField(label=label, name=name, required=False, help_text=hint)


class ServiceErrorsMixin:
    """Put a service's ValidationError on the form: field errors on their fields, others on top."""

    def add_service_errors(self, exc: ValidationError) -> None:
        """Add a service's ``exc`` (field-keyed or plain messages) to this form."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)


class VolunteerForm(ServiceErrorsMixin, forms.Form):
    """Volunteer in one step: a statement and the line manager confirmation.

    A person whose profile has no trust or staff group yet (a newcomer) is
    asked for them on the same form; otherwise those fields are left out.
    """

    statement = TextAreaField(
        label="Why you would like to join this group",
        help_text="A few sentences: your role and what you could bring. Only the group's "
                  "leads read this (or, until it has a lead, the SIG's chairs).",
        name="Why you would like to join", max_length=STATEMENT_MAX_LENGTH, rows=4,
        error_messages={"required": "Say why you would like to join the group"},
    )
    line_manager_aware = forms.BooleanField(
        label="My line manager knows I am volunteering for this group",
        help_text="Groups meet in work time: check with your line manager before you volunteer.",
        error_messages={"required": "Confirm that your line manager knows you are volunteering"},
    )

    def __init__(self, *args, person=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if person is None or person.trust_id is None:
            self.fields["trust"] = TrustChoiceField(
                label="Your trust", error_messages={
                    "required": "Select your trust",
                    "invalid_choice": "Select your trust from the list"})
            self.fields["trust"].set_grouped_choices()
        if person is None or person.staff_group_id is None:
            self.fields["staff_group"] = StaffGroupChoiceField(
                label="Your staff group", error_messages={
                    "required": "Select your staff group",
                    "invalid_choice": "Select your staff group from the list"})
        self.order_fields(["trust", "staff_group", "statement", "line_manager_aware"])

    def full_clean(self) -> None:
        super().full_clean()
        if "trust" in self.errors and "trust" in self.fields:
            self.fields["trust"].widget.attrs["class"] = "nhsuk-select nhsuk-select--error"

    def sign_up_fields(self) -> dict:
        """Keyword arguments for :func:`members.volunteering.volunteer_sign_up`."""
        data = self.cleaned_data
        return {"statement": data["statement"], "line_manager_aware": data["line_manager_aware"],
                "trust": data.get("trust"), "staff_group": data.get("staff_group")}


class GetInvolvedFilterForm(forms.Form):
    """Filters on "Get involved" (GET): SIG, ICB, time commitment. All optional."""

    sig = forms.ChoiceField(label="Special interest group", required=False)
    icb = forms.ChoiceField(label="Integrated care board (ICB)", required=False)
    hours = forms.ChoiceField(
        label="Time commitment", required=False,
        choices=[("", "Any")] + [(value, label) for value, label, _ in HOURS_CHOICES])

    def __init__(self, *args, sigs: list[Group], icbs: list[ICB], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sig"].choices = [("", "All SIGs")] + [(s.slug, s.name) for s in sigs]
        self.fields["icb"].choices = [("", "Anywhere")] + [(i.ods_code, i.name) for i in icbs]
        for name, message in (("sig", "Choose a SIG from the list"),
                              ("icb", "Choose an ICB from the list"),
                              ("hours", "Choose a time commitment from the list")):
            self.fields[name].widget.attrs["class"] = "nhsuk-select"
            self.fields[name].error_messages["invalid_choice"] = message

    def filters(self) -> dict:
        """Keyword arguments for :func:`members.selectors.get_involved_groups` (valid ones only)."""
        if not self.is_valid():
            return {}
        hours = {value: most for value, _, most in HOURS_CHOICES}
        return {"sig_slug": self.cleaned_data["sig"], "icb_code": self.cleaned_data["icb"],
                "max_hours": hours.get(self.cleaned_data["hours"])}


class RecruitmentForm(ServiceErrorsMixin, forms.Form):
    """The lead changes places, dates (closing, start, planned end), approval and time.

    The dates' ranges and order are checked by
    :func:`members.volunteering.group_update_recruitment` and shown on their fields.
    """

    places = forms.IntegerField(
        label="Places (optional)", required=False, min_value=1, max_value=10000,
        help_text="The most volunteers at once. Leave empty for no limit. Lowering it removes "
                  "nobody: new volunteers wait until numbers fall.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Places must be a whole number, like 8",
                        "min_value": "Places must be 1 or more, or left empty for no limit",
                        "max_value": "Places must be 10,000 or fewer"})
    hours_per_month = forms.IntegerField(
        label="Time commitment in hours per month (optional)", required=False, min_value=1,
        max_value=200, widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Hours per month must be a whole number, like 4",
                        "min_value": "Hours per month must be 1 or more",
                        "max_value": "Hours per month must be 200 or fewer"})
    signup_closes = _plan_date(
        "Sign-up closes (optional)", "Sign-up closes",
        "The last day people can volunteer, for example 30 6 2027. Leave empty to keep "
        "sign-up open.")
    starts_on = _plan_date("Start date (optional)", "Start date",
                           "When the group starts its work, for example 1 9 2027.")
    ends_on = _plan_date("Planned end date (optional)", "Planned end date",
                         "When the group plans to finish, for example 31 3 2028.")
    requires_approval = forms.BooleanField(
        label="Leads accept or decline each volunteer", required=False,
        help_text="Otherwise volunteers join straight away while places last.")

    @classmethod
    def for_group(cls, group: Group, data=None) -> RecruitmentForm:
        """The form filled in with ``group``'s current values (bound to ``data`` if given)."""
        return cls(data=data, initial={
            "places": group.places, "hours_per_month": group.hours_per_month,
            "signup_closes": group.signup_closes, "starts_on": group.starts_on,
            "ends_on": group.ends_on, "requires_approval": group.requires_approval})


class StatusForm(ServiceErrorsMixin, forms.Form):
    """Move the group on: recruiting, under way, completed (outcome) or closed early (reason)."""

    status = forms.ChoiceField(
        label="New status", widget=forms.RadioSelect,
        error_messages={"required": "Select the group's new status",
                        "invalid_choice": "Select one of the statuses listed"})
    outcome_summary = TextAreaField(
        label="Outcome (when completed)", required=False, name="The outcome", max_length=4000)
    output_links = TextAreaField(
        label="Links to outputs (when completed, optional)", required=False,
        name="The links", max_length=8000,
        help_text="One a line: a title then the address, for example Protocol set "
                  "https://www.example.nhs.uk/protocols.pdf")
    close_reason = TextAreaField(
        label="Reason (when closing early)", required=False, name="The reason",
        max_length=2000)

    def __init__(self, *args, allowed: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Group.Status(s).label) for s in allowed]

    def clean_output_links(self) -> list[dict]:
        """The links as ``[{"title", "url"}]``; a line without an https address is an
        error on this field (``parse_output_links`` keys its error by field name, which
        a ``clean_<field>`` method may not raise)."""
        try:
            return parse_output_links(self.cleaned_data["output_links"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class TargetForm(ServiceErrorsMixin, forms.Form):
    """Add a desired-mix target: at least N from a staff group, or from each ICB."""

    kind = forms.ChoiceField(
        label="Target", choices=GroupTarget.Kind.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of target",
                        "invalid_choice": "Select the kind of target"})
    staff_group = forms.ModelChoiceField(
        label="Staff group (for a staff group target)", required=False,
        queryset=StaffGroup.objects.all(), empty_label="Choose a staff group",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Select a staff group from the list"})
    minimum = forms.IntegerField(
        label="At least", min_value=1, max_value=100, initial=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": "Enter how many people the target needs",
                        "invalid": "The target must be a whole number, like 1",
                        "min_value": "The target must be at least 1",
                        "max_value": "The target must be 100 or fewer"})


class AppointLeadForm(forms.Form):
    """Appoint a lead from the SIG's active members."""

    person = forms.ChoiceField(
        label="SIG member",
        error_messages={"required": "Select the SIG member to appoint",
                        "invalid_choice": "Select a SIG member from the list"})

    def __init__(self, *args, sig_members, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Choose a SIG member")] + [
            (str(m.person_id), f"{m.person.get_full_name()} ({m.person.email})")
            for m in sig_members]
        self.fields["person"].widget.attrs["class"] = "nhsuk-select"


class VolunteerDecisionForm(forms.Form):
    """A lead's decision on a request: ``accept`` or ``decline``."""

    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("decline", "Decline")],
        error_messages={"required": "Select accept or decline",
                        "invalid_choice": "Select accept or decline"})
