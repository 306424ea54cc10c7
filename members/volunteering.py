"""Volunteering for task-and-finish groups: every write, ``<noun>_<verb>(*, ...)`` in a transaction.

A task-and-finish group's people are ordinary :class:`~members.models.Membership`
rows of that group, so meetings, invitations and feeds treat them like a
SIG's members: its **leads** (role ``lead``) and **participants** (role
``member``) are ``active``. Volunteers who have not got a place yet are
``requested`` (the lead approves sign-ups), ``waiting`` (first-come list,
ordered by ``waitlisted_at`` then id) or ``offered`` (a freed place is
theirs to confirm until ``offer_expires_at``). An ended volunteering is
``left``, ``declined`` or ``expired``, and never comes back by itself:
only ``waiting`` rows are ever offered a place, so someone who withdrew
(after promotion or not) re-enters only by signing up again, at the back.

Places. ``Group.places`` (None: no limit) counts active participants plus
open offers (an offer keeps the place for the person offered it); leads do
not take a place. Every function that counts places first locks the group
row (``SELECT ... FOR UPDATE``), so concurrent sign-ups, withdrawals, expiries
and cap changes on one group run one at a time and a place is never given
twice (PostgreSQL; SQLite has one writer at a time anyway).

Offers are only made while the group is recruiting and its sign-up has not
closed (``signup_closes``, a date in Europe/London, is the last open day);
waiting people stay waiting otherwise. An offer lasts ``VOLUNTEER_OFFER_DAYS``
whole days on the Europe/London clock (see :func:`offer_deadline`). Lowering
the cap below the places held removes nobody, and open offers stand (they
were promised): new volunteers wait until numbers fall below the cap.

Every status change queues the email that tells the person (and, for a new
sign-up, a withdrawal or an expired offer, the leads) in the same transaction:
nothing is sent if it rolls back. A group with no lead yet is managed, and
its volunteers decided, by its SIG's chairs; the emails say so.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .mail import queue_email, render_email
from .models import Group, GroupTarget, Membership, Person, StaffGroup, Trust
from .signals import membership_activated, membership_ended

logger = logging.getLogger(__name__)

STATEMENT_MAX_LENGTH = 1000

# Dates a lead types (closing date, start, planned end) must fall in this range:
# a year like 0226 or 2226 is a typo, not a plan.
EARLIEST_YEAR = 2000
LATEST_YEARS_AHEAD = 5

# Which status a group may move to from each status (``group_change_status``).
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Group.Status.PROPOSED: (Group.Status.RECRUITING, Group.Status.CLOSED_EARLY),
    Group.Status.RECRUITING: (Group.Status.ACTIVE, Group.Status.CLOSED_EARLY),
    # A group under way may look for more people (recruiting again).
    Group.Status.ACTIVE: (Group.Status.RECRUITING, Group.Status.COMPLETED,
                          Group.Status.CLOSED_EARLY),
    Group.Status.COMPLETED: (),
    Group.Status.CLOSED_EARLY: (),
}
FINISHED_STATUSES = (Group.Status.COMPLETED, Group.Status.CLOSED_EARLY)

S = Membership.Status
R = Membership.Role


# --- Rules that read (no writes) ------------------------------------------------


def normalise_text(text: str | None) -> str:
    """``text`` with every line break one LF (browsers post CR LF) and outer spaces removed.

    A textarea's ``maxlength`` counts a line break as one character, so lengths
    are checked after this (else a statement the browser allowed is refused).
    """
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


NULL_CHARACTER_MESSAGE = ("{name} contains a hidden character that cannot be saved: type it "
                          "again, or paste it as plain text")


def offer_deadline(now: datetime) -> datetime:
    """When an offer made at ``now`` (aware) ends: ``VOLUNTEER_OFFER_DAYS`` whole days later.

    Days are counted on the Europe/London wall clock, so an offer made at
    10:00 ends at 10:00 N days later even across a clock change (N x 24
    hours in UTC would end at 09:00 or 11:00). A wall time the clocks skip
    (01:30 on the last Sunday of March) is read before the change, as
    :mod:`zoneinfo` does. Returns an aware datetime in UTC, on a whole minute
    (an offer made at 10:00:20 ends at 10:01): the deadline shown is the real
    one, and a cached page (``members.pagecache``) turns at that minute.
    """
    local = timezone.localtime(now)
    deadline = local + timedelta(days=settings.VOLUNTEER_OFFER_DAYS)  # wall-clock arithmetic
    return ceil_minute(deadline.astimezone(UTC))


def ceil_minute(moment: datetime) -> datetime:
    """``moment`` if it is on a whole minute, else the next whole minute."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def offer_has_ended(membership: Membership, *, now: datetime | None = None) -> bool:
    """True if ``membership`` is an offer whose deadline has passed (``expire_offers``
    may not have run yet: it cannot be confirmed any more). No query."""
    return (membership.status == S.OFFERED and membership.offer_expires_at is not None
            and membership.offer_expires_at <= (now or timezone.now()))


