"""Who may see and manage meetings, built on ``members.permissions``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from members.models import Group
from members.permissions import can_manage_group, is_active_member

from . import selectors
from .models import Invitation, Meeting


def can_view_meeting(user, meeting: Meeting) -> bool:
    """Active members of the meeting's group, its chairs (and its SIG's), and anyone invited.

    At most three queries.
    """
    if not user.is_authenticated:
        return False
    if is_active_member(user, meeting.group) or can_manage_group(user, meeting.group):
        return True
    return Invitation.objects.filter(meeting=meeting, person=user, removed_at__isnull=True).exists()


def can_manage_meeting(user, meeting: Meeting) -> bool:
    """Only a chair (or deputy) of the meeting's group schedules, changes or cancels it."""
    return can_manage_group(user, meeting.group)


def get_meeting_for_viewer(user, pk: int) -> Meeting:
    """The meeting ``pk`` if ``user`` may see it: Http404 if none, PermissionDenied otherwise."""
    meeting = selectors.meeting_for_page(pk=pk)
    if not can_view_meeting(user, meeting):
        raise PermissionDenied("Only members of the group can see its meetings.")
    return meeting


def get_meeting_for_manager(user, pk: int) -> Meeting:
    """The meeting ``pk`` if ``user`` chairs its group.

    Raises Http404 if there is no such meeting, PermissionDenied (403) otherwise.
    """
    meeting = selectors.meeting_for_page(pk=pk)
    if not can_manage_meeting(user, meeting):
        raise PermissionDenied("Only the group's chairs can change its meetings.")
    return meeting


def get_group_for_meetings_manager(user, slug: str) -> Group:
    """The group ``slug`` for its meetings page and scheduling.

    A SIG's chairs (and deputies) manage its meetings; a task-and-finish
    group's leads, and its SIG's chairs, manage that group's meetings.
    Raises Http404 if there is no such group, PermissionDenied (403) if
    ``user`` manages neither.
    """
    group = get_object_or_404(Group.objects.select_related("parent"), slug=slug)
    if not can_manage_group(user, group):
        raise PermissionDenied(
            "Only the group's chairs can do this." if group.is_sig
            else "Only the group's leads and its SIG's chairs can do this.")
    return group


def can_view_agenda(user, meeting: Meeting) -> bool:
    """The agenda, its papers and the agenda pack: whoever may see the meeting.

    That is the group's active members, its chairs (and its SIG's) and anyone
    invited (see :func:`can_view_meeting`). Signed-out visitors never.
    """
    return can_view_meeting(user, meeting)


def can_view_minutes(user, minutes) -> bool:
    """Who may read a meeting's minutes, by their status (issue 4).

    - draft: the group's chairs only;
    - circulated, approved: also the group's active members and those invited;
    - published: the same, and every signed-in, active person when the chair
      opened them to the network (``open_to_network``).
    Signed-out visitors never. At most four queries.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    meeting = minutes.meeting
    if can_manage_meeting(user, meeting):
        return True
    if minutes.status == minutes.Status.DRAFT:
        return False
    if minutes.status == minutes.Status.PUBLISHED and minutes.open_to_network:
        return True
    return can_view_meeting(user, meeting)
