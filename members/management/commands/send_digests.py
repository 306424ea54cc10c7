"""``manage.py send_digests``: the weekly digest of notices, one message per person.

Run it weekly from cron (e.g. ``0 7 * * 1`` for Monday at 07:00). Every notice
held for a person who chose "in a weekly digest" for a group goes into one
message, grouped by group; the notices are then marked as sent in it, so
re-running sends nothing more. It only queues the messages: the worker sends
them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from members.mail.notices import digests_send


class Command(BaseCommand):
    help = (
        "Queue the weekly digest: one message per person with every notice held for them "
        "(people who chose a weekly digest for a group). Safe to re-run: notices already "
        "sent in a digest are not sent again."
    )

    def handle(self, *args, **options) -> None:
        run = digests_send()
        self.stdout.write(
            f"{run.messages} digest{'s' if run.messages != 1 else ''} queued with "
            f"{run.items} notice{'s' if run.items != 1 else ''}.")
