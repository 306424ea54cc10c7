"""The action log: actions agreed at meetings, their updates, reminders and reads.

Writes follow ``events.services``: keyword-only ``<noun>_<verb>`` functions,
one transaction each, ``full_clean()`` before saving, mail queued with
``members.mail.queue_email`` (sent only after the change commits). A status
change locks the action row (``select_for_update``), so two people closing
or reopening it at once are applied one after the other.

Dates: ``Action.due_date`` is a plain date in the UK; "overdue" means the due
date is before today's date in Europe/London. Times are stored as aware UTC
datetimes.

Rules (issue 4, "Action log"):

- an action's owner is an active member of the meeting's group, or one of its
  chairs (for a task-and-finish group, the chairs of its SIG too);
- dropping an action needs a note saying why (also a database constraint);
- done and dropped set ``closed_at``; reopening clears it, so the action is
  carried forward to the next meeting's agenda again
  (``events.selectors.actions_carried_forward``);
- the owner is emailed when given an action, and once per due date when it
  is overdue (``Action.reminded_for_due``): moving the due date earns a new
  reminder once the new date has passed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from members.mail import queue_email, render_email
from members.models import Group, Membership, Person
from members.permissions import can_manage_group

from . import selectors
from .ical import group_label
from .models import Action, ActionUpdate, AgendaItem, Meeting
from .timeutil import format_date, to_london

logger = logging.getLogger(__name__)

# The longest note a person may write with an update. ActionUpdate.note holds
# 1,000: the rest is kept for the generated "Owner changed from ... to ..." text.
NOTE_MAX = 500
DESCRIPTION_MAX = 1000

DROP_NEEDS_NOTE = "Say why the action is being dropped"
OWNER_NOT_MEMBER = "{name} is not an active member of the {group}. Choose a member of the group."


class _Unchanged:
    """Marks an argument of :func:`action_update` that was not given (None means "no date")."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


def london_today(now: datetime | None = None) -> date:
    """Today's date in Europe/London at the aware instant ``now`` (default: now)."""
    return to_london(now or timezone.now()).date()


def is_overdue(action: Action, *, today: date) -> bool:
    """True if ``action`` is open and its due date is before ``today`` (a UK date)."""
    return (action.status == Action.Status.OPEN and action.due_date is not None
            and action.due_date < today)


# --- Who may own an action -------------------------------------------------------


def _owner_filter(group: Group) -> Q:
    """The membership filter for possible owners of ``group``'s actions."""
    members = Q(memberships__group=group, memberships__status=Membership.Status.ACTIVE)
    if group.parent_id:
        members |= Q(memberships__group_id=group.parent_id,
                     memberships__status=Membership.Status.ACTIVE,
                     memberships__role__in=Membership.CHAIR_ROLES)
    return members


def action_owner_choices(*, group: Group, including: Person | None = None) -> QuerySet[Person]:
    """People who may own an action of ``group``, by name, with their trust (one query).

    Active people with an active membership of ``group`` (chairs included)
    and, for a task-and-finish group, the active chairs of its SIG.
    ``including`` adds one more person (an action's present owner, who may
    have left the group since, so that a chair can keep them).
    """
    condition = Q(_owner_filter(group), is_active=True)
    if including is not None:
        condition |= Q(pk=including.pk)
    return (Person.objects.filter(condition).distinct()
            .select_related("trust").order_by("full_name", "email"))


def can_own_action(person: Person, group: Group) -> bool:
    """True if ``person`` may be given an action of ``group`` (see :func:`action_owner_choices`)."""
    if person is None or not person.pk or not person.is_active:
        return False
    return action_owner_choices(group=group).filter(pk=person.pk).exists()


# --- Who may see and change actions ----------------------------------------------


