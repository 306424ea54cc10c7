"""Who may do what with groups and memberships: small predicates and one fetch helper."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404

from .models import Group, Membership, Person


def is_network_office(user) -> bool:
    """Network office staff (``is_staff``) see and manage the whole network."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def is_chair(user, group: Group) -> bool:
    """True if ``user`` is an active chair or deputy chair of ``group``.

    For a task-and-finish group the chairs of its SIG also count.
    One query per call.
    """
    if not user.is_authenticated:
        return False
    group_ids = [group.pk] + ([group.parent_id] if group.parent_id else [])
    return Membership.objects.filter(
        person=user, group_id__in=group_ids, status=Membership.Status.ACTIVE,
        role__in=Membership.CHAIR_ROLES,
    ).exists()


def can_manage_group(user, group: Group) -> bool:
    """Chairs of the group (and of its SIG) manage it: approve members, schedule meetings.

    A task-and-finish group is also managed by its active leads. The
    network office is deliberately not included: it appoints chairs
    (``set_chair``) and has the admin, but does not act for a chair.
    One query.
    """
    if not user.is_authenticated:
        return False
    chairs = Q(group_id__in=[group.pk] + ([group.parent_id] if group.parent_id else []),
               role__in=Membership.CHAIR_ROLES)
    if group.kind == Group.Kind.TASK_AND_FINISH:
        chairs |= Q(group_id=group.pk, role=Membership.Role.LEAD)
    return Membership.objects.filter(chairs, person=user,
                                     status=Membership.Status.ACTIVE).exists()


def is_lead(user, group: Group) -> bool:
    """True if ``user`` is an active lead of the task-and-finish ``group``. One query."""
    if not user.is_authenticated or group.kind != Group.Kind.TASK_AND_FINISH:
        return False
    return Membership.objects.filter(person=user, group=group, role=Membership.Role.LEAD,
                                     status=Membership.Status.ACTIVE).exists()


def can_read_statements(user, group: Group) -> bool:
    """Volunteers' statements are for the group's leads (not the network office).

    While the group has **no lead**, its SIG's chairs read them too: they are
    the ones deciding requests then (see ``members.volunteering``), and
    deciding without the statement would be deciding blind. The volunteer
    form says so ("or, until it has a lead, the SIG's chairs"), and the
    lead's page tells a chair why they can see them. Once a lead is
    appointed, chairs no longer see them (a chair who appoints themselves
    is a lead, and is emailed that they are). Three queries at most.
    """
    if not user.is_authenticated or group.kind != Group.Kind.TASK_AND_FINISH:
        return False
    if is_lead(user, group):
        return True
    has_lead = Membership.objects.filter(group=group, role=Membership.Role.LEAD,
                                         status=Membership.Status.ACTIVE).exists()
    return not has_lead and Membership.objects.filter(
        person=user, group_id=group.parent_id, role__in=Membership.CHAIR_ROLES,
        status=Membership.Status.ACTIVE).exists()


def get_task_and_finish_for_manager(user: Person, slug: str) -> Group:
    """The task-and-finish group ``slug`` (with its SIG) if ``user`` leads it or chairs its SIG.

    Raises Http404 if there is no such task-and-finish group, PermissionDenied
    (403) if the user does not manage it.
    """
    group = get_object_or_404(Group.objects.select_related("parent"), slug=slug,
                              kind=Group.Kind.TASK_AND_FINISH)
    if not can_manage_group(user, group):
        raise PermissionDenied("Only the group's leads and its SIG's chairs can do this.")
    return group


def is_active_member(user, group: Group) -> bool:
    """True if ``user`` has an active membership (any role) of ``group``."""
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(
        person=user, group=group, status=Membership.Status.ACTIVE
    ).exists()


def get_group_for_manager(user: Person, slug: str) -> Group:
    """Return the group with ``slug`` if ``user`` may manage it.

    Raises Http404 if there is no such group, PermissionDenied (403) if the
    user is not one of its chairs.
    """
    group = get_object_or_404(Group, slug=slug)
    if not can_manage_group(user, group):
        raise PermissionDenied("Only the group's chairs can do this.")
    return group
