"""Pages for a meeting's minutes and attendance (issue 4): parse, check, call, render.

Who sees what (``permissions.can_view_minutes``): draft minutes only the
group's chairs; circulated and approved minutes also the group's members and
those invited; published minutes the same, or every signed-in person when the
chair opened them to the network. Signed-out visitors are sent to sign in;
anyone else gets 403 with a reason, never the content. Every writing page is
for the group's chairs only (403). Services' ValidationErrors are shown on
the page (error summary or message), never as a 500.

Times are shown in Europe/London.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import attendance as attendance_services
from . import minutes as minutes_services
from . import selectors
from .attendance import attendance_is_open, attendance_rows
from .forms_minutes import (
    AttendanceForm,
    ChairApprovalForm,
    GuestForm,
    MinutesForm,
    PublishForm,
)
from .ical import group_label
from .markup import render_markdown
from .models import Action, Attendance, Meeting, Minutes, MinutesVersion
from .permissions import (
    can_manage_meeting,
    can_view_meeting,
    can_view_minutes,
    get_meeting_for_manager,
)

# NHS.UK tag colour per status.
STATUS_TAGS = {
    Minutes.Status.DRAFT: "nhsuk-tag--grey",
    Minutes.Status.CIRCULATED: "nhsuk-tag--yellow",
    Minutes.Status.APPROVED: "nhsuk-tag--green",
    Minutes.Status.PUBLISHED: "nhsuk-tag--blue",
}
# How far back the chair's page looks for minutes still to finish.
CHAIR_PANEL_WINDOW = timedelta(days=365)
CHAIR_PANEL_LIMIT = 10


def status_tag(minutes: Minutes | None) -> dict:
    """``{"label": ..., "css": ...}`` for an NHS.UK tag showing the minutes' status."""
    if minutes is None:
        return {"label": "Not written yet", "css": "nhsuk-tag--white"}
    return {"label": minutes.get_status_display(), "css": STATUS_TAGS[minutes.status]}


def _minutes_url(meeting: Meeting, name: str = "meeting_minutes") -> str:
    return reverse(f"events:{name}", kwargs={"pk": meeting.pk})


# --- Reading the minutes -------------------------------------------------------------


def _readable_minutes(request, pk: int) -> tuple[Meeting, Minutes | None, bool]:
    """The meeting, its minutes and whether the viewer chairs it, if they may read them.

    Raises Http404 if there is no meeting; PermissionDenied (403) if the viewer may not
    read the minutes (a draft for a member, another group's member, or none written).
    """
    meeting = selectors.meeting_for_page(pk=pk)
    is_chair = can_manage_meeting(request.user, meeting)
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is not None:
        minutes.meeting = meeting
    if is_chair:
        return meeting, minutes, True
    if minutes is None or not can_view_minutes(request.user, minutes):
        if (minutes is None or minutes.status == Minutes.Status.DRAFT) \
                and can_view_meeting(request.user, meeting):
            raise PermissionDenied("The minutes of this meeting have not been circulated yet.")
        raise PermissionDenied("Only members of the group can read these minutes.")
    return meeting, minutes, False


def _first_readable_version(request, meeting, minutes, *, is_chair: bool) -> int:
    """The oldest version number this viewer may open (found by the newcomer test).

    Chairs read every version, drafts included. Members and those invited read
    the version that was circulated and every later one, never the drafts
    before it. Anyone else (published minutes opened to the network) reads only
    the current version: corrections made before publication stay private.
    """
    if is_chair:
        return 1
    versions = MinutesVersion.objects.filter(minutes=minutes)
    if can_view_meeting(request.user, meeting):
        circulated = (versions.filter(created_at__lte=minutes.circulated_at)
                      .aggregate(n=Max("number"))["n"] if minutes.circulated_at else None)
        return circulated or 1
    return versions.aggregate(n=Max("number"))["n"] or 1


def _attendance_sections(rows) -> dict:
    return {
        "present": [r for r in rows if not r.is_guest and r.is_present],
        "guests": [r for r in rows if r.is_guest and r.is_present],
        "apologies": [r for r in rows if r.status == Attendance.Status.APOLOGIES],
        "absent": [r for r in rows if not r.is_guest and r.status == Attendance.Status.ABSENT],
    }


