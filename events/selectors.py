"""Reads for the group, meeting and chair pages and the calendar feeds.

Every function returns with the joins its page needs, so the number of
queries a page makes does not grow with the number of members or meetings.
Times compared here are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from members.models import Group, Membership, Person

from .ical import CANCELLED_KEPT_FOR
from .models import Action, AgendaItem, Invitation, Meeting, Minutes, Paper, PaperVersion

# How far back a personal or group feed reaches (older meetings drop out).
FEED_HISTORY = timedelta(days=365)


def group_for_page(*, slug: str) -> Group:
    """The group with ``slug`` and its parent SIG (one query); Http404 if there is none."""
    return get_object_or_404(Group.objects.select_related("parent", "chair_trust"), slug=slug)


def task_and_finish_groups(*, group: Group) -> QuerySet[Group]:
    """The task-and-finish groups of a SIG, in display order (one query)."""
    return group.children.filter(kind=Group.Kind.TASK_AND_FINISH).order_by("position", "name")


def upcoming_meetings(*, group: Group, now: datetime) -> QuerySet[Meeting]:
    """Scheduled meetings of ``group`` that have not ended by ``now``, soonest first."""
    return (
        Meeting.objects.filter(group=group, status=Meeting.Status.SCHEDULED, end__gte=now)
        .select_related("group")
        .order_by("start")
    )


def past_meetings(*, group: Group, now: datetime, limit: int = 12) -> list[Meeting]:
    """The group's last ``limit`` meetings that have ended by ``now``, newest first.

    Cancelled ones are left out. Each has ``minutes`` loaded (or raises
    ``Minutes.DoesNotExist`` on access: use ``getattr(m, "minutes", None)``).
    One query.
    """
    return list(
        Meeting.objects.filter(group=group, status=Meeting.Status.SCHEDULED, end__lt=now)
        .select_related("group", "minutes")
        .order_by("-start")[:limit]
    )


def meetings_for_chair(*, group: Group) -> QuerySet[Meeting]:
    """Every meeting of ``group``, newest start first, with answer counts (one query).

    Each meeting has ``attending_count`` (in person with a place, online, or
    attending without saying how), ``waiting_count`` (on the in-person
    waiting list), ``apologies_count`` and ``invited_count`` (invitations
    not withdrawn).
    """
    current = Q(invitations__removed_at__isnull=True)
    not_waiting = Q(invitations__waitlisted_at__isnull=True)
    return (
        Meeting.objects.filter(group=group)
        .select_related("group")
        .annotate(
            invited_count=Count("invitations", filter=current),
            attending_count=Count(
                "invitations",
                filter=current & not_waiting
                & Q(invitations__response__in=Invitation.ATTENDING_RESPONSES),
            ),
            waiting_count=Count(
                "invitations", filter=current & ~not_waiting,
            ),
            apologies_count=Count(
                "invitations",
                filter=current & Q(invitations__response=Invitation.Response.APOLOGIES),
            ),
        )
        .order_by("-start")
    )


def meeting_for_page(*, pk: int) -> Meeting:
    """The meeting with ``pk``, its group and the group's parent; Http404 if none."""
    return get_object_or_404(Meeting.objects.select_related("group", "group__parent"), pk=pk)


def meeting_attendees(*, meeting: Meeting) -> QuerySet[Invitation]:
    """Current invitations to ``meeting`` (not withdrawn), with person and trust, by name."""
    return (
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        .select_related("person", "person__trust")
        .order_by("person__full_name", "person__email")
    )


