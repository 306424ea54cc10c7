"""Pages for the action log (issue 4): record, update and see actions; the SIG's log.

Thin views: parse the request, check permission (``events.actions``
predicates, ``events.permissions``), call one service, render. Signed-out
visitors are sent to sign in; people without access get 403 (404 for
something that does not exist).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from members.permissions import can_manage_group

from . import actions, selectors
from .forms_actions import ActionForm, ActionLogFilterForm, ActionUpdateForm
from .ical import group_label
from .models import Action, AgendaItem
from .permissions import get_meeting_for_manager


def meeting_panel_context(request, meeting, *, is_chair: bool, is_over: bool,
                          minutes_locked: bool | None = None) -> dict:
    """Extra context for the meeting page's actions panel.

    The panel is templates/events/actions/_meeting_panel.html:
    ``actions_agreed`` (actions agreed at this meeting, with owner, trust and
    item; one query), ``actions_today`` (the UK date overdue is judged by),
    ``can_record_action`` (a chair, meeting not cancelled, minutes not approved) and
    ``action_log_url`` (shown to members and chairs). ``minutes_locked``:
    whether the meeting's minutes are approved or published, when the caller
    knows already (None: one query to find out).
    """
    show_log = actions.can_view_action_log(request.user, meeting.group, manages=is_chair)
    return {
        "actions_agreed": list(actions.actions_agreed_at(meeting=meeting)),
        "actions_today": actions.london_today(),
        "can_record_action": is_chair and not meeting.is_cancelled and not (
            selectors.minutes_locked(meeting=meeting) if minutes_locked is None
            else minutes_locked),
        "action_log_url": (reverse("events:action_log", kwargs={"slug": meeting.group.slug})
                           if show_log else ""),
    }


def chair_panel_context(request, group) -> dict:
    """Extra context for the chair's page's actions panel.

    The panel is templates/events/actions/_chair_panel.html:
    ``action_counts`` (open and overdue; one query).
    """
    return {"action_counts": actions.action_counts(group=group)}


def _items_for(meeting):
    return AgendaItem.objects.filter(meeting=meeting, removed_at__isnull=True).order_by(
        "position", "id")


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request, pk):
    """Record an action agreed at a meeting (chairs only: 403).

    ``?item=<agenda item pk>`` preselects the item it was agreed under. The
    owner is emailed. A cancelled meeting takes no actions.
    """
    meeting = get_meeting_for_manager(request.user, pk)
    if meeting.is_cancelled:
        messages.error(request, "This meeting was cancelled, so no actions can be recorded "
                                "against it.")
        return redirect(meeting)
    items = _items_for(meeting)
    owners = actions.action_owner_choices(group=meeting.group)
    if request.method == "POST":
        form = ActionForm(request.POST, owners=owners, items=items)
        if form.is_valid():
            data = form.cleaned_data
            try:
                action = actions.action_create(
                    meeting=meeting, agenda_item=data["agenda_item"],
                    description=data["description"], owner=data["owner"],
                    due_date=data["due_date"], by=request.user)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request, f"Action {action.reference} recorded. "
                             f"{action.owner.get_full_name()} is being emailed it.")
                return redirect(meeting.get_absolute_url() + "#actions")
    else:
        initial = {}
        item = request.GET.get("item", "")
        if item.isdigit() and items.filter(pk=int(item)).exists():
            initial["agenda_item"] = int(item)
        form = ActionForm(initial=initial, owners=owners, items=items)
    return render(request, "events/actions/action_form.html", {
        "meeting": meeting, "group_label": group_label(meeting.group), "form": form,
    })


@login_required
@require_safe
def action_detail(request, pk):
    """An action and its history (members of the group, its chairs and the owner: 403)."""
    action = actions.action_for_page(pk=pk)
    if not actions.can_view_action(request.user, action):
        raise PermissionDenied("Only members of the group can see its actions.")
    today = actions.london_today()
    return render(request, "events/actions/action_detail.html", {
        "action": action,
        "group": action.group,
        "group_label": group_label(action.group),
        "history": list(actions.action_history(action=action)),
        "is_overdue": actions.is_overdue(action, today=today),
        "can_update": actions.can_update_action(request.user, action),
        "can_see_log": actions.can_view_action_log(request.user, action.group),
    })


@login_required
@require_http_methods(["GET", "POST"])
def action_update(request, pk):
    """Update an action: status and note (its owner and chairs), and owner, description
    and due date (chairs only). Others get 403. Dropping needs a note."""
    action = actions.action_for_page(pk=pk)
    if not actions.can_update_action(request.user, action):
        raise PermissionDenied("Only the group's chairs and the action's owner can update it.")
    details = actions.can_edit_action_details(request.user, action)
    owners = (actions.action_owner_choices(group=action.group, including=action.owner)
              if details else None)
    if request.method == "POST":
        form = ActionUpdateForm(request.POST, details=details, owners=owners)
        if form.is_valid():
            try:
                action = actions.action_update(action=action, by=request.user,
                                               **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Action {action.reference} updated: "
                                          f"{action.get_status_display().lower()}.")
                return redirect("events:action_detail", pk=action.pk)
    else:
        form = ActionUpdateForm(initial=ActionUpdateForm.initial_for(action), details=details,
                                owners=owners)
    return render(request, "events/actions/action_update.html", {
        "action": action, "group": action.group, "group_label": group_label(action.group),
        "form": form,
    })


def log_filters(request, group) -> tuple[ActionLogFilterForm, dict]:
    """The action log's filter form, bound to the query string, and the filters it gives.

    Returns ``(form, {"status": ..., "owner_id": ...})``; a bad value is an
    error on the form and its default is used (see ``ActionLogFilterForm``).
    """
    data = request.GET.copy()
    if not data.get("status"):
        data["status"] = actions.LogStatus.DEFAULT
    form = ActionLogFilterForm(data, owners=list(actions.action_log_owners(group=group)))
    return form, form.filters()


def get_group_for_action_log(user, slug):
    """The group ``slug`` if ``user`` may see its action log: Http404, PermissionDenied."""
    group = selectors.group_for_page(slug=slug)
    if not actions.can_view_action_log(user, group):
        raise PermissionDenied("Only members of the group can see its action log.")
    return group


@login_required
@require_safe
def action_log(request, slug):
    """The SIG-wide action log (members and chairs: 403 otherwise), filtered by status
    (default open) and owner, with CSV and Excel downloads of what is shown."""
    group = get_group_for_action_log(request.user, slug)
    form, filters = log_filters(request, group)
    today = actions.london_today()
    rows = list(actions.action_log(group=group, today=today, **filters))
    for action in rows:
        action.overdue = actions.is_overdue(action, today=today)
    query = {"status": filters["status"]}
    if filters["owner_id"]:
        query["owner"] = filters["owner_id"]
    from urllib.parse import urlencode

    querystring = urlencode(query)
    status_label = dict(actions.LogStatus.CHOICES)[filters["status"]]
    owner_name = dict(form.fields["owner"].choices).get(str(filters["owner_id"] or ""), "")
    return render(request, "events/actions/action_log.html", {
        "group": group,
        "group_label": group_label(group),
        "form": form,
        "actions": rows,
        "status_label": status_label,
        "owner_name": owner_name if filters["owner_id"] else "",
        "is_chair": can_manage_group(request.user, group),
        "csv_url": reverse("events:action_log_csv", kwargs={"slug": group.slug})
        + "?" + querystring,
        "xlsx_url": reverse("events:action_log_xlsx", kwargs={"slug": group.slug})
        + "?" + querystring,
    })


@login_required
@require_safe
def my_actions(request):
    """The signed-in person's actions in every group: open ones (overdue marked) first,
    then the last 20 closed. Two queries."""
    owned = (Action.objects.filter(owner=request.user)
             .select_related("group", "meeting", "owner", "owner__trust", "agenda_item"))
    open_actions = list(owned.filter(status=Action.Status.OPEN)
                        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id"))
    closed = list(owned.exclude(status=Action.Status.OPEN).order_by("-closed_at", "-id")[:20])
    return render(request, "events/actions/my_actions.html", {
        "open_actions": open_actions, "closed_actions": closed,
        "today": actions.london_today(),
    })