def can_view_action_log(user, group: Group, *, manages: bool | None = None) -> bool:
    """Active members of ``group`` and its chairs (and its SIG's). Signed-out people never.

    ``manages``: whether ``user`` manages ``group`` (``can_manage_group``), when the
    caller knows already; None asks (one query). At most two queries.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if manages if manages is not None else can_manage_group(user, group):
        return True
    return Membership.objects.filter(
        person=user, group=group, status=Membership.Status.ACTIVE).exists()


def can_view_action(user, action: Action) -> bool:
    """Whoever may see the group's action log, and the action's owner."""
    if user.is_authenticated and user.is_active and action.owner_id == user.pk:
        return True
    return can_view_action_log(user, action.group)


def can_update_action(user, action: Action) -> bool:
    """The group's chairs and the action's owner may change its status and add a note."""
    if not user.is_authenticated or not user.is_active:
        return False
    return action.owner_id == user.pk or can_manage_group(user, action.group)


def can_edit_action_details(user, action: Action) -> bool:
    """Only the group's chairs change an action's owner, description or due date."""
    return user.is_authenticated and can_manage_group(user, action.group)


# --- Emails ------------------------------------------------------------------------


def action_url(action: Action) -> str:
    """The absolute URL of the action's page (its history)."""
    return settings.SITE_URL + reverse("events:action_detail", kwargs={"pk": action.pk})


def action_log_url(group: Group, *, owner: Person | None = None) -> str:
    """The absolute URL of ``group``'s action log, filtered to ``owner``'s open actions if given."""
    url = settings.SITE_URL + reverse("events:action_log", kwargs={"slug": group.slug})
    return f"{url}?status=open&owner={owner.pk}" if owner is not None else url


def _email_context(action: Action, *, today: date | None = None) -> dict:
    return {
        "action": action,
        "person": action.owner,
        "group": action.group,
        "group_label": group_label(action.group),
        "meeting": action.meeting,
        "meeting_date": format_date(action.meeting.start),
        "due": format_date(action.due_date) if action.due_date else "",
        "action_url": action_url(action),
        "log_url": action_log_url(action.group, owner=action.owner),
        "short": _shorten(action.description, 60),
    }


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word before ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut.rstrip(",.;:") + "…"


def _queue_assigned_email(action: Action) -> None:
    queue_email(render_email("action_assigned", _email_context(action), to=action.owner.email),
                kind="action", group=action.group)


# --- Writes --------------------------------------------------------------------------


def _clean_text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def _check_owner(owner: Person | None, group: Group, errors: dict) -> None:
    if owner is None:
        errors.setdefault("owner", []).append("Choose who owns the action")
    elif not can_own_action(owner, group):
        errors.setdefault("owner", []).append(OWNER_NOT_MEMBER.format(
            name=owner.get_full_name(), group=group_label(group)))


def _check_description(description: str, errors: dict) -> None:
    if not description:
        errors.setdefault("description", []).append("Describe the action")
    elif len(description) > DESCRIPTION_MAX:
        errors.setdefault("description", []).append(
            f"Action must be {DESCRIPTION_MAX:,} characters or fewer")