@dataclass(frozen=True)
class InPersonPlaces:
    """How full a meeting is in person. ``places`` None means no limit (``left`` None too)."""

    places: int | None
    taken: int
    waiting: int

    @property
    def left(self) -> int | None:
        return None if self.places is None else max(self.places - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.places is not None and self.taken >= self.places


def in_person_places(*, meeting: Meeting) -> InPersonPlaces:
    """Places, places taken (in person, not waiting) and people waiting (one query)."""
    current = Invitation.objects.filter(meeting=meeting, removed_at__isnull=True,
                                        response=Invitation.Response.IN_PERSON)
    counts = current.aggregate(
        taken=Count("pk", filter=Q(waitlisted_at__isnull=True)),
        waiting=Count("pk", filter=Q(waitlisted_at__isnull=False)),
    )
    return InPersonPlaces(places=meeting.in_person_places, taken=counts["taken"],
                          waiting=counts["waiting"])


def waiting_position(*, invitation: Invitation) -> int | None:
    """``invitation``'s place in its meeting's waiting list (1 is next), or None if not
    waiting. The list is ordered by ``waitlisted_at``, then id (one query)."""
    if invitation.waitlisted_at is None:
        return None
    ahead = Invitation.objects.filter(
        Q(waitlisted_at__lt=invitation.waitlisted_at)
        | Q(waitlisted_at=invitation.waitlisted_at, pk__lt=invitation.pk),
        meeting_id=invitation.meeting_id, removed_at__isnull=True,
    ).count()
    return ahead + 1


# The chair's groups of answers, in the order shown: (key, heading).
ANSWER_GROUPS = (
    ("in_person", "In person"),
    ("online", "Online"),
    ("attending", "Attending, not said how"),
    ("tentative", "Tentative"),
    ("apologies", "Apologies"),
    ("waiting", "Waiting list for an in-person place"),
    ("needs_action", "Not answered yet"),
)


@dataclass
class AnswerGroup:
    """One group of answers for the chair: ``key`` (a response, or ``"waiting"``),
    ``heading``, and its ``invitations`` (by name; the waiting list in queue order)."""

    key: str
    heading: str
    invitations: list[Invitation] = field(default_factory=list)


def answer_groups(invitations: Iterable[Invitation]) -> list[AnswerGroup]:
    """Group current invitations (e.g. from :func:`meeting_attendees`) by answer, no queries.

    In person (holding a place), online, attending without a mode, tentative,
    apologies, the waiting list in order (``waitlisted_at``, then id), not
    answered: every group, even an empty one, in :data:`ANSWER_GROUPS` order.
    """
    groups = {key: AnswerGroup(key, heading) for key, heading in ANSWER_GROUPS}
    for invitation in invitations:
        key = "waiting" if invitation.waitlisted_at is not None else invitation.response
        groups[key].invitations.append(invitation)
    groups["waiting"].invitations.sort(key=lambda i: (i.waitlisted_at, i.pk))
    return list(groups.values())


def invitation_for(*, meeting: Meeting, person) -> Invitation | None:
    """``person``'s current invitation to ``meeting``, or None (anonymous users too)."""
    if person is None or not getattr(person, "is_authenticated", False):
        return None
    return Invitation.objects.filter(
        meeting=meeting, person=person, removed_at__isnull=True
    ).first()


def person_for_feed_token(*, token: str) -> Person:
    """The active person whose calendar token is ``token``; Http404 otherwise (rule F9).

    A reset token no longer matches anyone, so the old URL gets 404.
    """
    return get_object_or_404(Person, calendar_token=token, is_active=True)


def _feed_window(queryset: QuerySet[Meeting], *, now: datetime) -> QuerySet[Meeting]:
    # Recent and future meetings; cancelled ones only for CANCELLED_KEPT_FOR (F6),
    # counted to the whole minute (cancelled_at has seconds), so the window moves
    # only on whole minutes, as the feed's cached head does (members.pagecache).
    kept_since = now.replace(second=0, microsecond=0) - CANCELLED_KEPT_FOR
    return (
        queryset.filter(start__gte=now - FEED_HISTORY)
        .exclude(status=Meeting.Status.CANCELLED, cancelled_at__lt=kept_since)
        .select_related("group")
        .order_by("start", "pk")
    )


def meetings_for_person_feed(*, person: Person, now: datetime) -> QuerySet[Meeting]:
    """Meetings of every group ``person`` is an active member of, for their private feed.

    From :data:`FEED_HISTORY` ago onwards, cancelled meetings for 30 days
    after cancellation. One query, group joined.
    """
    groups = Membership.objects.filter(
        person=person, status=Membership.Status.ACTIVE
    ).values("group_id")
    return _feed_window(Meeting.objects.filter(group_id__in=groups), now=now)


def groups_for_person_feed(*, person: Person) -> list[tuple[int, str, str]]:
    """``(pk, kind, name)`` of each group ``person`` is an active member of (one query).

    What the personal feed's ETag is made of beside its meetings
    (``events.feeds.feed_etag``): joining or leaving a group, or a group's
    new name, changes it.
    """
    return list(
        Membership.objects.filter(person=person, status=Membership.Status.ACTIVE)
        .order_by("group_id").values_list("group_id", "group__kind", "group__name")
    )


def meetings_for_group_feed(*, group: Group, now: datetime) -> QuerySet[Meeting]:
    """Meetings of ``group`` for its public feed (same window as the personal feed)."""
    return _feed_window(Meeting.objects.filter(group=group), now=now)


# --- Agendas, attendance, minutes and actions (issue 4) -----------------------


@dataclass(frozen=True)
class AgendaRow:
    """One agenda item with its running start time (aware UTC) and papers.

    ``papers`` are the item's papers not removed, each with ``latest`` (its
    newest :class:`PaperVersion`) set.
    """

    number: int
    item: AgendaItem
    starts: datetime
    papers: list


def agenda_rows(*, meeting: Meeting) -> list[AgendaRow]:
    """The meeting's agenda in order, numbered from 1, with running start times.

    Each item starts when the one before it ends (meeting start + the sum of
    the earlier items' ``minutes_allowed``). Removed items are left out.
    Two queries, whatever the number of items and papers.
    """
    papers = Paper.objects.filter(removed_at__isnull=True).prefetch_related(
        Prefetch("versions", queryset=PaperVersion.objects.order_by("-number"))
    )
    items = (
        AgendaItem.objects.filter(meeting=meeting, removed_at__isnull=True)
        .prefetch_related(Prefetch("papers", queryset=papers))
        .order_by("position", "id")
    )
    rows: list[AgendaRow] = []
    starts = meeting.start
    for number, item in enumerate(items, start=1):
        item_papers = list(item.papers.all())
        for paper in item_papers:
            versions = list(paper.versions.all())
            paper.latest = versions[0] if versions else None
        rows.append(AgendaRow(number=number, item=item, starts=starts, papers=item_papers))
        starts = starts + timedelta(minutes=item.minutes_allowed)
    return rows


def minutes_locked(*, meeting: Meeting) -> bool:
    """True once ``meeting``'s minutes are approved or published (locked). One query.

    Locked minutes take no more attendance changes or new actions; a change to
    their text is a new version with a reason (``events.minutes.minutes_save``).
    """
    return Minutes.objects.filter(meeting=meeting, status__in=Minutes.LOCKED).exists()


def previous_meeting(*, meeting: Meeting) -> Meeting | None:
    """The group's last scheduled (not cancelled) meeting that started before ``meeting``.

    Its minutes are the ones approved under "minutes of the last meeting". One query.
    """
    return (
        Meeting.objects.filter(
            group_id=meeting.group_id, status=Meeting.Status.SCHEDULED, start__lt=meeting.start
        )
        .order_by("-start", "-id")
        .first()
    )


def actions_carried_forward(*, meeting: Meeting) -> QuerySet:
    """The actions listed under "action log and matters arising" on ``meeting``'s agenda.

    Actions of the meeting's group agreed at an earlier meeting that were
    still open when ``meeting`` started: open now, or closed (done or
    dropped) after it started. Each appears once, however many meetings it
    has been carried through; an action closed before the meeting is not
    listed. Oldest first, with owner, owner's trust and origin meeting (one query).
    """
    return (
        Action.objects.filter(group_id=meeting.group_id, meeting__start__lt=meeting.start)
        .filter(Q(status=Action.Status.OPEN) | Q(closed_at__gt=meeting.start))
        .select_related("owner", "owner__trust", "meeting")
        .order_by("created_at", "id")
    )