def check_plan_date(value: date | None, *, name: str, today: date) -> str:
    """An error message if ``value`` is outside the dates a lead could mean, else "".

    ``name`` starts the message ("Sign-up closes must be ..."). Allowed: from
    1 January :data:`EARLIEST_YEAR` to :data:`LATEST_YEARS_AHEAD` years after
    ``today`` (a Europe/London date).
    """
    if value is None:
        return ""
    if value.year < EARLIEST_YEAR:
        return f"{name} must be in {EARLIEST_YEAR} or later"
    try:
        latest = today.replace(year=today.year + LATEST_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + LATEST_YEARS_AHEAD, day=28)
    if value > latest:
        return f"{name} must be no later than {latest:%-d %B %Y}"
    return ""


def signup_is_open(group: Group, *, now: datetime | None = None) -> bool:
    """True if people may volunteer for ``group`` at ``now`` (an aware datetime).

    The group must be a recruiting task-and-finish group whose
    ``signup_closes`` date (Europe/London, the last open day) has not passed.
    No query.
    """
    if group.kind != Group.Kind.TASK_AND_FINISH or group.status != Group.Status.RECRUITING:
        return False
    today = timezone.localdate(now or timezone.now())
    return group.signup_closes is None or today <= group.signup_closes


def signup_closed_reason(group: Group, *, now: datetime | None = None) -> str:
    """Why nobody can volunteer for ``group`` now, as a sentence ("" if they can)."""
    if signup_is_open(group, now=now):
        return ""
    if group.kind != Group.Kind.TASK_AND_FINISH:
        return f"{group.name} is a SIG: register your interest in it instead."
    if group.status == Group.Status.PROPOSED:
        return f"{group.name} is not recruiting volunteers yet."
    if group.status == Group.Status.COMPLETED:
        return f"{group.name} has finished its work: it is no longer taking volunteers."
    if group.status == Group.Status.CLOSED_EARLY:
        return f"{group.name} has closed early: it is no longer taking volunteers."
    if group.status != Group.Status.RECRUITING:
        return (f"{group.name} is no longer recruiting volunteers "
                f"({group.get_status_display().lower()}).")
    return f"Sign-up for {group.name} closed on {group.signup_closes:%-d %B %Y}."


def places_held(group: Group) -> int:
    """How many of ``group``'s places are taken: active participants plus open offers. One query."""
    return Membership.objects.filter(group=group).filter(
        Q(status=S.OFFERED) | Q(status=S.ACTIVE, role=R.MEMBER)).count()


def _lock_group(group: Group) -> Group:
    """Lock and re-read ``group``'s row for the rest of the transaction (the place counter)."""
    return Group.objects.select_for_update().get(pk=group.pk)


def _lock_membership(membership: Membership) -> tuple[Group, Membership]:
    """Lock the membership's group, then re-read the membership.

    Always the group first, so two transactions never wait on each other.
    """
    group_id = Membership.objects.values_list("group_id", flat=True).get(pk=membership.pk)
    group = Group.objects.select_for_update().get(pk=group_id)
    membership = (Membership.objects.select_for_update(of=("self",)).select_related("person")
                  .get(pk=membership.pk))
    membership.group = group
    return group, membership


def _free_places(group: Group) -> int | None:
    """Free places (may be negative after the cap was lowered), or None for no limit."""
    return None if group.places is None else group.places - places_held(group)


def _next_waitlist_time(group: Group, *, now: datetime) -> datetime:
    """``now``, or just after the last person waiting if the clock has not moved past them.

    Keeps the list in arrival order even when two sign-ups read the same clock.
    """
    last = (Membership.objects.filter(group=group, waitlisted_at__isnull=False)
            .order_by("-waitlisted_at").values_list("waitlisted_at", flat=True).first())
    if last is not None and last >= now:
        return last + timedelta(microseconds=1)
    return now


def group_has_lead(group: Group) -> bool:
    """True if ``group`` has an active lead. One query."""
    return Membership.objects.filter(group=group, status=S.ACTIVE, role=R.LEAD).exists()


def _managers_to_mail(group: Group) -> list[Person]:
    """The group's active leads; if it has none yet, its SIG's chairs (they manage it then)."""
    leads = list(Person.objects.filter(
        memberships__group=group, memberships__status=S.ACTIVE, memberships__role=R.LEAD,
        is_active=True).order_by("email"))
    if leads:
        return leads
    return list(Person.objects.filter(
        memberships__group_id=group.parent_id, memberships__status=S.ACTIVE,
        memberships__role__in=Membership.CHAIR_ROLES, is_active=True).distinct().order_by("email"))


