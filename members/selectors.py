"""Reads about groups and memberships that pages need, with their joins.

Each function makes a fixed number of queries whatever the size of the group
(tests assert this with ``django_assert_num_queries`` at two data sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from .models import Group, Membership, Person, Trust


def group_chairs(*, group: Group) -> list[Membership]:
    """Active chairs and deputy chairs of ``group``, chairs first, with person and trust.

    One query. Returns a list of :class:`~members.models.Membership`.
    """
    memberships = (
        Membership.objects.filter(
            group=group, status=Membership.Status.ACTIVE, role__in=Membership.CHAIR_ROLES
        )
        .select_related("person", "person__trust")
        .order_by("person__full_name", "person__email")
    )
    order = {role: index for index, role in enumerate(Membership.CHAIR_ROLES)}
    return sorted(memberships, key=lambda m: order[m.role])


@dataclass
class TrustMembers:
    """The active members of a group from one trust (``trust`` None: trust not given)."""

    trust: Trust | None
    members: list[Membership] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def name(self) -> str:
        return self.trust.name if self.trust else "Trust not given"


def members_by_trust(*, group: Group) -> list[TrustMembers]:
    """Active members of ``group`` (chairs included) grouped by their trust.

    One query. Trusts are in name order, "Trust not given" last; members in
    name order within a trust. ``TrustMembers.count`` is the number per trust.
    """
    memberships = (
        Membership.objects.filter(group=group, status=Membership.Status.ACTIVE)
        .select_related("person", "person__trust", "person__staff_group")
        .order_by("person__full_name", "person__email")
    )
    by_trust: dict[int | None, TrustMembers] = {}
    for membership in memberships:
        trust = membership.person.trust
        key = trust.pk if trust else None
        by_trust.setdefault(key, TrustMembers(trust=trust)).members.append(membership)
    return sorted(by_trust.values(), key=lambda t: (t.trust is None, t.name.lower()))


def pending_applications(*, group: Group) -> QuerySet[Membership]:
    """Applications to ``group`` waiting for a chair's decision, oldest first.

    A queryset with person, trust and staff group joined (one query when evaluated).
    """
    return (
        Membership.objects.filter(group=group, status=Membership.Status.APPLIED)
        .select_related("person", "person__trust", "person__staff_group")
        .order_by("applied_at", "pk")
    )


def current_membership_for(*, person: Person, group: Group) -> Membership | None:
    """``person``'s applied or active membership of ``group``, or None (also for anonymous users).

    One query for a signed-in person, none otherwise.
    """
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    return Membership.objects.filter(
        person=person, group=group, status__in=Membership.CURRENT_STATUSES
    ).first()
