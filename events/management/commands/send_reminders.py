"""``manage.py send_reminders``: email the reminders that are due (run it hourly).

Calls :func:`events.reminders.reminders_send_due`: each scheduled meeting
starting within ``MEETING_REMINDER_DAYS`` days gets one reminder per
attending or not-yet-answered invitee, once per meeting start. Safe to run
as often as you like: a reminder already sent for a meeting's start is not
sent again. The emails are sent by the task worker once queued.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from events.actions import actions_send_overdue_reminders
from events.reminders import reminders_send_due
from events.services import meeting_messages_resend_missing


class Command(BaseCommand):
    help = (
        "Email a reminder, with the joining details, to everyone attending or not yet "
        "answered for each meeting starting within MEETING_REMINDER_DAYS days. Each "
        "person is reminded once per meeting time; safe to run hourly from cron."
    )

    def handle(self, *args, **options) -> None:
        # Overdue actions are reminded whatever MEETING_REMINDER_DAYS says.
        resent = meeting_messages_resend_missing()
        if resent:
            self.stdout.write(f"Sent again the invitations of {resent} meeting"
                              f"{'s' if resent != 1 else ''} whose sending had not finished.")
        overdue = actions_send_overdue_reminders()
        if overdue:
            self.stdout.write(
                f"Queued {overdue} overdue action reminder{'s' if overdue != 1 else ''}.")
        days = settings.MEETING_REMINDER_DAYS
        if days <= 0:
            self.stdout.write("Reminders are turned off (MEETING_REMINDER_DAYS is 0).")
            return
        count = reminders_send_due()
        self.stdout.write(
            f"Queued {count} reminder{'s' if count != 1 else ''} for meetings in the next "
            f"{days} day{'s' if days != 1 else ''}.")