def _group_context(group: Group) -> dict:
    """What every volunteering email may say about ``group``. One query (has it a lead?)."""
    has_lead = group_has_lead(group)
    return {
        "group": group,
        "has_lead": has_lead,
        # Who decides requests: the leads, or the SIG's chairs until there is one.
        "deciders": ("the group's leads" if has_lead
                     else f"the {group.parent.name} SIG's chairs" if group.parent_id
                     else "the group's chairs"),
        "group_url": f"{settings.SITE_URL}{group.get_absolute_url()}",
        "lead_url": f"{settings.SITE_URL}{reverse('members:lead_dashboard', args=[group.slug])}",
        "my_url": f"{settings.SITE_URL}{reverse('members:my_memberships')}",
        "offer_days": settings.VOLUNTEER_OFFER_DAYS,
    }


# Messages about a place the person was offered happen once per offer: the
# outbox key makes queueing one twice harmless.
_VOLUNTEER_KEYS = {
    "offered": lambda m: f"volunteer:offered:{m.pk}:{m.offered_at.isoformat()}",
    "offer_expired": lambda m: f"volunteer:offer_expired:{m.pk}:{m.offer_expires_at.isoformat()}",
}


def _mail_volunteer(template: str, membership: Membership, **context) -> None:
    """Email the volunteer about their own application (outbox kind ``decision``: always sent)."""
    group = membership.group
    key = _VOLUNTEER_KEYS.get(template)
    queue_email(render_email(
        f"volunteer_{template}",
        {**_group_context(group), "membership": membership, "person": membership.person,
         **context},
        to=membership.person.email,
    ), kind="decision", group=group, key=key(membership) if key else None)


def _mail_managers(membership: Membership, template: str = "lead_notice", **context) -> None:
    """Tell the group's leads (or, with none, its SIG's chairs) about ``membership``.

    ``template``: ``lead_notice`` (a new volunteer) or ``lead_update`` (a
    withdrawal or an expired offer, with ``event`` and ``offers`` in
    ``context``). The person themselves is never told as a manager.
    """
    group = membership.group
    base = _group_context(group)
    for manager in _managers_to_mail(group):
        if manager.pk == membership.person_id:
            continue
        queue_email(render_email(
            f"volunteer_{template}",
            {**base, "membership": membership, "volunteer": membership.person,
             "manager": manager, **context},
            to=manager.email,
        ), kind="volunteering", group=group)


def waiting_position(membership: Membership) -> int | None:
    """1-based place of a waiting membership in its group's list, else None. One query."""
    if membership.status != S.WAITING or membership.waitlisted_at is None:
        return None
    ahead = Membership.objects.filter(group_id=membership.group_id, status=S.WAITING).filter(
        Q(waitlisted_at__lt=membership.waitlisted_at)
        | Q(waitlisted_at=membership.waitlisted_at, pk__lt=membership.pk)).count()
    return ahead + 1


def _offer_free_places(group: Group, *, now: datetime) -> list[Membership]:
    """Offer free places to the first people waiting, in order; return the new offers.

    Call with ``group`` locked. Nothing is offered unless sign-up is open
    (recruiting, not past ``signup_closes``). Each offer holds its place
    until it is confirmed, declined or expires (``VOLUNTEER_OFFER_DAYS``).
    """
    if not signup_is_open(group, now=now):
        return []
    waiting = (Membership.objects.filter(group=group, status=S.WAITING)
               .select_related("person").order_by("waitlisted_at", "pk"))
    free = _free_places(group)
    if free is not None:
        if free <= 0:
            return []
        waiting = waiting[:free]
    deadline = offer_deadline(now)
    offered = []
    for membership in waiting:
        membership.group = group
        membership.status = S.OFFERED
        membership.offered_at = now
        membership.offer_expires_at = deadline
        membership.save(update_fields=["status", "offered_at", "offer_expires_at"])
        _mail_volunteer("offered", membership, deadline=deadline,
                        confirm_url=f"{settings.SITE_URL}"
                                    f"{reverse('members:volunteer_offer', args=[membership.pk])}")
        offered.append(membership)
    if offered:
        logger.info("%s: offered %d place(s) from the waiting list", group.slug, len(offered))
    return offered


