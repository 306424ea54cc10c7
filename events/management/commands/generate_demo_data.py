"""``manage.py generate_demo_data --scale N [--seed S] [--force]``: synthetic data."""

import time

from django.core.management.base import BaseCommand, CommandError

from events.demo import DEMO_DOMAIN, DemoRefused, demo_generate


class Command(BaseCommand):
    help = (
        "Write realistic synthetic data on top of the real network file: fake staff "
        f"(@{DEMO_DOMAIN}), SIG members and chairs, three years of meetings with agendas, "
        "papers, answers, attendance, minutes and actions, and task-and-finish volunteers. "
        "Scale 1 is about 600 staff and 3 SIGs; scale 10 is ten times that. The same seed "
        "gives the same data. Replaces earlier demo data; sends no mail. Refuses a database "
        "that holds real people unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0,
                            help="1 = today's network (default); 10 = ten times; 0.1 = a tenth")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--force", action="store_true",
                            help="write even though the database holds real people")

    def handle(self, *args, scale: float, seed: int, force: bool, **options):
        started = time.perf_counter()
        try:
            report = demo_generate(scale=scale, seed=seed, force=force)
        except (DemoRefused, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"  network office: {report.office}")
        for slug, email in list(report.chairs.items())[:3]:
            self.stdout.write(f"  chair of {slug}: {email}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data at scale {scale:g} (seed {seed}) written in "
            f"{time.perf_counter() - started:.1f} s."))