def _entries_with_actions(meeting: Meeting, version: MinutesVersion | None):
    """Each entry of ``version`` with its rendered HTML and the actions agreed at its item;
    and the meeting's actions not tied to any of them. One query (the actions)."""
    actions = list(
        Action.objects.filter(meeting=meeting)
        .select_related("owner", "owner__trust")
        .order_by("created_at", "id")
    )
    by_item: dict[int | None, list[Action]] = {}
    for action in actions:
        by_item.setdefault(action.agenda_item_id, []).append(action)
    entries = []
    for number, entry in enumerate(version.entries if version else [], start=1):
        item_id = entry.get("item")
        entries.append({
            "number": number, "item_id": item_id, "title": entry.get("title", ""),
            "html": render_markdown(entry.get("text", "")),
            "actions": by_item.pop(item_id, []) if item_id else [],
        })
    other = [action for group in by_item.values() for action in group]
    other.sort(key=lambda a: (a.created_at, a.pk))
    return entries, other


def _minutes_page(request, meeting, minutes, *, is_chair: bool, number: int | None):
    version, latest_number = None, 0
    if minutes is not None:
        latest_number = MinutesVersion.objects.filter(minutes=minutes).aggregate(
            latest=Max("number"))["latest"] or 0
        version = (MinutesVersion.objects.filter(minutes=minutes, number=number or latest_number)
                   .select_related("created_by").first())
    if number is not None and version is None:
        raise Http404("No such version of these minutes.")
    entries, other_actions = _entries_with_actions(meeting, version)
    rows = attendance_rows(meeting=meeting)
    return render(request, "events/minutes/minutes_detail.html", {
        "meeting": meeting,
        "group_label": group_label(meeting.group),
        "minutes": minutes,
        "tag": status_tag(minutes),
        "version": version,
        "latest_number": latest_number,
        "is_current": version is not None and version.number == latest_number,
        "entries": entries,
        "other_actions": other_actions,
        "is_chair": is_chair,
        "network_reader": not is_chair and not can_view_meeting(request.user, meeting),
        **_attendance_sections(rows),
    })


@login_required
@require_safe
def meeting_minutes(request, pk):
    """The meeting's minutes as they stand: header, attendance, each item's minutes and
    the actions agreed at it. See the module docstring for who may read them."""
    meeting, minutes, is_chair = _readable_minutes(request, pk)
    return _minutes_page(request, meeting, minutes, is_chair=is_chair, number=None)


@login_required
@require_safe
def minutes_version(request, pk, number):
    """One saved version of the minutes; 404 if none, or if it is older than the viewer
    may read (drafts before circulation are for chairs only)."""
    meeting, minutes, is_chair = _readable_minutes(request, pk)
    if minutes is None:
        raise Http404("These minutes have not been written yet.")
    if number < _first_readable_version(request, meeting, minutes, is_chair=is_chair):
        raise Http404("No such version of these minutes.")
    return _minutes_page(request, meeting, minutes, is_chair=is_chair, number=number)


@login_required
@require_safe
def minutes_history(request, pk):
    """Every version of the minutes the viewer may read, newest first: number, author,
    when, status when saved and the reason given, each linking to the version."""
    meeting, minutes, is_chair = _readable_minutes(request, pk)
    versions = []
    if minutes is not None:
        first = _first_readable_version(request, meeting, minutes, is_chair=is_chair)
        versions = list(MinutesVersion.objects.filter(minutes=minutes, number__gte=first)
                        .select_related("created_by").order_by("-number"))
    return render(request, "events/minutes/minutes_history.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "minutes": minutes,
        "tag": status_tag(minutes), "versions": versions, "is_chair": is_chair,
    })


# --- Writing and moving the minutes on (chairs) ---------------------------------------


def _edit_page(request, meeting, minutes, form, *, status: int = 200):
    version = minutes_services.latest_version(minutes)
    return render(request, "events/minutes/minutes_edit.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "minutes": minutes,
        "tag": status_tag(minutes), "form": form, "version": version,
        "can_write": not meeting.is_cancelled and attendance_is_open(meeting),
        "has_started": meeting.start <= timezone.now(),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request, pk):
    """Write or change the minutes (chairs only): one Markdown box per agenda item.

    Each save is a new version; approved or published minutes need a reason.
    "No changes to save" and other refusals are shown on the form.
    """
    meeting = get_meeting_for_manager(request.user, pk)
    minutes = minutes_services.minutes_for(meeting)
    version = minutes_services.latest_version(minutes)
    slots = minutes_services.minutes_slots(meeting=meeting, version=version)
    locked = bool(minutes and minutes.is_locked)
    if request.method == "GET":
        return _edit_page(request, meeting, minutes, MinutesForm(slots=slots, locked=locked))
    form = MinutesForm(request.POST, slots=slots, locked=locked)
    if form.is_valid():
        try:
            saved = minutes_services.minutes_save(
                meeting=meeting, entries=form.entries(), by=request.user,
                reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Minutes saved (version {saved.number}).")
            return redirect(_minutes_url(meeting))
    return _edit_page(request, meeting, minutes, form)


def _manager_minutes(request, pk) -> tuple[Meeting, Minutes]:
    meeting = get_meeting_for_manager(request.user, pk)
    minutes = minutes_services.minutes_for(meeting)
    if minutes is None:
        raise Http404("These minutes have not been written yet.")
    minutes.meeting = meeting
    return meeting, minutes


@login_required
@require_http_methods(["GET", "POST"])
def minutes_circulate(request, pk):
    """Circulate draft minutes for comment (chairs only): a page listing who will be
    emailed, then POST."""
    meeting, minutes = _manager_minutes(request, pk)
    error = ""
    if request.method == "POST":
        try:
            count = minutes_services.minutes_circulate(minutes=minutes, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Draft minutes circulated for comment to {count} "
                                      f"{'person' if count == 1 else 'people'}.")
            return redirect(_minutes_url(meeting))
    return render(request, "events/minutes/minutes_circulate.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "minutes": minutes,
        "tag": status_tag(minutes), "error": error,
        "recipients": minutes_services.circulation_recipients(meeting=meeting),
    })


