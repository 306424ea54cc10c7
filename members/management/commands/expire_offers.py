"""``manage.py expire_offers``: pass expired offers of task-and-finish places to the next person.

Run it hourly (cron). Safe to re-run: an offer expires once.
"""

from django.core.management.base import BaseCommand

from members.volunteering import volunteer_offers_expire


class Command(BaseCommand):
    help = ("Expire offers of task-and-finish places not confirmed in time (VOLUNTEER_OFFER_DAYS) "
            "and offer each place to the next person waiting. Run hourly.")

    def handle(self, *args, **options):
        expired = volunteer_offers_expire()
        for membership in expired:
            self.stdout.write(f"Expired: {membership.person.email} in {membership.group.slug}")
        self.stdout.write(f"{len(expired)} offer{'s' if len(expired) != 1 else ''} expired.")
