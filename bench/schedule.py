"""Part 3: scheduling a meeting for a SIG with 1,000 active members, and sending the invitations.

``python -m bench.schedule [--members N] [--repeat R]`` (with ``MAIL_TRANSPORT=smtp``,
``EMAIL_HOST``/``EMAIL_PORT`` pointing at the local aiosmtpd server this
process starts, ``EMAIL_USE_TLS=0``, ``MAIL_RATE_PER_MINUTE=0``) adds a SIG
with N active members to a demo database, then measures (ms):

* ``request_ms``: the chair's POST of the schedule form through the test
  client until it returns (the meeting and N invitations written, the
  fan-out task queued; the emails are built and sent by the worker after
  commit), median of up to R (one more only while the samples so far took
  under 10 s);
* ``request_floor_ms``: the least such a request must write: one transaction
  inserting the meeting and bulk-inserting N invitation rows;
* ``worker_ms``: the fan-out task (``send_meeting_messages``: building the N
  invitations and writing N outbox rows), then the outbox worker's task
  (``send_outbox_message``, one per row, as ``db_worker`` runs them) handing
  all N to the SMTP server;
* ``sweep_ms``: the same N sent by ``outbox_send_due`` (one connection), when
  the worker took under 20 s (else None);
* ``worker_floor_ms``: the same N messages, already built, handed to the
  server by Django's SMTP backend over one connection (no database).

The SIG, its members and meetings are deleted afterwards.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.common import median_ms

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_bench%40thread.v2/0"


class _Counter:
    """aiosmtpd handler: accept every message, count them."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.count += 1
        return "250 OK"


def _setup(members: int):
    from events.demo import DEMO_DOMAIN, DEMO_SLUG_PREFIX
    from members.models import Group, Membership, Person, Trust

    _cleanup()
    group = Group.objects.create(kind=Group.Kind.SIG, slug=f"{DEMO_SLUG_PREFIX}bench-schedule",
                                 name="Benchmark Scheduling")
    trusts = list(Trust.objects.all())
    people = Person.objects.bulk_create([
        Person(email=f"bench.schedule{n}@{DEMO_DOMAIN}", full_name=f"Bench Member {n}",
               trust=trusts[n % len(trusts)], calendar_token=f"bench-schedule-{n}",
               password="!bench")  # noqa: S106 - an unusable password
        for n in range(members + 1)
    ])
    Membership.objects.bulk_create([
        Membership(person=person, group=group, status=Membership.Status.ACTIVE,
                   role=Membership.Role.CHAIR if n == 0 else Membership.Role.MEMBER)
        for n, person in enumerate(people)
    ])
    return group, people[0]


def _cleanup():
    from events.demo import DEMO_DOMAIN, DEMO_SLUG_PREFIX
    from members.models import Group, OutboxMessage, Person

    OutboxMessage.objects.filter(group__slug=f"{DEMO_SLUG_PREFIX}bench-schedule").delete()
    Group.objects.filter(slug=f"{DEMO_SLUG_PREFIX}bench-schedule").delete()
    Person.objects.filter(email__startswith="bench.schedule",
                          email__endswith=f"@{DEMO_DOMAIN}").delete()


def _form(day) -> dict:
    return {"title": "Benchmark meeting", "date_day": str(day.day),
            "date_month": str(day.month), "date_year": str(day.year),
            "start_time": "10:00", "end_time": "11:00", "teams_url": TEAMS}