@login_required
@require_http_methods(["GET", "POST"])
def minutes_approve(request, pk):
    """The chair approves circulated minutes without a meeting, giving a reason."""
    meeting, minutes = _manager_minutes(request, pk)
    form = ChairApprovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            minutes_services.minutes_approve_by_chair(
                minutes=minutes, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Minutes approved. They are now locked: any change is "
                                      "saved as a new version with a reason.")
            return redirect(_minutes_url(meeting))
    return render(request, "events/minutes/minutes_approve.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "minutes": minutes,
        "tag": status_tag(minutes), "form": form,
    })


@login_required
@require_http_methods(["GET", "POST"])
def minutes_publish(request, pk):
    """Publish approved minutes (chairs only), optionally open to all network staff."""
    meeting, minutes = _manager_minutes(request, pk)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = minutes_services.minutes_publish(
                minutes=minutes, by=request.user,
                open_to_network=form.cleaned_data["open_to_network"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Minutes published. {count} member"
                                      f"{'' if count == 1 else 's'} of the group "
                                      f"{'is' if count == 1 else 'are'} being told.")
            return redirect(_minutes_url(meeting))
    return render(request, "events/minutes/minutes_publish.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "minutes": minutes,
        "tag": status_tag(minutes), "form": form,
        "member_count": len(minutes_services.publication_recipients(meeting=meeting)),
    })


@login_required
@require_POST
def minutes_visibility(request, pk):
    """POST ``open_to_network`` (``"1"`` or ``"0"``): who may read published minutes."""
    meeting, minutes = _manager_minutes(request, pk)
    open_to_network = request.POST.get("open_to_network") == "1"
    try:
        minutes_services.minutes_set_visibility(minutes=minutes, by=request.user,
                                                open_to_network=open_to_network)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "These minutes are now open to all network staff."
                         if open_to_network else
                         "These minutes are now for members of the group only.")
    return redirect(_minutes_url(meeting))


@login_required
@require_POST
def minutes_approve_previous(request, pk):
    """At meeting ``pk`` (chairs only): record the last meeting's minutes as approved here."""
    meeting = get_meeting_for_manager(request.user, pk)
    previous = selectors.previous_meeting(meeting=meeting)
    minutes = minutes_services.minutes_for(previous) if previous else None
    if minutes is None:
        messages.error(request, "The last meeting has no minutes to approve.")
        return redirect(meeting)
    try:
        minutes_services.minutes_approve_at_meeting(minutes=minutes, at_meeting=meeting,
                                                    by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The minutes of {previous.title} are recorded as approved "
                                  "at this meeting.")
    return redirect(meeting)


# --- Attendance (chairs) --------------------------------------------------------------


def _attendance_page(request, meeting, *, form=None, guest_form=None, error: str = ""):
    rows = attendance_rows(meeting=meeting)
    locked = attendance_services.attendance_is_locked(meeting)
    is_open = attendance_is_open(meeting) and not locked
    if form is None and is_open:
        form = AttendanceForm(rows=rows)
    return render(request, "events/minutes/attendance.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "rows": rows,
        "guests": [row for row in rows if row.is_guest],
        "form": form, "guest_form": guest_form or GuestForm(), "is_open": is_open,
        "locked": locked, "locked_message": attendance_services.LOCKED_MESSAGE,
        "error": error, **_attendance_sections(rows),
    })


