"""Pages for groups and meetings, and the calendar feeds (thin: parse, check, call, render).

Times are stored in UTC and shown in Europe/London. Permissions come from
``members.permissions`` and ``events.permissions``: only a chair of a group
schedules, changes or cancels its meetings (others get 403); signed-out
people are sent to sign in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import selectors as member_selectors
from members import views_mail as member_mail_views
from members.pagecache import cached_page
from members.permissions import can_manage_group
from members.views_volunteering import task_and_finish_detail

from . import selectors, services, views_actions, views_agenda, views_minutes
from .feeds import FeedSource, feed_links, feed_response
from .forms import MeetingForm, ResponseForm
from .ical import group_label
from .models import Invitation
from .permissions import (
    get_group_for_meetings_manager,
    get_meeting_for_manager,
    get_meeting_for_viewer,
)


@require_safe
@cached_page
def group_detail(request, slug):
    """A group's page: summary, work programme, chairs, members by trust, upcoming
    meetings, task-and-finish groups, its public feed, and the visitor's own state.

    Public. Member names are shown only to the group's members and chairs; everyone
    sees the number of members from each trust.

    A task-and-finish group's page is :func:`members.views_volunteering.task_and_finish_detail`
    (volunteering, leads, places).
    """
    group = selectors.group_for_page(slug=slug)
    membership = member_selectors.current_membership_for(person=request.user, group=group)
    is_member = bool(membership and membership.status == membership.Status.ACTIVE)
    is_chair = can_manage_group(request.user, group)
    now = timezone.now()
    meetings = {
        "upcoming": list(selectors.upcoming_meetings(group=group, now=now)),
        "past": selectors.past_meetings(group=group, now=now) if is_member or is_chair else [],
        "is_member": is_member,
        "is_chair": is_chair,
    }
    if not group.is_sig:  # task-and-finish groups: the members app owns their page
        return task_and_finish_detail(request, slug, extra_context=meetings)
    by_trust = member_selectors.members_by_trust(group=group)
    context = {
        "group": group,
        "group_label": group_label(group),
        "membership": membership,
        "is_member": is_member,
        "is_chair": is_chair,
        "chairs": member_selectors.group_chairs(group=group),
        "members_by_trust": by_trust,
        "member_count": sum(t.count for t in by_trust),
        "show_member_names": is_member or is_chair,
        **meetings,
        "task_and_finish": list(selectors.task_and_finish_groups(group=group)),
        "feed": feed_links(reverse("events:group_feed", kwargs={"slug": group.slug})),
    }
    return render(request, "events/group_detail.html", context)


def _chair_page(request, group, form: MeetingForm):
    panels = {}
    for area in (views_agenda, views_minutes, views_actions, member_mail_views):
        panels.update(area.chair_panel_context(request, group))
    return render(request, "events/chair_dashboard.html", {
        **panels,
        "group": group,
        "group_label": group_label(group),
        "applications": list(member_selectors.pending_applications(group=group)),
        "meetings": list(selectors.meetings_for_chair(group=group)),
        "form": form,
        "now": timezone.now(),
    })


@login_required
def chair_dashboard(request, slug):
    """The chair's page: pending applications to decide, a form to schedule a meeting,
    and the group's meetings with links to change or cancel them. Chairs only (403).

    For a task-and-finish group it is the group's meetings page, for its leads
    and its SIG's chairs: the same scheduling and meetings, without
    applications (volunteers are decided on the lead's page)."""
    group = get_group_for_meetings_manager(request.user, slug)
    return _chair_page(request, group, MeetingForm())


@login_required
@require_http_methods(["GET", "POST"])
def meeting_schedule(request, slug):
    """POST the schedule form: invite every active member. Errors re-show the chair's page."""
    group = get_group_for_meetings_manager(request.user, slug)
    if request.method == "GET":
        return redirect(reverse("events:chair_dashboard", kwargs={"slug": slug}) + "#schedule")
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            meeting = services.meeting_schedule(
                group=group, scheduled_by=request.user, **form.meeting_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            invited = meeting.invitations.count()
            messages.success(
                request, f"Meeting scheduled. Invitations are on their way to {invited} "
                         f"member{'s' if invited != 1 else ''}.")
            return redirect(meeting)
    return _chair_page(request, group, form)


@require_safe
@login_required
@cached_page
def meeting_detail(request, pk):
    """A meeting: time in Europe/London, joining details, the visitor's answer form,
    and (for chairs) everyone's answers. Members of the group and chairs only (403)."""
    meeting = get_meeting_for_viewer(request.user, pk)
    return _meeting_page(request, meeting, form=None)


def _places_left_text(places: selectors.InPersonPlaces) -> str:
    """"4 of 20 in-person places left" (for a meeting with a limit)."""
    plural = "s" if places.places != 1 else ""
    return f"{places.left} of {places.places} in-person place{plural} left"


def _in_person_hint(places, *, invitation, position: int | None) -> str:
    """The hint under the "In person" radio: places left, full, or the visitor's place
    in the queue. ``""`` when there is no limit."""
    if places is None or places.places is None:
        return ""
    if position is not None:
        return f"You are number {position} on the waiting list"
    holds_place = invitation is not None and invitation.response == Invitation.Response.IN_PERSON
    if places.is_full and not holds_place:
        return "In-person places are full: you can join the waiting list"
    return _places_left_text(places)


def _answers_summary(groups) -> str:
    """"3 attending (2 in person, 1 online), 1 tentative, 1 apologies, 2 on the waiting
    list, 4 not answered yet." The "not said how" and waiting parts only when not 0."""
    n = {group.key: len(group.invitations) for group in groups}
    attending = n["in_person"] + n["online"] + n["attending"]
    modes = [f"{n['in_person']} in person", f"{n['online']} online"]
    if n["attending"]:
        modes.append(f"{n['attending']} not said how")
    parts = [f"{attending} attending ({', '.join(modes)})", f"{n['tentative']} tentative",
             f"{n['apologies']} apologies"]
    if n["waiting"]:
        parts.append(f"{n['waiting']} on the waiting list")
    parts.append(f"{n['needs_action']} not answered yet")
    return ", ".join(parts) + "."


def _meeting_page(request, meeting, *, form: ResponseForm | None):
    invitation = selectors.invitation_for(meeting=meeting, person=request.user)
    is_chair = can_manage_group(request.user, meeting.group)
    places = selectors.in_person_places(meeting=meeting) if meeting.venue else None
    position = selectors.waiting_position(invitation=invitation) if invitation else None
    if form is None and invitation is not None:
        initial = {}
        if invitation.response != invitation.Response.NEEDS_ACTION:
            initial = {"response": invitation.response, "note": invitation.note}
        form = ResponseForm(initial=initial, meeting=meeting)
    if form is not None:
        form.hints = {Invitation.Response.IN_PERSON: _in_person_hint(
            places, invitation=invitation, position=position)}
    attendees = list(selectors.meeting_attendees(meeting=meeting)) if is_chair else []
    groups = selectors.answer_groups(attendees)
    if invitation is None:
        your_answer = ""
    elif position is not None:
        your_answer = f"On the waiting list ({position})"
    else:
        your_answer = invitation.get_response_display()
    now = timezone.now()
    is_over = meeting.end <= now
    panels = {}
    for area in (views_agenda, views_minutes):
        panels.update(area.meeting_panel_context(
            request, meeting, is_chair=is_chair, is_over=is_over))
    # The actions panel asks whether the minutes are locked: they are read already.
    minutes = panels["minutes_panel"]["minutes"]
    panels.update(views_actions.meeting_panel_context(
        request, meeting, is_chair=is_chair, is_over=is_over,
        minutes_locked=minutes is not None and minutes.is_locked))
    return render(request, "events/meeting_detail.html", {
        **panels,
        "meeting": meeting,
        "group_label": group_label(meeting.group),
        "invitation": invitation,
        "your_answer": your_answer,
        # Accepted in a calendar without saying how: asked to say on the form.
        "mode_not_given": (invitation is not None
                           and invitation.response == Invitation.Response.ATTENDING),
        "waiting_position": position,
        "form": form,
        "is_chair": is_chair,
        "attendees": attendees,
        "answer_groups": groups,
        "answers_summary": _answers_summary(groups),
        "places": places if places is not None and places.places is not None else None,
        "places_left": _places_left_text(places) if places and places.places else "",
        "is_over": is_over,
        "can_answer": invitation is not None and not meeting.is_cancelled and meeting.end > now,
    })


@login_required
@require_POST
def meeting_respond(request, pk):
    """POST an answer (in person, online, tentative or apologies; optional note) to the
    visitor's invitation. An answer the meeting does not offer is shown as an error
    on the form ("This meeting is online only")."""
    meeting = get_meeting_for_viewer(request.user, pk)
    invitation = selectors.invitation_for(meeting=meeting, person=request.user)
    if invitation is None:
        raise PermissionDenied("You are not invited to this meeting.")
    form = ResponseForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            invitation = services.invitation_respond(invitation=invitation, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            position = selectors.waiting_position(invitation=invitation)
            if position is not None:
                messages.success(
                    request, f"Thank you. In-person places are full, so you are number "
                             f"{position} on the waiting list. We will email you if a place "
                             "becomes free.")
            else:
                messages.success(request, "Thank you. Your answer has been saved.")
            return redirect(meeting)
    return _meeting_page(request, meeting, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    """Change a meeting (chairs only). Attendees are sent an update only if something
    they see changed."""
    meeting = get_meeting_for_manager(request.user, pk)
    if meeting.is_cancelled or meeting.end <= timezone.now():
        messages.error(request, "This meeting has been cancelled or has already taken place, "
                                "so it cannot be changed.")
        return redirect(meeting)
    if request.method == "POST":
        form = MeetingForm(request.POST)
        if form.is_valid():
            before, places_before = meeting.sequence, meeting.in_person_places
            try:
                meeting = services.meeting_update(
                    meeting=meeting, updated_by=request.user, **form.meeting_fields())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if meeting.sequence == before and meeting.in_person_places != places_before:
                    messages.success(request, "In-person places saved. They are not in "
                                              "anyone's calendar, so no update was sent.")
                elif meeting.sequence == before:
                    messages.info(request, "Nothing changed, so no update was sent.")
                else:
                    messages.success(request, "Meeting changed. Everyone invited is being "
                                              "sent the updated invitation.")
                return redirect(meeting)
    else:
        form = MeetingForm(initial=MeetingForm.initial_for(meeting))
    return render(request, "events/meeting_edit.html", {
        "meeting": meeting, "form": form, "group_label": group_label(meeting.group),
    })


@login_required
@require_http_methods(["GET", "POST"])
def meeting_cancel(request, pk):
    """Cancel a meeting (chairs only): a confirmation page, then POST."""
    meeting = get_meeting_for_manager(request.user, pk)
    error = None
    if request.method == "POST":
        try:
            services.meeting_cancel(meeting=meeting, cancelled_by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Meeting cancelled. Everyone invited is being told.")
            return redirect(meeting)
    return render(request, "events/meeting_cancel.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "error": error,
    })


@require_safe
def personal_feed(request, token):
    """A person's private feed of their groups' meetings (rules F1-F9).

    The token is the secret; an unknown or reset token gets 404. No session
    or cookie is used (calendar apps send none). A request whose If-None-Match
    matches is answered 304 without rendering; bodies are cached by ETag
    (``events.feeds.feed_response``).
    """
    def source() -> FeedSource:
        person = selectors.person_for_feed_token(token=token)
        return FeedSource(
            meetings=selectors.meetings_for_person_feed(person=person, now=timezone.now()),
            groups=selectors.groups_for_person_feed(person=person),
            name=f"{settings.NETWORK_MAILBOX_NAME} SIG meetings")

    return feed_response(request, source=source, memo=("person", token), private=True)


@require_safe
def group_feed(request, slug):
    """A group's public feed: titles and times only (no links, venues or descriptions)."""
    def source() -> FeedSource:
        group = selectors.group_for_page(slug=slug)
        return FeedSource(
            meetings=selectors.meetings_for_group_feed(group=group, now=timezone.now()),
            groups=[(group.pk, group.kind, group.name)], name=f"{group_label(group)} meetings")

    return feed_response(request, source=source, memo=("group", slug), private=False)


# --- A series of meetings ------------------------------------------------------

# Posted fields that are the preview's own, not the series form's.
_SERIES_CONTROL_FIELDS = ("csrfmiddlewaretoken", "confirm", "change", "fingerprint")


def _series_page(request, group, form, *, plan=None, changed: bool = False):
    """The series form, or (with ``plan``) the preview of every date to confirm."""
    from .timeutil import format_when

    context = {"group": group, "group_label": group_label(group), "form": form}
    if plan is None:
        return render(request, "events/series_form.html", context)
    invited = member_selectors.members_by_trust(group=group)
    members = sum(t.count for t in invited)
    return render(request, "events/series_confirm.html", {
        **context,
        "plan": plan,
        "when": [format_when(o.start, o.end) for o in plan.occurrences],
        "member_count": members,
        "email_count": members * len(plan.occurrences),
        "hidden": [(name, value) for name, value in request.POST.items()
                   if name not in _SERIES_CONTROL_FIELDS],
        "changed": changed,
    })


@login_required
@require_http_methods(["GET", "POST"])
def series_schedule(request, slug):
    """Schedule a run of meetings from a pattern (chairs of a SIG only: 403, 404).

    GET shows the form. A POST checks it and shows a preview of every date;
    the preview posts the same fields back (hidden) with ``confirm`` and the
    plan's fingerprint, and only then is every meeting created and every
    invitation sent (``events.series.series_schedule``, one transaction). If
    the dates differ from the ones previewed (the clock moved past one), the
    preview is shown again. ``change`` goes back to the filled-in form.
    """
    from .forms_series import SeriesForm
    from .series import series_schedule as schedule_series

    group = get_group_for_meetings_manager(request.user, slug)
    if request.method == "GET":
        return _series_page(request, group, SeriesForm())
    form = SeriesForm(request.POST)
    if "change" in request.POST or not form.is_valid():
        return _series_page(request, group, form)
    plan = form.cleaned_data["plan"]
    if "confirm" not in request.POST:
        return _series_page(request, group, form, plan=plan)
    if request.POST.get("fingerprint") != plan.fingerprint():
        return _series_page(request, group, form, plan=plan, changed=True)
    try:
        series = schedule_series(group=group, scheduled_by=request.user,
                                 **form.series_fields())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _series_page(request, group, form)
    count = series.meetings.count()
    messages.success(
        request, f"{count} meeting{'s' if count != 1 else ''} scheduled ({series.pattern}). "
                 "Invitations to each are on their way to every member.")
    return redirect(reverse("events:chair_dashboard", kwargs={"slug": slug}) + "#meetings")
