"""Forms for the action log: recording an action, updating one, and filtering the log.

The rules live in ``events.actions``; its ValidationErrors (keyed by
``description``, ``owner``, ``due_date``, ``agenda_item``, ``status``,
``note``) are put back on these forms' fields by :meth:`add_service_errors`.
Dates use the NHS.UK date input (``events.forms.DateInputField``).
"""

from __future__ import annotations

from django import forms

from .actions import DESCRIPTION_MAX, NOTE_MAX, LogStatus
from .forms import DateInputField, MultilineField, ServiceErrorsMixin
from .models import Action


class PersonChoiceField(forms.ModelChoiceField):
    """A select of people, labelled "Name (Trust)"."""

    def label_from_instance(self, obj) -> str:
        trust = obj.trust.name if obj.trust_id else "trust not given"
        return f"{obj.get_full_name()} ({trust})"


class ItemChoiceField(forms.ModelChoiceField):
    """A select of a meeting's agenda items, numbered as on the agenda."""

    def label_from_instance(self, obj) -> str:
        return obj.title


def _description_field() -> MultilineField:
    return MultilineField(
        label="Action", max_length=DESCRIPTION_MAX,
        help_text="What is to be done, in a sentence or two",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Describe the action",
                        "max_length": f"Action must be {DESCRIPTION_MAX:,} characters or fewer"},
    )


def _owner_field(owners) -> PersonChoiceField:
    return PersonChoiceField(
        queryset=owners, label="Owner", empty_label="Choose a member",
        help_text="A member of the group. They are emailed the action.",
        error_messages={"required": "Choose who owns the action",
                        "invalid_choice": "Choose a member of the group"},
    )


def _due_date_field() -> DateInputField:
    return DateInputField(label="Due date (optional)", name="Due date", required=False,
                          help_text="For example, 31 3 2027. Leave blank if there is no deadline.")


class ActionForm(ServiceErrorsMixin, forms.Form):
    """A new action: agenda item (optional), description, owner and due date (optional).

    ``owners`` is the queryset of people who may own it
    (``events.actions.action_owner_choices``); ``items`` the meeting's agenda items.
    """

    agenda_item = ItemChoiceField(
        queryset=None, label="Agenda item (optional)", required=False,
        empty_label="Not under a particular item",
        error_messages={"invalid_choice": "Choose an item on this meeting's agenda"},
    )
    description = _description_field()
    owner = _owner_field(None)
    due_date = _due_date_field()

    def __init__(self, *args, owners, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["agenda_item"].queryset = items


STATUS_HINTS = {
    Action.Status.OPEN: "Still to do. It is listed on the next meeting's agenda.",
    Action.Status.DONE: "Finished. Say what was done in the note.",
    Action.Status.DROPPED: "No longer needed or cannot be done. Say why in the note.",
}


class ActionUpdateForm(ServiceErrorsMixin, forms.Form):
    """A status (open, done, dropped) and a note; for chairs also owner, description
    and due date (``details=True``).

    :meth:`service_kwargs` gives the keyword arguments for ``action_update``.
    """

    status = forms.ChoiceField(
        label="Status", choices=Action.Status.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose open, done or dropped",
                        "invalid_choice": "Choose open, done or dropped"},
    )
    note = MultilineField(
        label="Update note", max_length=NOTE_MAX, required=False,
        help_text="What has happened. Needed if you are dropping the action.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Note must be {NOTE_MAX:,} characters or fewer"},
    )

    def __init__(self, *args, details: bool, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.details = details
        if details:
            self.fields["description"] = _description_field()
            self.fields["owner"] = _owner_field(owners)
            self.fields["due_date"] = _due_date_field()

    @classmethod
    def initial_for(cls, action: Action) -> dict:
        """The action's present values, with an empty note."""
        return {"status": action.status, "note": "", "description": action.description,
                "owner": action.owner_id, "due_date": action.due_date}

    @property
    def status_options(self) -> list[tuple]:
        """``(radio, hint)`` for each status."""
        return [(radio, STATUS_HINTS.get(str(radio.data["value"]), ""))
                for radio in self["status"]]

    def service_kwargs(self) -> dict:
        """``status`` and ``note``, plus ``owner``, ``description`` and ``due_date`` for chairs."""
        data = self.cleaned_data
        kwargs = {"status": data["status"], "note": data["note"]}
        if self.details:
            kwargs.update(owner=data["owner"], description=data["description"],
                          due_date=data["due_date"])
        return kwargs


class ActionLogFilterForm(forms.Form):
    """The action log's GET filter: status (default open) and owner (default anyone).

    A value that is not offered is an error on the form, and the filter falls
    back to its default (see :meth:`filters`), so a bad link still shows a log.
    """

    status = forms.ChoiceField(
        label="Status", choices=LogStatus.CHOICES, required=False,
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
    owner = forms.ChoiceField(
        label="Owner", required=False,
        error_messages={"invalid_choice": "Choose an owner from the list"},
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Anyone")] + [
            (str(person.pk), person.get_full_name()) for person in owners]

    def filters(self) -> dict:
        """``{"status": str, "owner_id": int | None}``: valid values, defaults for the rest."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        status = data.get("status") or LogStatus.DEFAULT
        owner = data.get("owner")
        return {"status": status, "owner_id": int(owner) if owner else None}