def _take_place_or_wait(group: Group, membership: Membership, *, now: datetime) -> None:
    """Set ``membership`` (not yet saved as such) active if a place is free, else waiting.

    Nobody jumps the queue: with anyone already waiting (or offered), a newcomer waits too.
    """
    free = _free_places(group)
    queue = Membership.objects.filter(group=group, status=S.WAITING).exists()
    if (free is None or free > 0) and not queue:
        membership.status = S.ACTIVE
        membership.waitlisted_at = None
    else:
        membership.status = S.WAITING
        membership.waitlisted_at = _next_waitlist_time(group, now=now)


# --- Volunteers ---------------------------------------------------------------------


@transaction.atomic
def volunteer_sign_up(
    *, person: Person, group: Group, statement: str, line_manager_aware: bool,
    trust: Trust | None = None, staff_group: StaffGroup | None = None,
    now: datetime | None = None,
) -> Membership:
    """Volunteer ``person`` for the task-and-finish ``group``.

    Args:
        person: a signed-in, active person. Any member of staff may volunteer,
            not only members of the SIG; volunteering does not make them one.
        statement: why they volunteer (1 to ``STATEMENT_MAX_LENGTH`` characters
            once line breaks are one character each, no null character; shown to the
            group's leads only, or to its SIG's chairs while it has no lead).
        line_manager_aware: must be True (they confirm their line manager knows).
        trust, staff_group: if given, saved on their profile first; they must
            end up with a trust.
        now: an aware datetime (default: now), for tests.

    Returns the new membership: ``requested`` if the group requires approval;
    else ``active`` (role member) if a place is free and nobody waits, else
    ``waiting`` at the back of the list. The volunteer is emailed what
    happened and the leads (or, with no lead yet, the SIG's chairs) are told.

    Raises ValidationError (nothing changed) if sign-up is not open (not
    recruiting, or past ``signup_closes``), if they already have a current
    membership of the group, or for a missing statement, confirmation or trust.
    The group row is locked while places are counted, so concurrent sign-ups
    never take more places than there are.
    """
    statement = normalise_text(statement)
    errors: dict[str, str] = {}
    if not statement:
        errors["statement"] = "Say why you would like to join the group"
    elif "\x00" in statement:
        errors["statement"] = NULL_CHARACTER_MESSAGE.format(name="Why you would like to join")
    elif len(statement) > STATEMENT_MAX_LENGTH:
        errors["statement"] = (f"Why you would like to join must be {STATEMENT_MAX_LENGTH:,} "
                               "characters or fewer")
    if line_manager_aware is not True:
        errors["line_manager_aware"] = "Confirm that your line manager knows you are volunteering"
    if trust is None and person.trust_id is None:
        errors["trust"] = "Select your trust"
    if errors:
        raise ValidationError(errors)
    if not person.is_active:
        raise ValidationError("Your account is not active.")
    if group.kind != Group.Kind.TASK_AND_FINISH:
        raise ValidationError(f"{group.name} is a SIG: register your interest in it instead.")

    group = _lock_group(group)
    # Read the clock once the lock is held: arrival order is the order the lock
    # is granted, so ``applied_at``, the id and the waiting list all agree.
    now = now or timezone.now()
    if not signup_is_open(group, now=now):
        raise ValidationError(signup_closed_reason(group, now=now))
    existing = Membership.objects.filter(
        person=person, group=group, status__in=Membership.CURRENT_STATUSES).first()
    if existing is not None:
        raise ValidationError(_already_message(existing))
    changed = []
    for field, value in (("trust", trust), ("staff_group", staff_group)):
        if value is not None and getattr(person, f"{field}_id") != value.pk:
            setattr(person, field, value)
            changed.append(field)
    if changed:
        person.save(update_fields=changed)

    membership = Membership(
        person=person, group=group, role=R.MEMBER, source=Membership.Source.SITE,
        statement=statement, line_manager_aware=True, applied_at=now,
    )
    if group.requires_approval:
        membership.status = S.REQUESTED
    else:
        _take_place_or_wait(group, membership, now=now)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:  # a second tab racing the first: the constraint refuses
        raise ValidationError(f"You have already volunteered for {group.name}.") from exc

    if membership.status == S.ACTIVE:
        membership_activated.send(sender=Membership, membership=membership)
        _mail_volunteer("signed_up", membership)
    elif membership.status == S.WAITING:
        _mail_volunteer("waiting", membership, position=waiting_position(membership))
    else:
        _mail_volunteer("requested", membership)
    _mail_managers(membership)
    if membership.status == S.WAITING:
        # A free place with people already waiting: they are offered it first.
        _offer_free_places(group, now=now)
    return membership


