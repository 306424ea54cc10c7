"""Network office pages: representation across the trusts, and the Forms import.

Only network office staff (``is_staff``) may use them: others get 403,
signed-out visitors are sent to sign in.
"""

from functools import wraps
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from .imports import InterestFileError, interest_file_read, interest_import
from .network import network_representation
from .permissions import is_network_office

# The real export is about 10 KB; 5 MB is room for thousands of answers.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ALLOWED_SUFFIXES = (".csv", ".xlsx")


def network_office_required(view):
    """Let only network office staff through: sign-in redirect if signed out, else 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_network_office(request.user):
            raise PermissionDenied("Only the network office can see this page.")
        return view(request, *args, **kwargs)

    return wrapper


class InterestUploadForm(forms.Form):
    """The Forms export to import: a .csv or .xlsx file of at most 5 MB."""

    file = forms.FileField(
        label="Upload the Microsoft Forms export",
        error_messages={
            "required": "Choose the .xlsx or .csv file downloaded from Microsoft Forms",
            "empty": "The file you chose is empty",
            "invalid": "The file could not be uploaded: choose it again",
        },
    )
    dry_run = forms.BooleanField(
        required=False, label="Check the file only",
        help_text="Show the report without saving anything.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                "The file must be a .xlsx or .csv file (you chose %(name)s)",
                params={"name": upload.name}, code="file_type",
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "The file must be smaller than %(limit)s (it is %(size)s)",
                params={"limit": filesizeformat(MAX_UPLOAD_BYTES),
                        "size": filesizeformat(upload.size)},
                code="file_size",
            )
        return upload


@network_office_required
def network_office(request):
    """The network office's overview: members and applications per trust and SIG."""
    return render(request, "members/office/network_office.html",
                  {"representation": network_representation()})


@network_office_required
def import_interest(request):
    """Upload the Forms export; on success show the per-row report and its totals."""
    report = None
    if request.method == "POST":
        form = InterestUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                answers = interest_file_read(file=upload, filename=upload.name)
                report = interest_import(answers=answers,
                                         dry_run=form.cleaned_data["dry_run"])
            except InterestFileError as exc:
                form.add_error("file", str(exc))
    else:
        form = InterestUploadForm()
    return render(request, "members/office/import_interest.html",
                  {"form": form, "report": report})
