"""Forms for minutes and attendance (issue 4): parse and check what the chair typed.

The rules live in ``events.minutes`` and ``events.attendance``; their
ValidationErrors are put back on these forms with ``add_service_errors``
(keys such as ``reason`` or ``entry-12`` are the forms' own field names).
"""

from __future__ import annotations

from django import forms

from .attendance import GUEST_NAME_MAX, AttendanceRow
from .forms import ServiceErrorsMixin
from .minutes import MAX_ENTRY_LENGTH, MAX_REASON_LENGTH, MinutesSlot
from .models import Attendance


class MinutesForm(ServiceErrorsMixin, forms.Form):
    """One Markdown textarea per agenda item (named by ``minutes.entry_key``) and a reason.

    ``locked``: the minutes are approved or published, so the reason is required.
    """

    reason = forms.CharField(
        label="Reason for the change", max_length=MAX_REASON_LENGTH, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, slots: list[MinutesSlot], locked: bool, **kwargs):
        kwargs.setdefault("initial", {slot.key: slot.text for slot in slots})
        super().__init__(*args, **kwargs)
        self.slots = slots
        self.locked = locked
        for slot in slots:
            label = f"{slot.number}. {slot.title}" if slot.number else slot.title
            if slot.number is None and slot.item_id:
                label += " (removed from the agenda)"
            self.fields[slot.key] = forms.CharField(
                label=label, required=False, max_length=MAX_ENTRY_LENGTH, strip=False,
                widget=forms.Textarea(attrs={"rows": 6}),
                error_messages={"max_length": f"Minutes of item {label} must be "
                                              f"{MAX_ENTRY_LENGTH:,} characters or fewer"},
            )
        # The reason goes last, after the items.
        self.order_fields([slot.key for slot in slots] + ["reason"])
        if locked:
            self.fields["reason"].label = "Reason for changing the approved minutes"
            self.fields["reason"].required = True
            self.fields["reason"].help_text = (
                "These minutes have been approved, so they are locked: a change is saved as a "
                "new version with your name and this reason.")
            self.fields["reason"].error_messages["required"] = (
                "Give the reason for changing approved minutes")
        else:
            self.fields["reason"].label = "Note about this version (optional)"
        self.fields["reason"].error_messages["max_length"] = (
            f"Reason must be {MAX_REASON_LENGTH} characters or fewer")

    def item_fields(self):
        """The bound fields of the agenda items, in agenda order."""
        return [self[slot.key] for slot in self.slots]

    def entries(self) -> list[dict]:
        """``[{"item": pk or None, "text": str}]`` for ``minutes.minutes_save``."""
        return [{"item": slot.item_id, "text": self.cleaned_data.get(slot.key, "")}
                for slot in self.slots]


class ChairApprovalForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you approving the minutes without a meeting?",
        help_text='For example, "No comments received in 14 days and no meeting until June".',
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Give the reason for approving the minutes without a meeting",
            "max_length": f"Reason must be {MAX_REASON_LENGTH} characters or fewer",
        },
    )


class PublishForm(ServiceErrorsMixin, forms.Form):
    open_to_network = forms.BooleanField(
        label="Open these minutes to all network staff", required=False,
        help_text="Anyone signed in to SIG Hub with an NHS email address will be able to read "
                  "them. Leave unticked to keep them to members of the group.",
    )


class AttendanceForm(ServiceErrorsMixin, forms.Form):
    """One radio group per person (``person-<pk>``), filled from their row (recorded or
    derived from their answer)."""

    def __init__(self, *args, rows: list[AttendanceRow], **kwargs):
        people = [row for row in rows if not row.is_guest]
        kwargs.setdefault("initial", {f"person-{row.person.pk}": row.status for row in people})
        super().__init__(*args, **kwargs)
        self.rows = people
        for row in people:
            self.fields[f"person-{row.person.pk}"] = forms.ChoiceField(
                label=row.name, choices=Attendance.Status.choices, widget=forms.RadioSelect,
                error_messages={"required": f"Choose whether {row.name} was present, sent "
                                            "apologies or was absent",
                                "invalid_choice": f"Choose whether {row.name} was present, "
                                                  "sent apologies or was absent"},
            )

    def people(self):
        """``[(row, bound field)]`` in display order."""
        return [(row, self[f"person-{row.person.pk}"]) for row in self.rows]

    def statuses(self) -> dict[int, str]:
        """person pk -> status, for ``attendance.attendance_record_many``."""
        return {row.person.pk: self.cleaned_data[f"person-{row.person.pk}"] for row in self.rows}


class GuestForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Guest's name", max_length=GUEST_NAME_MAX,
                           error_messages={"required": "Enter the guest's name",
                                           "max_length": f"Name must be {GUEST_NAME_MAX} "
                                                         "characters or fewer"})
    organisation = forms.CharField(
        label="Organisation (optional)", max_length=GUEST_NAME_MAX, required=False,
        error_messages={"max_length": f"Organisation must be {GUEST_NAME_MAX} characters or "
                                      "fewer"})
    status = forms.ChoiceField(
        label="How did they attend?", widget=forms.RadioSelect,
        choices=[(Attendance.Status.IN_PERSON, "In person"),
                 (Attendance.Status.ONLINE, "Online")],
        initial=Attendance.Status.IN_PERSON,
        error_messages={"required": "Choose in person or online",
                        "invalid_choice": "Choose in person or online"},
    )