def _already_message(membership: Membership) -> str:
    name = membership.group.name
    return {
        S.ACTIVE: f"You are already in {name}.",
        S.REQUESTED: f"You have already volunteered for {name}: the leads have not decided yet.",
        S.WAITING: f"You are already on the waiting list for {name}.",
        S.OFFERED: f"You have been offered a place in {name}: confirm it from your groups.",
    }.get(membership.status, f"You have already volunteered for {name}.")


def _check_requested(membership: Membership) -> None:
    if membership.status != S.REQUESTED:
        raise ValidationError({
            S.ACTIVE: "This volunteer has already been accepted.",
            S.WAITING: "This volunteer has already been accepted (they are on the waiting list).",
            S.OFFERED: "This volunteer has already been accepted (they have been offered a place).",
            S.DECLINED: "This volunteer has already been declined.",
        }.get(membership.status, "This volunteer has withdrawn."))


@transaction.atomic
def volunteer_accept(*, membership: Membership, decided_by: Person,
                     now: datetime | None = None) -> Membership:
    """A lead accepts a ``requested`` volunteer: a place if one is free, else the waiting list.

    Returns the membership, now ``active`` or ``waiting``; the volunteer is
    emailed which. Raises ValidationError (nothing changed) if it is not a
    request waiting for a decision (already decided, or withdrawn).
    """
    now = now or timezone.now()
    group, membership = _lock_membership(membership)
    _check_requested(membership)
    _take_place_or_wait(group, membership, now=now)
    membership.decided_by = decided_by
    membership.decided_at = now
    membership.save(update_fields=["status", "waitlisted_at", "decided_by", "decided_at"])
    if membership.status == S.ACTIVE:
        membership_activated.send(sender=Membership, membership=membership)
        _mail_volunteer("accepted", membership, position=None)
    else:
        _mail_volunteer("accepted", membership, position=waiting_position(membership))
        _offer_free_places(group, now=now)
    return membership


@transaction.atomic
def volunteer_decline(*, membership: Membership, decided_by: Person,
                      now: datetime | None = None) -> Membership:
    """A lead declines a ``requested`` volunteer (status ``declined``); they are emailed.

    Raises ValidationError (nothing changed) if it is not a request waiting for a decision.
    """
    now = now or timezone.now()
    _group, membership = _lock_membership(membership)
    _check_requested(membership)
    membership.status = S.DECLINED
    membership.decided_by = decided_by
    membership.decided_at = now
    membership.ended_at = now
    membership.save(update_fields=["status", "decided_by", "decided_at", "ended_at"])
    _mail_volunteer("declined", membership)
    return membership


@transaction.atomic
def volunteer_withdraw(*, membership: Membership, ended_by: Person | None = None,
                       now: datetime | None = None) -> list[Membership]:
    """End a current task-and-finish membership (``left``): withdrawing, or refusing an offer.

    If it held a place (an active participant, or an open offer), the place
    is offered to the first person waiting, if sign-up is still open; that
    person is emailed with ``VOLUNTEER_OFFER_DAYS`` days to confirm.
    Withdrawing from active sends :data:`members.signals.membership_ended`
    (their meeting invitations are withdrawn). A lead who withdraws stops
    being a lead (leads hold no place). ``ended_by``: who did it, if not the
    person themselves (recorded as the decider). The group's other leads (or,
    with none, its SIG's chairs) get one short email saying who withdrew and
    who, if anyone, was offered the place.

    Returns the offers made (a list of memberships, often empty). Raises
    ValidationError (nothing changed) if the membership is not current, or
    if the group has finished (completed or closed early: its record of who
    took part stays as it was).
    """
    now = now or timezone.now()
    group, membership = _lock_membership(membership)
    if membership.status not in Membership.CURRENT_STATUSES:
        raise ValidationError("You are no longer in this group: there is nothing to withdraw.")
    if group.status in FINISHED_STATUSES:
        raise ValidationError(f"{group.name} has finished: there is nothing to withdraw from.")
    previous = membership.status
    was_active = membership.status == S.ACTIVE
    membership.status = S.LEFT
    membership.ended_at = now
    if ended_by is not None and ended_by.pk != membership.person_id:
        membership.decided_by = ended_by
        membership.decided_at = now
    membership.save(update_fields=["status", "ended_at", "decided_by", "decided_at"])
    if was_active:
        membership_ended.send(sender=Membership, membership=membership)
    offers = _offer_free_places(group, now=now)
    _mail_managers(membership, "lead_update", event="withdrew", previous=previous,
                   offers=offers)
    return offers


