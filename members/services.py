"""Every write to people and memberships: ``<noun>_<verb>(*, ...)`` inside a transaction.

Each function that changes a membership's status also queues the email that
tells the person, in the same transaction (nothing is sent if it rolls back).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .emails import allowed_domains_text, is_nhs_address
from .mail import queue_email, render_email
from .models import Group, Membership, Person, StaffGroup, Trust, normalise_email


@transaction.atomic
def person_get_or_create(
    *, email: str, full_name: str = "", trust: Trust | None = None,
    staff_group: StaffGroup | None = None, job_title: str = "",
) -> tuple[Person, bool]:
    """Find a person by email (case-insensitive) or create them without a password.

    Blank arguments never overwrite what an existing person already has.

    Returns ``(person, created)``. Raises ValidationError if ``email`` is not
    an allowed NHS address.
    """
    email = normalise_email(email)
    if not is_nhs_address(email):
        raise ValidationError(f"{email or 'A blank address'} is not an NHS work address "
                              f"(use {allowed_domains_text()}).")
    person = Person.objects.filter(email__iexact=email).first()
    if person is None:
        person = Person.objects.create_user(
            email=email, full_name=full_name, trust=trust, staff_group=staff_group,
            job_title=job_title,
        )
        return person, True
    changed = []
    for field, value in (("full_name", full_name), ("trust", trust),
                         ("staff_group", staff_group), ("job_title", job_title)):
        if value and not getattr(person, field):
            setattr(person, field, value)
            changed.append(field)
    if changed:
        person.save(update_fields=changed)
    return person, False


def current_membership(*, person: Person, group: Group) -> Membership | None:
    """The person's applied or active membership of ``group``, or None."""
    return Membership.objects.filter(
        person=person, group=group, status__in=Membership.CURRENT_STATUSES
    ).first()


@transaction.atomic
def membership_apply(
    *, person: Person, group: Group, trust: Trust, staff_group: StaffGroup, note: str = "",
    source: str = Membership.Source.SITE,
) -> Membership:
    """Register ``person``'s interest in ``group``: an applied membership for the chairs to decide.

    The person's trust and staff group are updated to what they confirmed.

    Raises ValidationError if they already have an applied or active
    membership of the group (the database constraint
    ``membership_one_current_per_group`` backs this up under concurrency).
    """
    if not group.is_sig:
        raise ValidationError("Register interest in a SIG, not a task-and-finish group.")
    person.trust = trust
    person.staff_group = staff_group
    person.save(update_fields=["trust", "staff_group"])
    existing = current_membership(person=person, group=group)
    if existing is not None:
        active = existing.status == Membership.Status.ACTIVE
        state = "a member" if active else "waiting for a decision"
        raise ValidationError(f"You are already {state} in {group.name}.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                person=person, group=group, role=Membership.Role.MEMBER,
                status=Membership.Status.APPLIED, source=source, note=note.strip(),
            )
    except IntegrityError as exc:
        raise ValidationError(f"You have already registered interest in {group.name}.") from exc
    return membership


# Why an application can no longer be decided, by its status.
_ALREADY_DECIDED = {
    Membership.Status.ACTIVE: "This application has already been approved.",
    Membership.Status.DECLINED: "This application has already been declined.",
    Membership.Status.LEFT: "This application was withdrawn: the person has left the group.",
}


def _decide(*, membership: Membership, decided_by: Person, status: str) -> Membership:
    membership = Membership.objects.select_for_update().select_related(
        "person", "group").get(pk=membership.pk)
    if membership.status != Membership.Status.APPLIED:
        raise ValidationError(_ALREADY_DECIDED.get(
            membership.status, "This application has already been decided."))
    membership.status = status
    membership.decided_by = decided_by
    membership.decided_at = timezone.now()
    membership.save(update_fields=["status", "decided_by", "decided_at"])
    queue_email(render_email(
        "members/decision",
        {"membership": membership, "person": membership.person, "group": membership.group,
         "approved": status == Membership.Status.ACTIVE},
        to=membership.person.email,
    ), kind="decision", group=membership.group)
    return membership


@transaction.atomic
def membership_approve(*, membership: Membership, decided_by: Person) -> Membership:
    """Approve an application: status becomes active; the person is emailed.

    Raises ValidationError if the membership is not waiting for a decision.
    Other code (events) listens for newly active members through
    :data:`members.signals.membership_activated`.
    """
    from .signals import membership_activated

    membership = _decide(membership=membership, decided_by=decided_by,
                         status=Membership.Status.ACTIVE)
    membership_activated.send(sender=Membership, membership=membership)
    return membership


