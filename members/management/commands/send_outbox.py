"""``manage.py send_outbox``: send every due message in the outbox, and recover stuck ones.

The worker (``db_worker``) sends each message as soon as the change that
caused it commits; this command is the safety net, run every minute from cron:
it sends messages whose retry or rate-limit slot has come (``queued`` or
``retrying`` with ``next_attempt_at`` passed), most urgent first, over one
connection, and sends again (same Message-ID) messages left ``sending`` by a
worker that died more than ``MAIL_SENDING_STALE_MINUTES`` ago. Safe to re-run
and to run alongside workers: every message is claimed under a row lock.
"""

from django.core.management.base import BaseCommand

from members.mail.outbox import outbox_send_due


class Command(BaseCommand):
    help = ("Send the outbox's due messages (retries, rate-limited, left by a dead worker) "
            "over one connection. Run every minute from cron.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None,
                            help="At most this many messages (default MAIL_BATCH_SIZE).")
        parser.add_argument("--until-empty", action="store_true",
                            help="Repeat until nothing is due now (e.g. after an outage).")

    def handle(self, *args, batch_size=None, until_empty=False, **options):
        total: dict[str, int] = {}
        while True:
            report = outbox_send_due(batch_size=batch_size)
            for name, value in report.as_dict().items():
                total[name] = total.get(name, 0) + value
            for error in dict.fromkeys(report.errors):
                self.stderr.write(f"Error: {error}")
            # Stop when nothing went out: the rest wait for a retry or rate-limit slot.
            if not until_empty or report.sent == 0:
                break
        self.stdout.write(", ".join(f"{value} {name}" for name, value in total.items()))