@transaction.atomic
def volunteer_confirm_offer(*, membership: Membership,
                            now: datetime | None = None) -> Membership:
    """The person offered a place takes it: ``offered`` becomes ``active``; they are emailed.

    Raises ValidationError (nothing changed) if there is no open offer, or
    if its deadline (``offer_expires_at``) has passed, even before
    ``expire_offers`` has run.
    """
    now = now or timezone.now()
    _group, membership = _lock_membership(membership)
    if membership.status != S.OFFERED:
        raise ValidationError("There is no open offer of a place to confirm.")
    if membership.offer_expires_at <= now:
        expired = timezone.localtime(membership.offer_expires_at)
        raise ValidationError(
            f"This offer ended on {expired:%-d %B %Y at %H:%M} (UK time): the place is "
            "passing to the next person waiting.")
    membership.status = S.ACTIVE
    membership.decided_at = now
    membership.save(update_fields=["status", "decided_at"])
    membership_activated.send(sender=Membership, membership=membership)
    _mail_volunteer("signed_up", membership, via_offer=True)
    return membership


def volunteer_offers_expire(*, now: datetime | None = None) -> list[Membership]:
    """Expire every offer whose deadline has passed and pass each place to the next person.

    Run hourly (``manage.py expire_offers``). Each group is handled in its
    own transaction with its row locked, so an offer confirmed at the same
    moment is either confirmed or expired, never both. An expired offer
    becomes ``expired`` (the person is emailed and leaves the list for
    good); the freed places go to the next people waiting, if sign-up is
    still open, and the group's leads (or, with none, its SIG's chairs) get
    one short email per expired offer. Safe to run again: nothing is due
    the second time.

    Returns the memberships whose offers expired.
    """
    now = now or timezone.now()
    group_ids = sorted(set(Membership.objects.filter(
        status=S.OFFERED, offer_expires_at__lte=now).values_list("group_id", flat=True)))
    expired: list[Membership] = []
    for group_id in group_ids:
        with transaction.atomic():
            group = Group.objects.select_for_update().get(pk=group_id)
            due = list(Membership.objects.select_for_update(of=("self",))
                       .select_related("person")
                       .filter(group=group, status=S.OFFERED, offer_expires_at__lte=now)
                       .order_by("offer_expires_at", "pk"))
            for membership in due:
                membership.group = group
                membership.status = S.EXPIRED
                membership.ended_at = now
                membership.save(update_fields=["status", "ended_at"])
                _mail_volunteer("offer_expired", membership)
            expired.extend(due)
            offers = _offer_free_places(group, now=now)
            for membership in due:
                _mail_managers(membership, "lead_update", event="expired",
                               previous=S.OFFERED, offers=offers)
    return expired


# --- Leads and the SIG's chairs -------------------------------------------------------


_KEEP = object()  # an argument left out: the group keeps its value


@transaction.atomic
def group_update_recruitment(
    *, group: Group, places: int | None, signup_closes: date | None, requires_approval: bool,
    hours_per_month: int | None, starts_on: date | None | object = _KEEP,
    ends_on: date | None | object = _KEEP, changed_by: Person | None = None,
    now: datetime | None = None,
) -> list[Membership]:
    """Change a task-and-finish group's places, dates, approval rule and time commitment.

    ``places`` None means no limit (else 1 or more). Raising the cap (or
    reopening sign-up with a later closing date) offers the freed places to
    the people waiting, in order.

    Lowering the cap below the places held (participants plus open offers)
    removes nobody, and **open offers stand**: they were made while the
    place was free and the person was told it is theirs until the deadline,
    so withdrawing them would break a promise. If they are all confirmed
    the group is over its cap for a while; nobody new is offered a place
    until numbers fall below the cap. The lead's page says so (see
    :func:`members.selectors.lead_page`'s ``over_cap_if_confirmed``).

    Dates (Europe/London): ``signup_closes`` is the last day people can
    volunteer; ``starts_on`` and ``ends_on`` (planned end) are shown on the
    group's page, and left out they keep their values. Each must fall
    between :data:`EARLIEST_YEAR` and :data:`LATEST_YEARS_AHEAD` years from
    today; the planned end must be after the start. A closing date after
    the start is allowed: a group under way may recruit again (see
    :data:`STATUS_TRANSITIONS`) and people may join after it has started.
    A closing date in the past is allowed and closes sign-up at once (the
    view tells the lead so).

    Returns the offers made. Raises ValidationError (nothing changed) for a
    SIG, a finished group, places or hours below 1, or a date out of range
    (errors keyed by field).
    """
    now = now or timezone.now()
    group = _lock_group(group)
    if group.kind != Group.Kind.TASK_AND_FINISH:
        raise ValidationError("Only a task-and-finish group has places.")
    if group.status in FINISHED_STATUSES:
        raise ValidationError(f"{group.name} has finished: its places can no longer change.")
    starts_on = group.starts_on if starts_on is _KEEP else starts_on
    ends_on = group.ends_on if ends_on is _KEEP else ends_on
    today = timezone.localdate(now)
    errors = {}
    if places is not None and places < 1:
        errors["places"] = "Places must be 1 or more, or left empty for no limit"
    if hours_per_month is not None and hours_per_month < 1:
        errors["hours_per_month"] = "Hours per month must be 1 or more"
    for field, value, name in (("signup_closes", signup_closes, "Sign-up closes"),
                               ("starts_on", starts_on, "Start date"),
                               ("ends_on", ends_on, "Planned end date")):
        message = check_plan_date(value, name=name, today=today)
        if message:
            errors[field] = message
    if (starts_on and ends_on and "starts_on" not in errors and "ends_on" not in errors
            and ends_on <= starts_on):
        errors["ends_on"] = "Planned end date must be after the start date"
    if errors:
        raise ValidationError(errors)
    group.places = places
    group.signup_closes = signup_closes
    group.requires_approval = requires_approval
    group.hours_per_month = hours_per_month
    group.starts_on = starts_on
    group.ends_on = ends_on
    group.full_clean(validate_unique=False)
    group.save(update_fields=["places", "signup_closes", "requires_approval",
                              "hours_per_month", "starts_on", "ends_on"])
    return _offer_free_places(group, now=now)


