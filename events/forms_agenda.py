"""Forms for the agenda: items, papers and sending the agenda pack.

The forms only parse what was typed; the rules live in ``events.agenda`` and
``events.papers``, whose ValidationErrors come back onto the fields with
:meth:`events.forms.ServiceErrorsMixin.add_service_errors`. Messages follow the NHS.UK style
("Enter a title for the item", "Select a file to upload").
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from .agenda import MAX_MINUTES, NOTE_MAX
from .forms import ServiceErrorsMixin
from .papers import ACCEPT_ATTRIBUTE


class AgendaItemForm(ServiceErrorsMixin, forms.Form):
    """Add or change an item: title, presenter, time allowed (minutes), description."""

    title = forms.CharField(
        max_length=200, error_messages={
            "required": "Enter a title for the item",
            "max_length": "Title must be 200 characters or fewer",
        })
    presenter = forms.CharField(
        label="Presenter (optional)", max_length=200, required=False,
        help_text="Who introduces the item, for example Dr Jo Smith",
        error_messages={"max_length": "Presenter must be 200 characters or fewer"})
    minutes_allowed = forms.IntegerField(
        label="Time allowed, in minutes", min_value=0, max_value=MAX_MINUTES,
        help_text="For example, 15", error_messages={
            "required": "Enter the time allowed, in minutes",
            "invalid": "Time allowed must be a whole number of minutes, like 15",
            "min_value": f"Time allowed must be between 0 and {MAX_MINUTES} minutes",
            "max_value": f"Time allowed must be between 0 and {MAX_MINUTES} minutes",
        })
    description = forms.CharField(
        label="Description (optional)", required=False, max_length=2000,
        help_text="What the item is for. You can use Markdown: **bold**, *italic*, "
                  "- for a list, [text](https://link).",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Description must be 2,000 characters or fewer"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes_allowed"].widget.input_type = "text"
        self.fields["minutes_allowed"].widget.attrs.update(
            {"inputmode": "numeric", "spellcheck": "false"})

    def item_fields(self) -> dict:
        """The cleaned fields, as ``agenda_item_add``/``agenda_item_update`` take them."""
        return {name: self.cleaned_data[name] for name in
                ("title", "presenter", "minutes_allowed", "description")}

    @classmethod
    def initial_for(cls, item) -> dict:
        return {"title": item.title, "presenter": item.presenter,
                "minutes_allowed": item.minutes_allowed, "description": item.description}


class PaperFileField(forms.FileField):
    """A file input whose checks are ``events.papers``': Django's own "empty file" check
    is left off so the NHS.UK message ("The selected file is empty") is the one shown."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_empty_file", True)
        kwargs.setdefault("max_length", None)
        kwargs.setdefault("error_messages", {
            "required": "Select a file to upload",
            "invalid": "Select a file to upload",
            "missing": "Select a file to upload",
        })
        super().__init__(**kwargs)


def paper_hint() -> str:
    return f"A PDF, Word, PowerPoint or Excel file, smaller than {settings.PAPER_MAX_MB}MB."


class PaperAddForm(ServiceErrorsMixin, forms.Form):
    """Upload a new paper for an item: the file and an optional title."""

    file = PaperFileField(label="Upload a file")
    title = forms.CharField(
        label="Title of the paper (optional)", required=False, max_length=200,
        help_text="If you leave this blank, the file name is used",
        error_messages={"max_length": "Paper title must be 200 characters or fewer"})
    accept = ACCEPT_ATTRIBUTE

    def hint(self) -> str:
        return paper_hint()


class PaperReplaceForm(ServiceErrorsMixin, forms.Form):
    """Upload a new version of a paper (earlier versions are kept)."""

    file = PaperFileField(label="Upload the new version")
    accept = ACCEPT_ATTRIBUTE

    def hint(self) -> str:
        return paper_hint()


class PublishForm(ServiceErrorsMixin, forms.Form):
    """Send (or send again) the agenda pack. ``note`` is required when sending again."""

    note = forms.CharField(
        label="What has changed", required=False, max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="This is at the top of the email, for example: Item 4 added; the "
                  "finance paper replaced",
        error_messages={"max_length": f"What has changed must be {NOTE_MAX} characters "
                                      "or fewer"})

    def __init__(self, *args, republish: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.republish = republish

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if self.republish and not note:
            raise ValidationError("Say what has changed since the agenda was sent")
        return note