@transaction.atomic
def action_create(*, meeting: Meeting, agenda_item: AgendaItem | None = None,
                  description: str, owner: Person, due_date: date | None,
                  by: Person | None) -> Action:
    """Record an action agreed at ``meeting`` and email its owner.

    Args:
        meeting: the meeting the action was agreed at (not cancelled).
        agenda_item: the item of that meeting it was agreed under, or None.
        description: what is to be done (1 to 1,000 characters; trimmed).
        owner: who does it: an active member of the meeting's group or one
            of its chairs (:func:`can_own_action`).
        due_date: the UK date it is due, or None for no deadline. It may not
            be before the meeting's date (Europe/London).
        by: the chair recording it (kept as ``created_by``).

    Returns:
        the new open :class:`~events.models.Action`.

    Raises:
        ValidationError: keyed by ``description``, ``owner``, ``due_date`` or
            ``agenda_item``, with messages for the form; without a field if the
            meeting was cancelled or its minutes are approved (locked). Nothing
            is saved or sent.

    The owner is emailed "Action for you: ..." with the description, the due
    date (e.g. "Wednesday 31 March 2027"), the meeting and links to the action
    and to their open actions in the log (after the transaction commits).
    """
    description = _clean_text(description)
    errors: dict[str, list[str]] = {}
    if meeting.is_cancelled:
        raise ValidationError("This meeting was cancelled, so no actions can be recorded "
                              "against it.")
    if selectors.minutes_locked(meeting=meeting):
        raise ValidationError(
            "The minutes of this meeting are approved, so no more actions can be recorded "
            "against it. Record the action at a later meeting.", code="minutes_locked")
    _check_description(description, errors)
    _check_owner(owner, meeting.group, errors)
    if agenda_item is not None and (agenda_item.meeting_id != meeting.pk
                                    or agenda_item.removed_at is not None):
        errors.setdefault("agenda_item", []).append(
            "Choose an item on this meeting's agenda")
    meeting_day = to_london(meeting.start).date()
    if due_date is not None and due_date < meeting_day:
        errors.setdefault("due_date", []).append(
            f"Due date must be on or after the meeting date, {format_date(meeting_day)}")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    action = Action(
        group=meeting.group, meeting=meeting, agenda_item=agenda_item,
        description=description, owner=owner, due_date=due_date,
        status=Action.Status.OPEN, created_by=by, created_at=now, updated_at=now,
    )
    action.full_clean()
    action.save()
    _queue_assigned_email(action)
    logger.info("Action %s recorded at meeting %s for person %s", action.reference,
                meeting.pk, owner.pk)
    return action


def _change_summary(action: Action, *, owner, due_date, description) -> list[str]:
    """Sentences describing what a chair changed besides the status, for the history."""
    changes = []
    if owner is not None and owner.pk != action.owner_id:
        changes.append(f"Owner changed from {action.owner.get_full_name()} to "
                       f"{owner.get_full_name()}.")
    if due_date is not UNCHANGED and due_date != action.due_date:
        before = format_date(action.due_date) if action.due_date else "no due date"
        after = format_date(due_date) if due_date else "no due date"
        changes.append(f"Due date changed from {before} to {after}.")
    if description is not None and description != action.description:
        changes.append("Description changed.")
    return changes