@login_required
@require_http_methods(["GET", "POST"])
def meeting_attendance(request, pk):
    """Who was at the meeting (chairs only): one radio group per person, filled from
    their recorded attendance or their answer; guests added and removed below.

    Open from the meeting's day (Europe/London); before then the page shows the
    attendance the answers imply, read-only.
    """
    meeting = get_meeting_for_manager(request.user, pk)
    if request.method == "GET":
        return _attendance_page(request, meeting)
    form = AttendanceForm(request.POST, rows=attendance_rows(meeting=meeting))
    if attendance_services.attendance_is_locked(meeting):
        return _attendance_page(request, meeting, error=attendance_services.LOCKED_MESSAGE)
    if not attendance_is_open(meeting):
        return _attendance_page(request, meeting, error=(
            "This meeting was cancelled." if meeting.is_cancelled
            else "Attendance can be recorded from the day of the meeting."))
    if form.is_valid():
        try:
            changed = attendance_services.attendance_record_many(
                meeting=meeting, statuses=form.statuses(), by=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Attendance saved." if changed
                             else "Attendance saved. Nothing had changed.")
            return redirect(_minutes_url(meeting, "meeting_attendance"))
    return _attendance_page(request, meeting, form=form)


@login_required
@require_POST
def attendance_guest_add(request, pk):
    """Add a guest "in attendance" (chairs only)."""
    meeting = get_meeting_for_manager(request.user, pk)
    guest_form = GuestForm(request.POST)
    if guest_form.is_valid():
        try:
            attendance_services.guest_add(meeting=meeting, by=request.user,
                                          **guest_form.cleaned_data)
        except ValidationError as exc:
            guest_form.add_service_errors(exc)
        else:
            messages.success(request, f"{guest_form.cleaned_data['name']} added as a guest.")
            return redirect(_minutes_url(meeting, "meeting_attendance") + "#guests")
    return _attendance_page(request, meeting, guest_form=guest_form)


@login_required
@require_POST
def attendance_guest_remove(request, pk, guest_pk):
    """Remove a guest (chairs only)."""
    meeting = get_meeting_for_manager(request.user, pk)
    try:
        attendance_services.guest_remove(meeting=meeting, guest_id=guest_pk, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Guest removed.")
    return redirect(_minutes_url(meeting, "meeting_attendance") + "#guests")


# --- Panels on the meeting page and the chair's page ----------------------------------


def meeting_panel_context(request, meeting, *, is_chair: bool, is_over: bool) -> dict:
    """Extra context for the meeting page's minutes panel
    (templates/events/minutes/_meeting_panel.html). Three queries.

    ``minutes_panel``: this meeting's minutes (``minutes``, ``tag``, ``visible``: the
    viewer may open them; the viewer can see the meeting, so only a draft is hidden
    from non-chairs), ``can_write`` (chairs, from the meeting's day), the previous
    meeting with its minutes and tag, and ``can_approve_previous`` (chairs, this
    meeting's day has come, those minutes circulated).
    """
    minutes = minutes_services.minutes_for(meeting)
    previous = selectors.previous_meeting(meeting=meeting)
    previous_minutes = minutes_services.minutes_for(previous) if previous else None
    is_open = attendance_is_open(meeting)
    return {"minutes_panel": {
        "minutes": minutes,
        "tag": status_tag(minutes),
        "visible": minutes is not None and (is_chair or minutes.status != Minutes.Status.DRAFT),
        "can_write": is_chair and is_open,
        "is_open": is_open,
        "previous": previous,
        "previous_minutes": previous_minutes,
        "previous_tag": status_tag(previous_minutes),
        "previous_visible": previous_minutes is not None and (
            is_chair or previous_minutes.status != Minutes.Status.DRAFT),
        "can_approve_previous": bool(
            is_chair and is_open and previous_minutes is not None
            and previous_minutes.status == Minutes.Status.CIRCULATED),
    }}


def chair_panel_context(request, group) -> dict:
    """Extra context for the chair's page's minutes panel
    (templates/events/minutes/_chair_panel.html). One query.

    ``minutes_to_finish``: up to 10 meetings of the group from the last year that
    have ended and whose minutes are not yet published (not written, draft,
    circulated or approved), newest first; each with ``minutes_tag``.
    """
    now = timezone.now()
    meetings = list(
        Meeting.objects.filter(group=group, status=Meeting.Status.SCHEDULED, end__lte=now,
                               start__gte=now - CHAIR_PANEL_WINDOW)
        .exclude(minutes__status=Minutes.Status.PUBLISHED)
        .select_related("minutes")
        .order_by("-start")[:CHAIR_PANEL_LIMIT]
    )
    for meeting in meetings:
        minutes = meeting.minutes if _has_minutes(meeting) else None
        meeting.minutes_tag = status_tag(minutes)
    return {"minutes_to_finish": meetings}


def _has_minutes(meeting: Meeting) -> bool:
    try:
        meeting.minutes  # noqa: B018 - select_related filled it, or raises
    except Minutes.DoesNotExist:
        return False
    return True