@transaction.atomic
def membership_decline(*, membership: Membership, decided_by: Person) -> Membership:
    """Decline an application; the person is emailed. ValidationError if already decided."""
    return _decide(membership=membership, decided_by=decided_by,
                   status=Membership.Status.DECLINED)


@transaction.atomic
def membership_leave(*, membership: Membership, ended_by: Person | None = None) -> Membership:
    """End a current membership (status ``left``).

    Sends :data:`members.signals.membership_ended` so that, for example,
    future meeting invitations can be withdrawn.
    Raises ValidationError if the membership is not current.

    A task-and-finish group's membership is ended by
    :func:`members.volunteering.volunteer_withdraw`, which also offers a
    freed place to the next person waiting.
    """
    from .signals import membership_ended
    from .volunteering import volunteer_withdraw

    if Group.objects.filter(pk=membership.group_id, kind=Group.Kind.TASK_AND_FINISH).exists():
        volunteer_withdraw(membership=membership, ended_by=ended_by)
        membership.refresh_from_db()
        return membership
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status not in Membership.CURRENT_STATUSES:
        raise ValidationError("This membership has already ended.")
    membership.status = Membership.Status.LEFT
    membership.ended_at = timezone.now()
    if ended_by is not None and ended_by.pk != membership.person_id:
        membership.decided_by = ended_by
        membership.decided_at = membership.ended_at
    membership.save(update_fields=["status", "ended_at", "decided_by", "decided_at"])
    membership_ended.send(sender=Membership, membership=membership)
    return membership


@transaction.atomic
def membership_appoint_chair(
    *, group: Group, person: Person, role: str = Membership.Role.CHAIR,
    appointed_by: Person | None = None,
) -> tuple[Membership, bool]:
    """Make ``person`` an active chair (or deputy chair) of ``group``.

    An applied membership is approved with the chair role; an active one has
    its role changed; otherwise a new active membership is created.
    Returns ``(membership, changed)``; ``changed`` is False when the person was
    already in that role (so running ``set_chair`` twice changes nothing).
    Raises ValidationError for a role that is not a chair role.
    """
    from .signals import membership_activated

    if role not in Membership.CHAIR_ROLES:
        raise ValidationError(f"{role!r} is not a chair role.")
    now = timezone.now()
    membership = (Membership.objects.select_for_update()
                  .filter(person=person, group=group, status__in=Membership.CURRENT_STATUSES)
                  .first())
    if membership and membership.status == Membership.Status.ACTIVE and membership.role == role:
        return membership, False
    if membership is None:
        membership = Membership(person=person, group=group, source=Membership.Source.APPOINTED)
    was_active = membership.status == Membership.Status.ACTIVE and membership.pk
    membership.role = role
    membership.status = Membership.Status.ACTIVE
    membership.decided_by = appointed_by
    membership.decided_at = now
    membership.save()
    if not was_active:
        membership_activated.send(sender=Membership, membership=membership)
    return membership, True


@transaction.atomic
def person_update_profile(
    *, person: Person, full_name: str, trust: Trust | None, staff_group: StaffGroup | None,
    job_title: str = "",
) -> Person:
    """Save the details a person keeps up to date themselves: name, job title, trust, staff group.

    ``full_name`` is stripped and must not be blank (ValidationError if it is).
    Returns the saved person.
    """
    full_name = (full_name or "").strip()
    if not full_name:
        raise ValidationError({"full_name": "Enter your full name"})
    person.full_name = full_name
    person.job_title = (job_title or "").strip()
    person.trust = trust
    person.staff_group = staff_group
    person.full_clean(exclude=["password", "calendar_token"])
    person.save(update_fields=["full_name", "job_title", "trust", "staff_group"])
    return person


@transaction.atomic
def person_reset_calendar_token(*, person: Person) -> Person:
    """Give ``person`` a new secret calendar feed token, so the old feed URL stops working.

    The new token comes from :func:`members.models.new_calendar_token`
    (32 URL-safe characters). Returns the saved person.
    """
    from .models import new_calendar_token

    person.calendar_token = new_calendar_token()
    person.save(update_fields=["calendar_token"])
    return person