def _request_floor(group, members: int) -> float:
    """One transaction writing the meeting and ``members`` invitation rows (ms); rolled back.

    What the request itself must write: the outbox rows (one message each) are
    written by the fan-out task after commit, and counted in the worker's time.
    """
    from django.db import transaction
    from django.utils import timezone

    from events.models import Invitation, Meeting
    from members.models import Membership

    people = list(Membership.objects.filter(group=group).values_list("person_id", flat=True))

    class Rollback(Exception):
        pass

    def write():
        try:
            with transaction.atomic():
                now = timezone.now()
                meeting = Meeting.objects.create(
                    group=group, title="Floor", start=now + timedelta(days=30),
                    end=now + timedelta(days=30, hours=1), teams_url=TEAMS)
                Invitation.objects.bulk_create(
                    [Invitation(meeting=meeting, person_id=pk) for pk in people])
                raise Rollback
        except Rollback:
            pass

    return median_ms(write, repeat=3)


def compute(argv: list[str]) -> dict:
    """Timings of :mod:`bench.schedule` (ms) and the number of messages the server got."""
    import argparse

    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.core.mail import get_connection
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from members.mail import outbox
    from members.models import OutboxMessage

    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    # No setup_test_environment(): it would swap the SMTP mailer for locmem.
    group, chair = _setup(args.members)
    client = Client()
    client.force_login(chair)
    url = reverse("events:meeting_schedule", kwargs={"slug": group.slug})
    times = []
    try:
        for n in range(args.repeat):
            day = (timezone.now() + timedelta(days=30 + n)).date()
            started = time.perf_counter()
            response = client.post(url, _form(day))
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.content[:2000]
            if sum(times) > 10_000:  # slow enough that one more sample adds only minutes
                break
        times.sort()
        request_ms = times[len(times) // 2]
        last = group.meetings.order_by("-pk").first()
        # The request only enqueued the fan-out (TASK_BACKEND=database): the worker's
        # first job is to make and queue the messages of the last meeting.
        from events import services

        started = time.perf_counter()
        services.send_meeting_messages.call(last.pk, "new", last.sequence,
                                            last.updated_at.isoformat(), [])
        fan_out_ms = (time.perf_counter() - started) * 1000
        rows = OutboxMessage.objects.filter(key__contains=last.uid)
        queued = rows.count()
        message_bytes = len(str(rows.first().message)) if queued else 0
        # Only the last meeting's invitations are sent; the earlier ones' are dropped.
        OutboxMessage.objects.filter(group=group).exclude(key__contains=last.uid).delete()
        request_floor_ms = _request_floor(group, args.members)

        handler = _Counter()
        server = Controller(handler, hostname="127.0.0.1",
                            port=int(settings.MAILERS["default"]["OPTIONS"]["port"]))
        server.start()
        try:
            pks = list(rows.order_by("pk").values_list("pk", flat=True))
            messages = [outbox.build_outbox_message(row) for row in rows.order_by("pk")]
            started = time.perf_counter()
            for pk in pks:
                outbox.send_outbox_message.call(pk)
            worker_ms = fan_out_ms + (time.perf_counter() - started) * 1000
            sent_by_worker = handler.count
            sweep_ms, swept = None, None
            if worker_ms < 20_000:  # the sweep only when it costs little: it sends them all again
                rows.update(status=OutboxMessage.Status.QUEUED, sent_at=None,
                            next_attempt_at=timezone.now() - timedelta(seconds=1))
                started = time.perf_counter()
                swept = outbox.outbox_send_due(batch_size=len(pks)).sent
                sweep_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            mailer = get_connection()
            mailer.send_messages(messages)
            mailer.close()
            worker_floor_ms = (time.perf_counter() - started) * 1000
        finally:
            server.stop()
        return {"members": args.members, "database": connection.vendor,
                "request_ms": request_ms, "request_times_ms": times,
                "request_floor_ms": request_floor_ms, "queued": queued,
                "message_chars": message_bytes, "worker_ms": worker_ms,
                "sent_by_worker": sent_by_worker, "sweep_ms": sweep_ms,
                "sweep_sent": swept, "worker_floor_ms": worker_floor_ms,
                "fan_out_ms": fan_out_ms,
                "server_received": handler.count}
    finally:
        _cleanup()


if __name__ == "__main__":
    from bench.common import part_main

    part_main(compute)
