"""Concurrent sign-ups and withdrawals for a task-and-finish group's places.

Each job runs in its own thread with its own database connection, all released
together by a barrier. On PostgreSQL (CI runs the suite there too) they really
run at once and only the group row lock (``SELECT ... FOR UPDATE`` in
members.volunteering) keeps the count right. SQLite has one writer at a time
and its in-memory test database cannot take concurrent writers, so there the
jobs take turns through a lock: the same code and the same assertions, without
the race.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from django.db import connection

from members import volunteering
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, RecruitingGroupFactory, SIGFactory

S = Membership.Status
ON_POSTGRES = connection.vendor == "postgresql"


def run_at_once(jobs) -> tuple[list[BaseException], list[float]]:
    """Run each job in its own thread, all released together.

    Returns the errors raised and, per job, the moment it returned
    (``time.monotonic()``), in job order.
    """
    gate = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []
    finished = [0.0] * len(jobs)

    def worker(index, job):
        from django.db import connection as thread_connection
        try:
            barrier.wait(timeout=60)
            with gate:
                job()
            finished[index] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors, finished


@pytest.mark.django_db(transaction=True)
def test_fifty_sign_ups_at_once_for_five_places(capsys):
    """50 threads for 5 places: exactly 5 participants and 45 waiting, in arrival order."""
    group = RecruitingGroupFactory(parent=SIGFactory(), places=5)
    people = [PersonFactory(email=f"rush{n}@nhs.net") for n in range(50)]

    errors, _ = run_at_once([
        (lambda person=person: volunteering.volunteer_sign_up(
            person=person, group=group, statement="Happy to help.", line_manager_aware=True))
        for person in people
    ])

    assert errors == []
    memberships = list(Membership.objects.filter(group=group).order_by("pk"))
    assert len(memberships) == 50
    active = [m for m in memberships if m.status == S.ACTIVE]
    waiting = [m for m in memberships if m.status == S.WAITING]
    assert (len(active), len(waiting)) == (5, 45)
    # Arrival order is the order the group lock was granted: each sign-up is
    # stamped (applied_at) and inserted (pk) while holding it. The first five to
    # arrive have the places; the list is in arrival order, one stamp each.
    arrival = sorted(memberships, key=lambda m: (m.applied_at, m.pk))
    assert arrival == memberships  # stamps and ids agree on the order
    assert {m.pk for m in arrival[:5]} == {m.pk for m in active}
    queue = sorted(waiting, key=lambda m: (m.waitlisted_at, m.pk))
    assert queue == arrival[5:]
    assert len({m.waitlisted_at for m in waiting}) == 45
    with capsys.disabled():
        print(f"\n[{connection.vendor}] 50 sign-ups at once for 5 places: "
              f"{len(active)} participants, {len(waiting)} waiting; "
              f"waiting list order == arrival order: {queue == arrival[5:]}")


@pytest.mark.django_db(transaction=True)
def test_twenty_withdrawals_at_once_offer_each_freed_place_once(capsys):
    """20 participants withdraw at once with 25 waiting: 20 offers, to the first 20, once each."""
    group = RecruitingGroupFactory(parent=SIGFactory(), places=20)
    for n in range(45):
        volunteering.volunteer_sign_up(
            person=PersonFactory(email=f"v{n:02d}@nhs.net"), group=group,
            statement="Happy to help.", line_manager_aware=True)
    participants = list(Membership.objects.filter(group=group, status=S.ACTIVE))
    queue = list(Membership.objects.filter(group=group, status=S.WAITING)
                 .order_by("waitlisted_at", "pk").values_list("pk", flat=True))
    assert (len(participants), len(queue)) == (20, 25)

    errors, _ = run_at_once([
        (lambda m=m: volunteering.volunteer_withdraw(membership=m)) for m in participants
    ])

    assert errors == []
    offered = list(Membership.objects.filter(group=group, status=S.OFFERED)
                   .values_list("pk", flat=True))
    still_waiting = list(Membership.objects.filter(group=group, status=S.WAITING)
                         .order_by("waitlisted_at", "pk").values_list("pk", flat=True))
    assert sorted(offered) == sorted(queue[:20])  # never double-filled, none unoffered
    assert still_waiting == queue[20:]
    assert volunteering.places_held(group) == 20
    with capsys.disabled():
        print(f"\n[{connection.vendor}] 20 withdrawals at once: {len(offered)} offers to the "
              f"first 20 waiting, {len(still_waiting)} still waiting in order")


@pytest.mark.django_db(transaction=True)
def test_withdrawals_racing_a_cap_raise_and_new_sign_ups_never_overfill():
    """Withdrawals, sign-ups and a cap raise all at once: places held never exceed the cap."""
    sig = SIGFactory()
    lead = MembershipFactory(group=sig).person
    group = RecruitingGroupFactory(parent=sig, places=5)
    volunteering.membership_appoint_lead(group=group, person=lead)
    for _ in range(10):
        volunteering.volunteer_sign_up(person=PersonFactory(), group=group,
                                       statement="Happy to help.", line_manager_aware=True)
    leaving = list(Membership.objects.filter(group=group, status=S.ACTIVE,
                                             role=Membership.Role.MEMBER))[:3]
    newcomers = [PersonFactory() for _ in range(6)]
    jobs = [(lambda m=m: volunteering.volunteer_withdraw(membership=m)) for m in leaving]
    jobs += [(lambda p=p: volunteering.volunteer_sign_up(
        person=p, group=group, statement="Me too.", line_manager_aware=True)) for p in newcomers]
    jobs.append(lambda: volunteering.group_update_recruitment(
        group=group, places=7, signup_closes=None, requires_approval=False, hours_per_month=2,
        changed_by=lead))

    errors, _ = run_at_once(jobs)

    assert errors == []
    assert volunteering.places_held(group) == 7
    # Whoever holds a place (or an offer) arrived before everyone still waiting.
    holders = Membership.objects.filter(group=group, status=S.OFFERED)
    waiting = Membership.objects.filter(group=group, status=S.WAITING)
    if holders and waiting:
        assert max(m.waitlisted_at for m in holders) < min(m.waitlisted_at for m in waiting)
