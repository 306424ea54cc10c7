"""Who may do what with groups and memberships: small predicates and one fetch helper."""

from django.core.exceptions import PermissionDenied
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

    The network office is deliberately not included: it appoints chairs
    (``set_chair``) and has the admin, but does not act for a chair.
    """
    return is_chair(user, group)


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
