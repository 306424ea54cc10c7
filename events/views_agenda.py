"""Pages for a meeting's agenda and papers (issue 4): thin, as in ``events.views``.

- ``meeting_agenda``: the agenda, for anyone who may see the meeting
  (``events.permissions.can_view_agenda``); signed-out visitors are sent to
  sign in, others get 403, unknown meetings 404.
- ``agenda_manage`` and the POST views after it: the chair's page to add,
  change, move and remove items, upload, replace and remove papers, and send
  the agenda pack. Chairs of the meeting's group only (403).
- ``paper_download``: a paper's file, streamed after the same check as the
  agenda; never a public media URL.

Uploads keep the file name exactly as the browser sent it
(:func:`_keeping_raw_file_names`), because Django quietly strips a path from
it and the rule is to refuse such a name; files over ``PAPER_MAX_MB`` are
dropped while they arrive (:class:`PaperSizeLimit`) rather than spooled to disk.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, Http404
from django.http.multipartparser import MultiPartParser
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import agenda, selectors
from .forms_agenda import (
    AgendaItemForm,
    PaperAddForm,
    PaperReplaceForm,
    PublishForm,
)
from .ical import group_label
from .models import AgendaItem, Meeting, Paper, PaperVersion
from .papers import size_limit_message
from .permissions import can_manage_meeting, can_view_agenda, get_meeting_for_manager


def meeting_panel_context(request, meeting, *, is_chair: bool, is_over: bool) -> dict:
    """Extra context for the meeting page's agenda panel (two queries).

    The panel is templates/events/agenda/_meeting_panel.html. Adds
    ``agenda_publication`` (the latest, or None), ``agenda_item_count`` (live
    items) and ``agenda_can_manage``.
    """
    return {
        "agenda_publication": agenda.latest_publication(meeting=meeting),
        "agenda_item_count": meeting.agenda_items.filter(removed_at__isnull=True).count(),
        "agenda_can_manage": is_chair and not meeting.is_cancelled,
    }


def chair_panel_context(request, group) -> dict:
    """Extra context for the chair's page's agenda panel (one query).

    The panel is templates/events/agenda/_chair_panel.html. Adds
    ``agenda_awaiting``: upcoming meetings whose agenda has not been sent.
    """
    return {"agenda_awaiting": list(agenda.meetings_awaiting_agenda(group=group,
                                                                      now=timezone.now()))}


# --- Helpers ------------------------------------------------------------------------


def _meeting_for_agenda(user, pk: int) -> Meeting:
    """The meeting ``pk`` if ``user`` may see its agenda: Http404 if none, 403 otherwise."""
    meeting = selectors.meeting_for_page(pk=pk)
    if not can_view_agenda(user, meeting):
        raise PermissionDenied("Only members of the group can see its agendas and papers.")
    return meeting


def _item_for(meeting: Meeting, item_pk: int) -> AgendaItem:
    """A live item of ``meeting`` (Http404 for another meeting's, or a removed one)."""
    return get_object_or_404(AgendaItem, pk=item_pk, meeting=meeting, removed_at__isnull=True)


def _paper_for(meeting: Meeting, paper_pk: int) -> Paper:
    """A paper on a live item of ``meeting``, not removed (Http404 otherwise)."""
    return get_object_or_404(
        Paper.objects.select_related("item"), pk=paper_pk, item__meeting=meeting,
        removed_at__isnull=True, item__removed_at__isnull=True,
    )


def _manage_url(meeting: Meeting, anchor: str = "") -> str:
    url = reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
    return f"{url}#{anchor}" if anchor else url


def _base_context(meeting: Meeting) -> dict:
    return {"meeting": meeting, "group_label": group_label(meeting.group),
            "is_over": meeting.end <= timezone.now()}


def _refusal(request, meeting: Meeting, exc: ValidationError):
    """A service refused a change that has no form field (e.g. the meeting was cancelled)."""
    messages.error(request, " ".join(exc.messages))
    return redirect(_manage_url(meeting))


class PaperSizeLimit(FileUploadHandler):
    """Drops an uploaded file as soon as it passes ``settings.PAPER_MAX_MB``.

    The field's name goes in ``too_big`` so the form can say "The selected file
    must be smaller than 20MB" (Django's SkipFile leaves no file behind), and
    no more of it is written to memory or disk.
    """

    def __init__(self, request, too_big: list[str]):
        super().__init__(request)
        self.too_big = too_big
        self.received = 0

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.PAPER_MAX_MB * 1024 * 1024:
            self.too_big.append(self.field_name)
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def _keeping_raw_file_names(view):
    """Wrap an upload view so it sees each file name exactly as the browser sent it.

    Django's multipart parser strips any path and control characters from a
    file name; we refuse such names instead (``events.papers.check_name``),
    so a parser that records the raw names in ``request.raw_file_names`` (in
    the order the files were sent) is set before the body is read, and
    :class:`PaperSizeLimit` goes first among the upload handlers. The CSRF
    check would read the body first, so it moves inside (Django's documented
    pattern for changing upload handlers in a view: ``csrf_exempt`` outside,
    ``csrf_protect`` inside).
    """
    protected = csrf_protect(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        names: list[str] = []
        too_big: list[str] = []

        class RecordingParser(MultiPartParser):
            def sanitize_file_name(self, file_name):
                names.append(file_name)
                return super().sanitize_file_name(file_name)

        if request.method == "POST":
            request.multipart_parser_class = RecordingParser
            request.upload_handlers.insert(0, PaperSizeLimit(request, too_big))
        request.raw_file_names = names
        request.too_big_files = too_big
        return protected(request, *args, **kwargs)

    return csrf_exempt(wrapper)


def _upload_from(request, form) -> tuple[object | None, str | None]:
    """The posted file and its raw name, or errors on ``form`` (too big / missing)."""
    if "file" in request.too_big_files:
        form.errors.pop("file", None)
        form.add_error("file", size_limit_message())
        return None, None
    raw_names = [name for name in request.raw_file_names if name]
    if not form.is_valid():
        if raw_names and "file" in form.errors:
            # Django dropped a file whose whole name was a path ("..", "a/"): say why.
            form.errors.pop("file")
            try:
                from .papers import check_name

                check_name(raw_names[0])
            except ValidationError as exc:
                form.add_error("file", exc.messages[0])
            else:
                form.add_error("file", "Select a file to upload")
        return None, None
    return form.cleaned_data["file"], (raw_names[0] if raw_names else None)


# --- The agenda, for members ------------------------------------------------------------


@login_required
@require_safe
def meeting_agenda(request, pk):
    """The agenda: numbered items, running start times, presenters, time allowed,
    papers, the actions carried forward and the previous meeting, and whether
    (and to how many people) it has been sent."""
    meeting = _meeting_for_agenda(request.user, pk)
    return render(request, "events/agenda/agenda.html", {
        **_base_context(meeting),
        "page": agenda.agenda_for_page(meeting=meeting),
        "is_chair": can_manage_meeting(request.user, meeting),
    })


@login_required
@require_safe
def paper_download(request, pk, paper_pk, number=None):
    """A paper's file (its latest version, or version ``number``) as an attachment.

    Only for people who may see the meeting's agenda (403 otherwise; signed-out
    visitors are sent to sign in); 404 for an unknown meeting, paper or
    version, or a removed paper. Sent with its stored Content-Type,
    ``X-Content-Type-Options: nosniff`` and ``Cache-Control: private``.
    """
    meeting = _meeting_for_agenda(request.user, pk)
    paper = _paper_for(meeting, paper_pk)
    versions = PaperVersion.objects.filter(paper=paper)
    version = (versions.filter(number=number).first() if number is not None
               else versions.order_by("-number").first())
    if version is None:
        raise Http404("No such version of this paper.")
    try:
        handle = agenda.open_version(version)
    except FileNotFoundError as exc:
        raise Http404("The file of this paper is missing.") from exc
    response = FileResponse(handle, as_attachment=True, filename=version.original_name,
                            content_type=version.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    # Should a browser ever show it inline, it runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- The chair's page -----------------------------------------------------------------


def _manage_page(request, meeting: Meeting, *, add_form=None, publish_form=None):
    page = agenda.agenda_for_page(meeting=meeting)
    if add_form is None:
        add_form = AgendaItemForm(initial={"minutes_allowed": 10})
    if publish_form is None:
        publish_form = PublishForm(republish=page.publication is not None)
    moved = request.GET.get("moved", "")
    return render(request, "events/agenda/manage.html", {
        **_base_context(meeting),
        "page": page,
        "add_form": add_form,
        "publish_form": publish_form,
        "moved_pk": int(moved) if moved.isdigit() else None,
        "moved_direction": request.GET.get("direction", ""),
        "can_publish": not meeting.is_cancelled and meeting.end > timezone.now(),
    })


@login_required
@require_safe
def agenda_manage(request, pk):
    """The chair's agenda page: items with change, remove and move up/down buttons,
    papers with their versions, a form to add an item and one to send the pack."""
    meeting = get_meeting_for_manager(request.user, pk)
    return _manage_page(request, meeting)


@login_required
@require_POST
def agenda_standing_items(request, pk):
    """Add the standing items to an empty agenda (meetings made before agendas existed)."""
    meeting = get_meeting_for_manager(request.user, pk)
    try:
        agenda.agenda_standing_items_add(meeting=meeting, by=request.user)
    except ValidationError as exc:
        return _refusal(request, meeting, exc)
    messages.success(request, "The standing items have been added to the agenda.")
    return redirect(_manage_url(meeting))


@login_required
@require_POST
def agenda_item_add(request, pk):
    """POST the add-an-item form; errors re-show the chair's page with the form."""
    meeting = get_meeting_for_manager(request.user, pk)
    form = AgendaItemForm(request.POST)
    if form.is_valid():
        try:
            item = agenda.agenda_item_add(meeting=meeting, by=request.user, **form.item_fields())
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return _refusal(request, meeting, exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Item added: {item.title}")
            return redirect(_manage_url(meeting, f"item-{item.pk}"))
    return _manage_page(request, meeting, add_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_item_edit(request, pk, item_pk):
    """Change an item's title, presenter, time allowed or description."""
    meeting = get_meeting_for_manager(request.user, pk)
    item = _item_for(meeting, item_pk)
    if request.method == "POST":
        form = AgendaItemForm(request.POST)
        if form.is_valid():
            try:
                agenda.agenda_item_update(item=item, by=request.user, **form.item_fields())
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):
                    return _refusal(request, meeting, exc)
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Item saved: {form.cleaned_data['title']}")
                return redirect(_manage_url(meeting, f"item-{item.pk}"))
    else:
        form = AgendaItemForm(initial=AgendaItemForm.initial_for(item))
    return render(request, "events/agenda/item_form.html", {
        **_base_context(meeting), "item": item, "form": form,
    })


@login_required
@require_http_methods(["GET", "POST"])
def agenda_item_remove(request, pk, item_pk):
    """Confirm, then remove an item (deleted if the agenda was never sent, else
    kept and shown as removed)."""
    meeting = get_meeting_for_manager(request.user, pk)
    item = _item_for(meeting, item_pk)
    if request.method == "POST":
        try:
            deleted = agenda.agenda_item_remove(item=item, by=request.user)
        except ValidationError as exc:
            return _refusal(request, meeting, exc)
        messages.success(request, f"Item removed: {item.title}" + (
            "" if deleted else ". It is shown as removed until the agenda is sent again."))
        return redirect(_manage_url(meeting))
    return render(request, "events/agenda/item_remove.html", {
        **_base_context(meeting), "item": item,
        "sent": agenda.latest_publication(meeting=meeting) is not None,
    })


@login_required
@require_POST
def agenda_item_move(request, pk, item_pk):
    """Move an item one place up or down (``direction``), then back to the chair's page
    with the same button focused, so a keyboard user can press it again."""
    meeting = get_meeting_for_manager(request.user, pk)
    item = _item_for(meeting, item_pk)
    direction = request.POST.get("direction", "")
    try:
        moved = agenda.agenda_item_move(item=item, direction=direction, by=request.user)
    except ValidationError as exc:
        return _refusal(request, meeting, exc)
    if moved:
        messages.success(request, f"Moved {direction}: {item.title}")
    else:
        messages.info(request, f"{item.title} is already {'first' if direction == 'up' else 'last'}"
                               " on the agenda.")
    # No #fragment: browsers skip autofocus when the URL targets an element, and the
    # focused button is scrolled into view anyway.
    url = reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
    return redirect(f"{url}?moved={item.pk}&direction={direction}")


@login_required
@require_POST
def agenda_publish(request, pk):
    """Send the agenda pack (or an updated one, with a note of what changed)."""
    meeting = get_meeting_for_manager(request.user, pk)
    republish = agenda.latest_publication(meeting=meeting) is not None
    form = PublishForm(request.POST, republish=republish)
    if form.is_valid():
        try:
            publication = agenda.agenda_publish(meeting=meeting, by=request.user,
                                                note=form.cleaned_data["note"])
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return _refusal(request, meeting, exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, publication.notice_count.sentence(
                "Updated agenda" if republish else "Agenda"))
            return redirect(_manage_url(meeting))
    return _manage_page(request, meeting, publish_form=form)


# --- Papers -------------------------------------------------------------------------


@login_required
@_keeping_raw_file_names
@require_http_methods(["GET", "POST"])
def paper_add(request, pk, item_pk):
    """Upload a paper for an item. Every check runs before anything is stored; a
    refused file is named in the error summary and nothing is kept."""
    meeting = get_meeting_for_manager(request.user, pk)
    item = _item_for(meeting, item_pk)
    form = PaperAddForm()
    if request.method == "POST":
        form = PaperAddForm(request.POST, request.FILES)
        upload, raw_name = _upload_from(request, form)
        if upload is not None:
            try:
                paper = agenda.paper_add(item=item, file=upload, name=raw_name,
                                         title=form.cleaned_data["title"], by=request.user)
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):
                    return _refusal(request, meeting, exc)
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Paper added: {paper.title}")
                return redirect(_manage_url(meeting, f"item-{item.pk}"))
    return render(request, "events/agenda/paper_form.html", {
        **_base_context(meeting), "item": item, "form": form, "paper": None,
    })


@login_required
@_keeping_raw_file_names
@require_http_methods(["GET", "POST"])
def paper_replace(request, pk, paper_pk):
    """Upload a new version of a paper; the page lists every version (all downloadable)."""
    meeting = get_meeting_for_manager(request.user, pk)
    paper = _paper_for(meeting, paper_pk)
    form = PaperReplaceForm()
    if request.method == "POST":
        form = PaperReplaceForm(request.POST, request.FILES)
        upload, raw_name = _upload_from(request, form)
        if upload is not None:
            try:
                version = agenda.paper_replace(paper=paper, file=upload, name=raw_name,
                                               by=request.user)
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):
                    return _refusal(request, meeting, exc)
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Version {version.number} of {paper.title} uploaded. "
                                          "Earlier versions are kept.")
                return redirect(_manage_url(meeting, f"item-{paper.item_id}"))
    versions = [(version, agenda.paper_url(paper, version))
                for version in paper.versions.order_by("-number")]
    return render(request, "events/agenda/paper_form.html", {
        **_base_context(meeting), "item": paper.item, "form": form, "paper": paper,
        "versions": versions,
    })


@login_required
@require_http_methods(["GET", "POST"])
def paper_remove(request, pk, paper_pk):
    """Confirm, then take a paper off the agenda (its versions are kept on record)."""
    meeting = get_meeting_for_manager(request.user, pk)
    paper = _paper_for(meeting, paper_pk)
    if request.method == "POST":
        try:
            agenda.paper_remove(paper=paper, by=request.user)
        except ValidationError as exc:
            return _refusal(request, meeting, exc)
        messages.success(request, f"Paper removed: {paper.title}")
        return redirect(_manage_url(meeting, f"item-{paper.item_id}"))
    return render(request, "events/agenda/paper_remove.html", {
        **_base_context(meeting), "paper": paper,
    })
