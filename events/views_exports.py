"""Downloads: minutes (PDF, .docx), the agenda pack (PDF), the action log (CSV, XLSX).

Each view checks permission before anything is made: signed-out visitors are
sent to sign in; someone who may not see the meeting or group gets 403, and
minutes or an agenda that are not out yet are 404 for them, so a file is
never sent to anyone who may not read it. Rules:

- minutes: ``events.permissions.can_view_minutes`` (drafts: chairs only);
- agenda pack: ``events.permissions.can_view_agenda`` (as the agenda page);
- action log: members of the group and its chairs (``events.actions.can_view_action_log``).

Files are sent as attachments named like ``paediatric-imaging-minutes-2027-03-03.pdf``
and marked ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import actions, exports, selectors
from .ical import group_label
from .models import Minutes
from .permissions import can_view_agenda, can_view_meeting, can_view_minutes
from .views_actions import get_group_for_action_log, log_filters

logger = logging.getLogger(__name__)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _download(content: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pdf_download(request, make_pdf, *, filename: str) -> HttpResponse:
    """``make_pdf()`` as a PDF download, or a 503 page saying PDFs are unavailable here
    (WeasyPrint could not load Pango) and that the page itself can still be printed."""
    try:
        content = make_pdf()
    except exports.PdfUnavailable:
        logger.exception("PDF export unavailable: WeasyPrint could not be loaded")
        return render(request, "events/exports/pdf_unavailable.html", status=503)
    return _download(content, content_type=PDF, filename=filename)


def _minutes_for(user, pk: int) -> Minutes:
    """The minutes of meeting ``pk`` if ``user`` may read them.

    Http404 if there is no such meeting, no minutes or no version yet, or
    (for someone who may see the meeting) the minutes are still a draft;
    PermissionDenied if ``user`` may not see the meeting or its minutes.
    """
    meeting = selectors.meeting_for_page(pk=pk)
    minutes = (Minutes.objects.select_related("approved_at_meeting")
               .filter(meeting=meeting).first())
    if minutes is None or not can_view_minutes(user, minutes):
        if not can_view_meeting(user, meeting):
            raise PermissionDenied("Only members of the group can see its minutes.")
        raise Http404("There are no minutes of this meeting to download yet.")
    minutes.meeting = meeting
    if not minutes.versions.exists():
        raise Http404("There are no minutes of this meeting to download yet.")
    return minutes


@login_required
@require_safe
def minutes_pdf(request, pk):
    """The meeting's minutes (current version) as a PDF."""
    minutes = _minutes_for(request.user, pk)
    document = exports.minutes_document(meeting=minutes.meeting, minutes=minutes)
    filename = exports.export_filename(minutes.meeting.group, "minutes",
                                       exports.meeting_day(minutes.meeting), "pdf")
    return _pdf_download(request, lambda: exports.minutes_pdf(document), filename=filename)


@login_required
@require_safe
def minutes_docx(request, pk):
    """The meeting's minutes (current version) as a Word document."""
    minutes = _minutes_for(request.user, pk)
    document = exports.minutes_document(meeting=minutes.meeting, minutes=minutes)
    filename = exports.export_filename(minutes.meeting.group, "minutes",
                                       exports.meeting_day(minutes.meeting), "docx")
    return _download(exports.minutes_docx(document), content_type=DOCX, filename=filename)


@login_required
@require_safe
def agenda_pdf(request, pk):
    """The meeting's agenda pack as a PDF, for whoever may see the agenda page (as
    there, before the chair sends it the pack is marked as a draft not yet sent)."""
    meeting = selectors.meeting_for_page(pk=pk)
    if not can_view_agenda(request.user, meeting):
        raise PermissionDenied("Only members of the group can see its agendas.")
    filename = exports.export_filename(meeting.group, "agenda", exports.meeting_day(meeting),
                                       "pdf")
    return _pdf_download(request, lambda: exports.agenda_pack_pdf(meeting=meeting),
                         filename=filename)


def _filtered_log(request, slug):
    group = get_group_for_action_log(request.user, slug)
    _, filters = log_filters(request, group)
    today = actions.london_today()
    return group, list(actions.action_log(group=group, today=today, **filters)), today


@login_required
@require_safe
def action_log_csv(request, slug):
    """The action log, filtered as on the page (``?status=&owner=``), as CSV."""
    group, rows, today = _filtered_log(request, slug)
    # A byte-order mark so Excel reads the UTF-8 (names with accents) correctly.
    body = "\ufeff" + exports.action_log_csv(rows, today=today)
    return _download(body.encode("utf-8"), content_type=CSV,
                     filename=exports.export_filename(group, "actions", today, "csv"))


@login_required
@require_safe
def action_log_xlsx(request, slug):
    """The action log, filtered as on the page (``?status=&owner=``), as an Excel workbook."""
    group, rows, today = _filtered_log(request, slug)
    body = exports.action_log_xlsx(rows, title=f"{group_label(group)} action log", today=today)
    return _download(body, content_type=XLSX,
                     filename=exports.export_filename(group, "actions", today, "xlsx"))