def parse_output_links(text: str) -> list[dict]:
    """Read links to a group's outputs, one a line: ``Title https://...`` or just the URL.

    Returns ``[{"title": str, "url": str}]``. Raises ValidationError (keyed
    ``output_links``) naming the first line that has no http(s) address, so
    ``javascript:`` and other schemes never become links.
    """
    links = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        title, _, url = line.rpartition(" ")
        if not url.lower().startswith(("https://", "http://")) or len(url) > 2000:
            raise ValidationError({"output_links": f"Line {number} of the links has no web "
                                                   "address starting https://"})
        links.append({"title": title.strip(" -–:") or url, "url": url})
    return links


@transaction.atomic
def group_change_status(
    *, group: Group, status: str, changed_by: Person | None = None, outcome_summary: str = "",
    output_links: list[dict] | None = None, close_reason: str = "", now: datetime | None = None,
) -> Group:
    """Move a task-and-finish group along proposed -> recruiting -> active -> completed.

    Allowed moves are in :data:`STATUS_TRANSITIONS` (a group under way may
    recruit again; any unfinished group may close early). ``completed``
    needs an ``outcome_summary`` (and takes ``output_links``, see
    :func:`parse_output_links`); ``closed_early`` needs a ``close_reason``.
    Opening recruitment offers free places to people waiting. Finishing the
    group (completed or closed early) records ``finished_at`` and ends every
    request, waiting place and open offer (status ``left``, ``ended_at`` the
    same moment), and emails each of those people that the group has
    finished and they need do nothing more. Participants and leads keep
    their record.

    Returns the group. Raises ValidationError (nothing changed) for a move
    that is not allowed or a missing outcome or reason.
    """
    now = now or timezone.now()
    group = _lock_group(group)
    if group.kind != Group.Kind.TASK_AND_FINISH:
        raise ValidationError("Only a task-and-finish group has a status.")
    if status not in Group.Status.values:
        raise ValidationError({"status": "Select the group's new status"})
    if status not in STATUS_TRANSITIONS[group.status]:
        raise ValidationError({"status": (
            f"A group that is {group.get_status_display().lower()} cannot become "
            f"{Group.Status(status).label.lower()}")})
    outcome_summary = normalise_text(outcome_summary)
    close_reason = normalise_text(close_reason)
    if status == Group.Status.COMPLETED and not outcome_summary:
        raise ValidationError({"outcome_summary": "Summarise what the group achieved"})
    if status == Group.Status.CLOSED_EARLY and not close_reason:
        raise ValidationError({"close_reason": "Say why the group is closing early"})
    group.status = status
    if status == Group.Status.COMPLETED:
        group.outcome_summary = outcome_summary
        group.output_links = output_links or []
    if status == Group.Status.CLOSED_EARLY:
        group.close_reason = close_reason
    if status in FINISHED_STATUSES:
        group.finished_at = now
    group.save(update_fields=["status", "outcome_summary", "output_links", "close_reason",
                              "finished_at"])
    if status in FINISHED_STATUSES:
        ended = list(Membership.objects.select_for_update(of=("self",)).select_related("person")
                     .filter(group=group, status__in=Membership.VOLUNTEER_PENDING_STATUSES)
                     .order_by("pk"))
        for membership in ended:
            previous = membership.status
            membership.group = group
            membership.status = S.LEFT
            membership.ended_at = now
            membership.decided_by = changed_by
            membership.decided_at = now
            membership.save(update_fields=["status", "ended_at", "decided_by", "decided_at"])
            _mail_volunteer("group_finished", membership, previous=previous)
        logger.info("%s: %s; %d request(s), waiting place(s) and offer(s) ended", group.slug,
                    status, len(ended))
    else:
        _offer_free_places(group, now=now)
    return group


