"""The per-transport rate limit (NHSmail: about 30 messages a minute), paced by an injected clock.

Nothing sleeps: the outbox reads time from ``members.mail.outbox.clock``,
which these tests replace with a clock they move by hand.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from members.mail import OutgoingEmail, queue_email
from members.mail import outbox as outbox_module
from members.mail.models import OutboxMessage
from members.mail.outbox import outbox_send_due, rate_limit_slot

from .mail_helpers import FakeClock

pytestmark = pytest.mark.django_db(transaction=True)

S = OutboxMessage.Status
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def clock(monkeypatch, settings):
    settings.MAIL_TRANSPORT = "smtp"
    settings.MAIL_RATE_PER_MINUTE = 30
    fake = FakeClock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(outbox_module, "clock", fake)
    return fake


def queue_many(count: int, kind: str = "invitation") -> None:
    with transaction.atomic():
        for i in range(count):
            queue_email(OutgoingEmail(to=f"member{i:03d}@nhs.net", subject=f"Invitation {i}",
                                      text="Hello\n"), kind=kind, key=f"rate:{kind}:{i}")


def test_100_messages_at_30_a_minute_are_paced_not_dropped(clock, settings, record_property):
    settings.TASKS = DUMMY_TASKS
    start = clock.now
    queue_many(100)

    runs = []
    while OutboxMessage.objects.exclude(status=S.SENT).exists():
        report = outbox_send_due()
        runs.append((clock.now - start, report.sent, report.deferred))
        assert report.failed == report.retrying == 0
        waiting = OutboxMessage.objects.filter(status__in=OutboxMessage.PENDING)
        if waiting.exists():  # the worker's next run: when the first waiting row is due
            clock.set(min(waiting.values_list("next_attempt_at", flat=True)))
        assert len(runs) < 10

    assert [(elapsed.total_seconds(), sent) for elapsed, sent, _ in runs] == [
        (0, 30), (60, 30), (120, 30), (180, 10)]
    assert [deferred for _, _, deferred in runs] == [70, 40, 10, 0]
    sent_at = sorted(OutboxMessage.objects.values_list("sent_at", flat=True))
    assert len(sent_at) == len(mail.outbox) == 100
    # In any rolling minute, at most 30.
    for i, moment in enumerate(sent_at):
        assert sum(1 for t in sent_at[i:] if t < moment + timedelta(minutes=1)) <= 30
    # Deferral is waiting, not trying: every message went on its first attempt.
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    pace = (sent_at[-1] - sent_at[0]).total_seconds()
    record_property("paced_seconds_for_100_at_30_per_minute", pace)
    print(f"\n100 messages at 30/minute: last sent {pace:.0f} s after the first "
          f"(30 + 30 + 30 + 10 at 0, 60, 120, 180 s)")


def test_the_limit_holds_for_messages_sent_by_the_task_as_they_are_queued(clock, settings):
    """The immediate path (one task per message) honours the same limit: 30 go, 70 wait."""
    queue_many(100)
    assert len(mail.outbox) == 30
    waiting = OutboxMessage.objects.filter(status=S.QUEUED)
    assert waiting.count() == 70
    assert set(waiting.values_list("next_attempt_at", flat=True)) == {
        clock.now + timedelta(minutes=1)}
    assert set(waiting.values_list("attempts", flat=True)) == {0}


def test_a_sign_in_code_goes_first_when_the_next_slot_comes(clock, settings):
    settings.TASKS = DUMMY_TASKS
    queue_many(60, kind="notice")
    assert outbox_send_due().sent == 30
    clock.advance(seconds=10)
    with transaction.atomic():
        queue_email(OutgoingEmail(to="code@nhs.net", subject="Your sign-in code", text="123456"),
                    kind="sign_in")
    report = outbox_send_due()
    assert report.sent == 0 and report.deferred == 1
    clock.advance(seconds=50)
    outbox_send_due()
    assert mail.outbox[30].to == ["code@nhs.net"]
    code = OutboxMessage.objects.get(kind="sign_in")
    assert code.sent_at - code.created_at == timedelta(seconds=50)


def test_the_limit_is_per_transport_and_zero_turns_it_off(clock, settings):
    settings.TASKS = DUMMY_TASKS
    queue_many(40)
    assert outbox_send_due().sent == 30
    settings.MAIL_TRANSPORT = "graph"  # another transport has its own count
    assert rate_limit_slot("graph", clock.now) is None
    assert rate_limit_slot("smtp", clock.now) == clock.now + timedelta(minutes=1)
    settings.MAIL_RATE_PER_MINUTE = 0
    assert rate_limit_slot("smtp", clock.now) is None
    clock.advance(minutes=1)
    queue_many(50, kind="notice")
    assert outbox_send_due().sent == 60  # no limit: the 10 waiting and 50 more at once