@transaction.atomic
def action_update(*, action: Action, status: str, note: str = "", by: Person | None,
                  due_date: date | None | _Unchanged = UNCHANGED,
                  owner: Person | None = None, description: str | None = None) -> Action:
    """Change an action's status (open, done or dropped), with a note, and record it.

    Args:
        action: the action (it is re-read and locked).
        status: an :class:`Action.Status` value.
        note: why, or what happened (up to 500 characters). Required when the
            action is being dropped: ValidationError ``{"note": "Say why the
            action is being dropped"}``.
        by: who is making the change: a chair of the group or the action's owner.
        due_date: a new UK due date, None for none; leave out to keep it.
        owner: a new owner (see :func:`can_own_action`); None keeps it.
        description: a new description; None keeps it.

    Only a chair may change the owner, due date or description
    (PermissionDenied otherwise); a person who is neither a chair nor the
    owner may not update at all (PermissionDenied).

    Done and dropped set ``closed_at`` (kept when switching between the two);
    reopening clears it. Each call adds one :class:`ActionUpdate` whose note is
    ``note`` followed by what else changed ("Owner changed from A to B.").
    ``status_note`` becomes ``note`` (kept when the status and note are
    unchanged). A new owner is emailed "Action for you: ...". A changed due
    date is reminded again once it passes. Nothing changed at all is a
    ValidationError ("Change the status or add a note").

    Returns the updated action. Raises ValidationError (by field) with nothing saved.
    """
    locked = (Action.objects.select_for_update(of=("self",))
              .select_related("owner", "group", "meeting").get(pk=action.pk))
    note = _clean_text(note)
    description = _clean_text(description) if description is not None else None
    changes_details = (owner is not None and owner.pk != locked.owner_id) or (
        due_date is not UNCHANGED and due_date != locked.due_date) or (
        description is not None and description != locked.description)
    if by is None or not can_update_action(by, locked):
        raise PermissionDenied("Only the group's chairs and the action's owner can update it.")
    if changes_details and not can_edit_action_details(by, locked):
        raise PermissionDenied("Only the group's chairs can change an action's owner, "
                               "description or due date.")
    errors: dict[str, list[str]] = {}
    if status not in Action.Status.values:
        errors.setdefault("status", []).append("Choose open, done or dropped")
    if len(note) > NOTE_MAX:
        errors.setdefault("note", []).append(f"Note must be {NOTE_MAX:,} characters or fewer")
    if status == Action.Status.DROPPED and locked.status != Action.Status.DROPPED and not note:
        errors.setdefault("note", []).append(DROP_NEEDS_NOTE)
    if description is not None:
        _check_description(description, errors)
    if owner is not None and owner.pk != locked.owner_id:
        _check_owner(owner, locked.group, errors)
    if errors:
        raise ValidationError(errors)
    changes = _change_summary(locked, owner=owner, due_date=due_date, description=description)
    if status == locked.status and not note and not changes:
        raise ValidationError({"status": ["Nothing has changed: change the status or add "
                                          "a note"]})

    now = timezone.now()
    new_owner = owner is not None and owner.pk != locked.owner_id
    if status != locked.status:
        if status == Action.Status.OPEN:
            locked.closed_at = None
        elif locked.status == Action.Status.OPEN:
            locked.closed_at = now
        locked.status = status
        locked.status_note = note
    elif note:
        locked.status_note = note
    if new_owner:
        locked.owner = owner
    if due_date is not UNCHANGED:
        locked.due_date = due_date
    if description is not None:
        locked.description = description
    locked.updated_at = now
    locked.full_clean()
    locked.save()
    history = " ".join(part for part in [note, *changes] if part)
    ActionUpdate.objects.create(action=locked, status=locked.status, note=history[:1000],
                                by=by, at=now)
    if new_owner:
        _queue_assigned_email(locked)
    return locked


# --- Overdue reminders ------------------------------------------------------------------


def _overdue_unreminded(today: date) -> QuerySet[Action]:
    return (Action.objects
            .filter(status=Action.Status.OPEN, due_date__lt=today, owner__is_active=True)
            .exclude(reminded_for_due=F("due_date")))


@transaction.atomic
def _remind_overdue(pk: int, *, today: date) -> bool:
    # The lock makes a second run at the same time wait, then see the mark.
    action = (_overdue_unreminded(today).select_for_update(of=("self",))
              .select_related("owner", "group", "meeting").filter(pk=pk).first())
    if action is None:
        return False
    context = _email_context(action)
    context["days_overdue"] = (today - action.due_date).days
    queue_email(render_email("action_overdue", context, to=action.owner.email),
                kind="action", group=action.group,
                key=f"action-overdue:{action.pk}:{action.due_date.isoformat()}:"
                    f"{action.owner.email.lower()}")
    Action.objects.filter(pk=action.pk).update(reminded_for_due=action.due_date)
    return True


def actions_send_overdue_reminders(now: datetime | None = None) -> int:
    """Email each owner of an open action whose due date has passed; return how many.

    Args:
        now: the current instant (aware; default ``timezone.now()``). "Passed"
            means the due date is before ``now``'s date in Europe/London.

    One reminder per action per due date: ``Action.reminded_for_due`` is set
    to the due date in the same transaction as the email is queued, so
    running again sends nothing more, and a moved due date is reminded again
    once it too has passed. Owners whose account is inactive are not emailed.
    Run hourly by ``manage.py send_reminders``.
    """
    today = london_today(now)
    sent = 0
    for pk in list(_overdue_unreminded(today).order_by("due_date", "pk")
                   .values_list("pk", flat=True)):
        if _remind_overdue(pk, today=today):
            sent += 1
    if sent:
        logger.info("Queued %d overdue action reminder(s)", sent)
    return sent


