"""Reads about groups and memberships that pages need, with their joins.

Each function makes a fixed number of queries whatever the size of the group
(tests assert this with ``django_assert_num_queries`` at two data sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from .models import ICB, Group, Membership, Person


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
    """The active members of a group from one trust (``trust`` None: trust not given).

    ``names`` are the members' names (or addresses, for those with no name),
    in order: the page only shows names, so no model instances are built.
    """

    trust_id: int | None
    trust_name: str | None
    names: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.names)

    @property
    def name(self) -> str:
        return self.trust_name or "Trust not given"


def members_by_trust(*, group: Group) -> list[TrustMembers]:
    """Active members of ``group`` (chairs included) grouped by their trust.

    One query, of four columns a member (a SIG of thousands builds no model
    objects). Trusts are in name order, "Trust not given" last; members in name
    order within a trust. ``TrustMembers.count`` is the number per trust.
    """
    rows = (
        Membership.objects.filter(group=group, status=Membership.Status.ACTIVE)
        .order_by("person__full_name", "person__email")
        .values_list("person__full_name", "person__email", "person__trust_id",
                     "person__trust__name")
    )
    by_trust: dict[int | None, TrustMembers] = {}
    for full_name, email, trust_id, trust_name in rows:
        by_trust.setdefault(trust_id, TrustMembers(trust_id, trust_name)).names.append(
            full_name or email)
    return sorted(by_trust.values(), key=lambda t: (t.trust_id is None, t.name.lower()))


def pending_applications(*, group: Group) -> QuerySet[Membership]:
    """Applications to ``group`` waiting for a chair's decision, oldest first.

    A queryset with person, trust and staff group joined (one query when evaluated).
    """
    return (
        Membership.objects.filter(group=group, status=Membership.Status.APPLIED)
        .select_related("person", "person__trust", "person__staff_group")
        .order_by("applied_at", "pk")
    )


def my_memberships(*, person: Person, now=None) -> list[Membership]:
    """``person``'s memberships for "My groups", each group's newest first, with group and SIG.

    Task-and-finish rows also carry, for the page: ``position`` (1-based
    place on the waiting list, or None), ``offer_ended`` (an offer whose
    deadline has passed but that ``expire_offers`` has not yet ended),
    ``group_finished`` (the group completed or closed early) and
    ``ended_by_finish`` (this request, waiting place or offer ended because
    the group finished). Two queries (one when nobody is waiting).
    """
    from django.utils import timezone

    now = now or timezone.now()
    memberships = list(Membership.objects.filter(person=person)
                       .select_related("group", "group__parent")
                       .order_by("group__position", "group__name", "-applied_at"))
    waiting = [m for m in memberships if m.status == Membership.Status.WAITING]
    positions: dict[int, int] = {}
    if waiting:
        rows = (Membership.objects.filter(group_id__in={m.group_id for m in waiting},
                                          status=Membership.Status.WAITING)
                .order_by("group_id", "waitlisted_at", "pk").values_list("group_id", "pk"))
        counter: dict[int, int] = {}
        for group_id, pk in rows:
            counter[group_id] = counter.get(group_id, 0) + 1
            positions[pk] = counter[group_id]
    finished = (Group.Status.COMPLETED, Group.Status.CLOSED_EARLY)
    for membership in memberships:
        group = membership.group
        membership.position = positions.get(membership.pk)
        membership.offer_ended = (membership.status == Membership.Status.OFFERED
                                  and membership.offer_expires_at is not None
                                  and membership.offer_expires_at <= now)
        membership.group_finished = (group.kind == Group.Kind.TASK_AND_FINISH
                                     and group.status in finished)
        membership.ended_by_finish = (membership.group_finished
                                      and membership.status == Membership.Status.LEFT
                                      and group.finished_at is not None
                                      and membership.ended_at == group.finished_at)
    return memberships


def current_membership_for(*, person: Person, group: Group) -> Membership | None:
    """``person``'s applied or active membership of ``group``, or None (also for anonymous users).

    One query for a signed-in person, none otherwise.
    """
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    return Membership.objects.filter(
        person=person, group=group, status__in=Membership.CURRENT_STATUSES
    ).first()


# --- Task-and-finish groups (volunteering) ------------------------------------------

_HOLDS_PLACE = (Q(memberships__status=Membership.Status.OFFERED)
                | Q(memberships__status=Membership.Status.ACTIVE,
                    memberships__role=Membership.Role.MEMBER))


def _with_place_counts(queryset: QuerySet[Group]) -> QuerySet[Group]:
    """Annotate ``held`` (participants plus open offers), ``participants`` and ``waiting``."""
    return queryset.annotate(
        held=Count("memberships", filter=_HOLDS_PLACE),
        participants=Count("memberships", filter=Q(
            memberships__status=Membership.Status.ACTIVE,
            memberships__role=Membership.Role.MEMBER)),
        waiting=Count("memberships", filter=Q(memberships__status=Membership.Status.WAITING)),
    )


def _leads_prefetch() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=(Membership.objects.filter(status=Membership.Status.ACTIVE,
                                            role=Membership.Role.LEAD)
                  .select_related("person", "person__trust")
                  .order_by("person__full_name", "person__email")),
        to_attr="lead_memberships",
    )


def places_left(group: Group) -> int | None:
    """Free places of a group annotated by :func:`_with_place_counts` (None: no limit).

    Never below 0 (the cap may have been lowered below the participants).
    """
    if group.places is None:
        return None
    return max(group.places - group.held, 0)


# Time commitment filter on "Get involved": (value, label, most hours per month).
HOURS_CHOICES = [("2", "Up to 2 hours a month", 2), ("4", "Up to 4 hours a month", 4),
                 ("8", "Up to 8 hours a month", 8)]


@dataclass
class GetInvolved:
    """The "Get involved" page: groups with places left, and full ones (waiting list only)."""

    open: list[Group]
    full: list[Group]


def get_involved_groups(
    *, today: date, sig_slug: str = "", icb_code: str = "", max_hours: int | None = None,
    person: Person | None = None,
) -> GetInvolved:
    """Recruiting task-and-finish groups whose sign-up is open on ``today`` (Europe/London date).

    Filters (each optional): ``sig_slug`` (the parent SIG), ``icb_code`` (an
    ICB's ODS code), ``max_hours`` (stated time commitment of at most that
    many hours a month; groups that have not stated one are left out).

    Every group is open to staff from every trust, so the ICB filter means
    "groups run from near me": a group matches when one of its active
    leads, or one of its SIG's active chairs (or the SIG's chair trust in
    the network file), works at a trust in that ICB. A group with no lead
    whose trust is known yet (shown as "lead to be appointed") matches
    every ICB, so no recruiting group is ever missing from all of them.

    Each group has ``parent``, ``held``, ``participants``, ``waiting``,
    ``places_left`` (None: no limit), ``lead_memberships`` (active leads with
    person and trust) and, when ``person`` is signed in, ``my_membership``
    (their current membership or None). Groups with places left are in
    ``open``, full ones in ``full``; both in SIG then group order.

    Three queries whatever the number of groups and volunteers (two when
    nobody is signed in).
    """
    groups = (Group.objects.filter(kind=Group.Kind.TASK_AND_FINISH,
                                   status=Group.Status.RECRUITING)
              .filter(Q(signup_closes__isnull=True) | Q(signup_closes__gte=today))
              .select_related("parent"))
    if sig_slug:
        groups = groups.filter(parent__slug=sig_slug)
    if icb_code:
        leads = Membership.objects.filter(group=OuterRef("pk"), status=Membership.Status.ACTIVE,
                                          role=Membership.Role.LEAD)
        sig_chairs = Membership.objects.filter(
            group=OuterRef("parent_id"), status=Membership.Status.ACTIVE,
            role__in=Membership.CHAIR_ROLES, person__trust__icb__ods_code=icb_code)
        groups = groups.filter(
            Exists(leads.filter(person__trust__icb__ods_code=icb_code))
            | Exists(sig_chairs)
            | Q(parent__chair_trust__icb__ods_code=icb_code)
            | ~Exists(leads.filter(person__trust__isnull=False)))
    if max_hours is not None:
        groups = groups.filter(hours_per_month__lte=max_hours)
    groups = list(_with_place_counts(groups).prefetch_related(_leads_prefetch())
                  .order_by("parent__position", "parent__name", "position", "name"))
    mine: dict[int, Membership] = {}
    if person is not None and getattr(person, "is_authenticated", False) and groups:
        mine = {m.group_id: m for m in Membership.objects.filter(
            person=person, group__in=[g.pk for g in groups],
            status__in=Membership.CURRENT_STATUSES)}
    result = GetInvolved(open=[], full=[])
    for group in groups:
        group.places_left = places_left(group)
        group.my_membership = mine.get(group.pk)
        (result.full if group.places_left == 0 else result.open).append(group)
    return result


def task_and_finish_for_page(*, slug: str) -> Group:
    """The task-and-finish group ``slug`` with its SIG, place counts and leads (two queries).

    Raises Http404 if there is none.
    """
    from django.shortcuts import get_object_or_404

    group = get_object_or_404(
        _with_place_counts(Group.objects.filter(kind=Group.Kind.TASK_AND_FINISH))
        .select_related("parent").prefetch_related(_leads_prefetch()),
        slug=slug)
    group.places_left = places_left(group)
    return group


def task_and_finish_participants(*, group: Group) -> list[Membership]:
    """Active participants (not leads) of ``group`` with person, trust and staff group, by name.

    One query. Never the people waiting, requested or offered: those are not
    participants (pretix #1163, Decidim #14492 showed them as if they were).
    """
    return list(Membership.objects.filter(
        group=group, status=Membership.Status.ACTIVE, role=Membership.Role.MEMBER)
        .select_related("person", "person__trust", "person__staff_group")
        .order_by("person__full_name", "person__email"))


@dataclass
class MixRow:
    """One desired-mix target against the group: who is in it, who else has volunteered."""

    label: str
    minimum: int
    in_group: int
    pending: int
    target: object | None = None

    @property
    def met(self) -> bool:
        return self.in_group >= self.minimum


@dataclass
class LeadPage:
    """Everything on a task-and-finish group's lead page, read in a fixed number of queries.

    ``waiting`` is in list order; ``requested`` oldest first; ``mix`` has one
    row per staff-group target and one per ICB for an each-ICB target.
    ``places`` is the group's cap (None: no limit).
    """

    leads: list[Membership]
    participants: list[Membership]
    offered: list[Membership]
    waiting: list[Membership]
    requested: list[Membership]
    targets: list
    mix: list[MixRow]
    sig_members: list[Membership]
    places: int | None = None

    @property
    def over_cap_if_confirmed(self) -> int:
        """How far over the cap the group goes if every open offer is confirmed (0: not).

        Offers made before the cap was lowered stand (see
        :func:`members.volunteering.group_update_recruitment`).
        """
        if self.places is None or not self.offered:
            return 0
        return max(self.held - self.places, 0)

    @property
    def held(self) -> int:
        """Places taken: participants plus open offers."""
        return len(self.participants) + len(self.offered)

    @property
    def in_group(self) -> list[Membership]:
        """Leads, then participants."""
        return self.leads + self.participants


def lead_page(*, group: Group) -> LeadPage:
    """The lead's page for ``group``: its current memberships split by status, targets and mix.

    Four queries whatever the number of volunteers: current memberships (with
    person, trust, ICB and staff group), targets, ICBs, and the SIG's active
    members (candidates to appoint as leads).
    """
    from .models import GroupTarget

    S, R = Membership.Status, Membership.Role
    current = list(Membership.objects.filter(group=group, status__in=Membership.CURRENT_STATUSES)
                   .select_related("person", "person__trust", "person__trust__icb",
                                   "person__staff_group", "decided_by")
                   .order_by("person__full_name", "person__email"))
    leads = [m for m in current if m.status == S.ACTIVE and m.role == R.LEAD]
    participants = [m for m in current if m.status == S.ACTIVE and m.role != R.LEAD]
    offered = sorted((m for m in current if m.status == S.OFFERED),
                     key=lambda m: (m.offer_expires_at, m.pk))
    waiting = sorted((m for m in current if m.status == S.WAITING),
                     key=lambda m: (m.waitlisted_at, m.pk))
    for position, membership in enumerate(waiting, start=1):
        membership.position = position
    requested = sorted((m for m in current if m.status == S.REQUESTED),
                       key=lambda m: (m.applied_at, m.pk))
    targets = list(GroupTarget.objects.filter(group=group).select_related("staff_group"))
    in_group = leads + participants
    pending = offered + waiting + requested
    mix: list[MixRow] = []
    for target in targets:
        if target.kind == GroupTarget.Kind.STAFF_GROUP:
            mix.append(MixRow(
                label=target.staff_group.name, minimum=target.minimum, target=target,
                in_group=sum(1 for m in in_group if m.person.staff_group_id
                             == target.staff_group_id),
                pending=sum(1 for m in pending if m.person.staff_group_id
                            == target.staff_group_id)))
    each_icb = next((t for t in targets if t.kind == GroupTarget.Kind.EACH_ICB), None)
    if each_icb is not None:
        for icb in ICB.objects.order_by("name"):
            mix.append(MixRow(
                label=icb.name, minimum=each_icb.minimum, target=each_icb,
                in_group=sum(1 for m in in_group if m.person.trust
                             and m.person.trust.icb_id == icb.pk),
                pending=sum(1 for m in pending if m.person.trust
                            and m.person.trust.icb_id == icb.pk)))
    sig_members = list(Membership.objects.filter(group_id=group.parent_id, status=S.ACTIVE)
                       .select_related("person").order_by("person__full_name", "person__email"))
    return LeadPage(leads=leads, participants=participants, offered=offered, waiting=waiting,
                    requested=requested, targets=targets, mix=mix, sig_members=sig_members,
                    places=group.places)