@transaction.atomic
def group_target_add(*, group: Group, kind: str, staff_group: StaffGroup | None = None,
                     minimum: int = 1) -> GroupTarget:
    """Add a desired-mix target to a task-and-finish group (see :class:`GroupTarget`).

    Raises ValidationError (nothing changed) for a SIG, a finished group, a
    staff-group target without a staff group, ``minimum`` below 1, or a
    target the group already has.
    """
    if group.kind != Group.Kind.TASK_AND_FINISH:
        raise ValidationError("Only a task-and-finish group has targets.")
    group = _lock_group(group)  # its status now, not as the caller last read it
    if group.status in FINISHED_STATUSES:
        raise ValidationError(f"{group.name} has finished: its targets can no longer change.")
    if kind not in GroupTarget.Kind.values:
        raise ValidationError({"kind": "Select the kind of target"})
    if kind == GroupTarget.Kind.STAFF_GROUP and staff_group is None:
        raise ValidationError({"staff_group": "Select a staff group"})
    if minimum is None or minimum < 1:
        raise ValidationError({"minimum": "The target must be at least 1"})
    target = GroupTarget(group=group, kind=kind, minimum=minimum,
                         staff_group=staff_group if kind == GroupTarget.Kind.STAFF_GROUP else None)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise ValidationError("The group already has that target: remove it first to change "
                              "it.") from exc
    return target


@transaction.atomic
def group_target_remove(*, target: GroupTarget) -> None:
    """Remove a desired-mix target. Raises ValidationError if its group has finished."""
    if _lock_group(target.group).status in FINISHED_STATUSES:
        raise ValidationError(f"{target.group.name} has finished: its targets can no longer "
                              "change.")
    target.delete()


@transaction.atomic
def membership_appoint_lead(*, group: Group, person: Person, appointed_by: Person | None = None,
                            now: datetime | None = None) -> tuple[Membership, bool]:
    """Make ``person`` an active lead of the task-and-finish ``group``.

    Leads are members of the group's SIG: ``person`` must be an active
    member (any role) of ``group.parent``. A current membership of the
    group (participant, waiting, offered, requested) becomes the lead one;
    a participant's place is freed (leads take no place) and offered on.

    The appointment is recorded on the membership (``decided_by`` is
    ``appointed_by``, ``decided_at`` is ``now``; shown on the lead's page)
    and the new lead is emailed ("You are now a lead of ...", with a link to
    the lead's page), also when a SIG chair appoints themselves: a lead
    reads volunteers' statements, so becoming one is never silent.

    Returns ``(membership, changed)``; ``changed`` is False if they were
    already a lead (nothing is sent). Raises ValidationError (nothing
    changed) for a SIG, a finished group, or someone not in the SIG.
    """
    now = now or timezone.now()
    group = _lock_group(group)
    if group.kind != Group.Kind.TASK_AND_FINISH:
        raise ValidationError("Leads lead task-and-finish groups; SIGs have chairs.")
    if group.status in FINISHED_STATUSES:
        raise ValidationError(f"{group.name} has finished: its leads can no longer change.")
    if not Membership.objects.filter(person=person, group_id=group.parent_id,
                                     status=S.ACTIVE).exists():
        raise ValidationError(f"{person} is not a member of the SIG this group belongs to: "
                              "leads are SIG members.")
    membership = (Membership.objects.select_for_update()
                  .filter(person=person, group=group, status__in=Membership.CURRENT_STATUSES)
                  .first())
    if membership is not None and membership.is_lead:
        return membership, False
    was_active = membership is not None and membership.status == S.ACTIVE
    if membership is None:
        membership = Membership(person=person, group=group, source=Membership.Source.APPOINTED,
                                applied_at=now)
    membership.role = R.LEAD
    membership.status = S.ACTIVE
    membership.waitlisted_at = None
    membership.offered_at = None
    membership.offer_expires_at = None
    membership.decided_by = appointed_by
    membership.decided_at = now
    membership.save()
    if not was_active:
        membership_activated.send(sender=Membership, membership=membership)
    membership.group = group
    membership.person = person
    _mail_volunteer("lead_appointed", membership, appointed_by=appointed_by)
    logger.info("%s: %s appointed lead by %s", group.slug, person.email,
                appointed_by.email if appointed_by else "the network office")
    _offer_free_places(group, now=now)
    return membership, True