# --- Reads for pages and exports ------------------------------------------------------------


class LogStatus:
    """The status filter of the action log: its values and their labels."""

    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    DROPPED = "dropped"
    ALL = "all"
    CHOICES = (
        (OPEN, "Open"),
        (OVERDUE, "Open and overdue"),
        (DONE, "Done"),
        (DROPPED, "Dropped"),
        (ALL, "All"),
    )
    DEFAULT = OPEN


def _with_latest_update(queryset: QuerySet[Action]) -> QuerySet[Action]:
    latest = ActionUpdate.objects.filter(action=OuterRef("pk")).order_by("-at", "-id")
    return queryset.annotate(
        latest_note=Subquery(latest.values("note")[:1]),
        latest_at=Subquery(latest.values("at")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
    )


def action_log(*, group: Group, status: str = LogStatus.DEFAULT, owner_id: int | None = None,
               today: date | None = None) -> QuerySet[Action]:
    """The group's actions for the action log and its exports (one query).

    Args:
        group: the SIG (or task-and-finish group).
        status: a :class:`LogStatus` value ("open", "overdue", "done",
            "dropped", "all"); anything else is treated as "all".
        owner_id: only this owner's actions, or None for everyone's.
        today: the UK date "overdue" is judged against (default: today).

    Each action has ``owner``, ``owner.trust``, ``meeting`` and
    ``agenda_item`` joined, and ``latest_note``, ``latest_at`` and
    ``latest_status`` from its newest :class:`ActionUpdate` (None if none).
    Open ones first, then by due date (no date last), then reference.
    """
    today = today or london_today()
    queryset = Action.objects.filter(group=group)
    if status in (LogStatus.OPEN, LogStatus.DONE, LogStatus.DROPPED):
        queryset = queryset.filter(status=status)
    elif status == LogStatus.OVERDUE:
        queryset = queryset.filter(status=Action.Status.OPEN, due_date__lt=today)
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    open_first = Case(When(status=Action.Status.OPEN, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    return (_with_latest_update(queryset)
            .select_related("owner", "owner__trust", "meeting", "agenda_item")
            .order_by(open_first, F("due_date").asc(nulls_last=True), "pk"))


def action_log_owners(*, group: Group) -> QuerySet[Person]:
    """Everyone who owns an action of ``group``, by name (one query): the owner filter's choices."""
    return (Person.objects.filter(actions__group=group).distinct()
            .order_by("full_name", "email"))


@dataclass(frozen=True)
class ActionCounts:
    """How many of a group's actions are open, and how many of those are overdue."""

    open: int
    overdue: int


def action_counts(*, group: Group, today: date | None = None) -> ActionCounts:
    """Open and overdue action counts for ``group`` (one query)."""
    from django.db.models import Count

    today = today or london_today()
    counts = Action.objects.filter(group=group, status=Action.Status.OPEN).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    return ActionCounts(open=counts["open"], overdue=counts["overdue"])


def actions_agreed_at(*, meeting: Meeting) -> QuerySet[Action]:
    """Actions agreed at ``meeting``, in the order recorded, with owner, trust and item.

    One query.
    """
    return (Action.objects.filter(meeting=meeting)
            .select_related("owner", "owner__trust", "agenda_item")
            .order_by("created_at", "pk"))


def action_for_page(*, pk: int) -> Action:
    """The action ``pk`` with its group, meeting, owner and item; Http404 if there is none."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Action.objects.select_related("group", "group__parent", "meeting", "owner",
                                      "owner__trust", "agenda_item", "created_by"),
        pk=pk)


def action_history(*, action: Action) -> QuerySet[ActionUpdate]:
    """Every update of ``action``, oldest first, with who made it (one query)."""
    return ActionUpdate.objects.filter(action=action).select_related("by").order_by("at", "id")
